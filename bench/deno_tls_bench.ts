/**
 * Which TLS server API should Corral use under Deno: Deno.listenTls or node:tls? Issue 12 asks for
 * the faster one. A bare responder (bench/deno_tls_responder.ts) runs under Deno in each mode, in
 * alternating rounds; this process (any runtime) drives it over TLS with pipelined 40-byte requests
 * answered with 1 KiB each, and charges the responder's CPU (/proc/<pid>/stat) to the replies.
 * Writes bench/DENO_TLS.md.
 *
 *   node --import tsx bench/deno_tls_bench.ts [--rounds R] [--seconds S] [--out bench/DENO_TLS.md]
 *
 * Excluded: everything a ZooKeeper server does besides the socket and TLS work (parsing, the tree,
 * the log); that cost is the same in both modes. The load generator shares the machine's two cores.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { formatCount, formatFigure, renderTable } from "./markdown_table.ts";
import { processCpuMicros } from "./process_cpu.ts";
import { runtimeVersion } from "./vs_zookeeper_targets.ts";
import { runtimeCommand } from "../tests/support/corral_process.ts";
import { makeTlsCerts, type TlsCerts } from "../tests/support/tls_certs.ts";
import { repoRoot } from "../tests/support/runtime.ts";

const REQUEST_BYTES = 40;
const REPLY_BYTES = 1024;
const CONNECTIONS = 4;
const OUTSTANDING = 64;
const MODES = ["deno", "node"] as const;
type Mode = (typeof MODES)[number];
const MODE_NAMES: Record<Mode, string> = { deno: "Deno.listenTls", node: "node:tls createServer" };
/** The TLS versions the connections negotiated (reported, not assumed). */
const protocols = new Set<string>();

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number, got ${process.argv[index + 1]}`);
  return value;
}

interface Responder {
  pid: number;
  port: number;
  stop(): void;
}

function startResponder(mode: Mode, certs: TlsCerts): Promise<Responder> {
  const [command, ...prefix] = runtimeCommand("deno");
  const child = spawn(command!, [
    ...prefix,
    `${repoRoot()}/bench/deno_tls_responder.ts`,
    "--mode", mode, "--key", certs.serverKey, "--cert", certs.serverCert, "--reply-bytes", String(REPLY_BYTES),
  ], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the ${mode} responder did not start within 60 s`));
    }, 60_000);
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const port = /listening on (\d+)/.exec(output)?.[1];
      if (port === undefined) return;
      clearTimeout(timer);
      resolve({ pid: child.pid!, port: Number(port), stop: () => child.kill("SIGKILL") });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${mode} responder exited (${code}) before listening`));
    });
  });
}

/** Keeps OUTSTANDING requests in flight on each connection for `ms`; resolves with the replies counted. */
async function drive(port: number, certs: TlsCerts, ms: number): Promise<number> {
  const request = new Uint8Array(4 + REQUEST_BYTES);
  new DataView(request.buffer).setUint32(0, REQUEST_BYTES);
  const replyFrame = 4 + REPLY_BYTES;
  const ca = certs.read(certs.caCert);
  let replies = 0;
  let running = true;
  const sockets: TLSSocket[] = [];
  await Promise.all(Array.from({ length: CONNECTIONS }, () =>
    new Promise<void>((resolve, reject) => {
      const socket = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
        protocols.add(socket.getProtocol() ?? "unknown");
        for (let i = 0; i < OUTSTANDING; i++) socket.write(request);
        resolve();
      });
      sockets.push(socket);
      let pending = 0;
      socket.on("data", (chunk: Buffer) => {
        pending += chunk.length;
        const whole = Math.floor(pending / replyFrame);
        pending -= whole * replyFrame;
        if (running) replies += whole;
        if (running) for (let i = 0; i < whole; i++) socket.write(request);
      });
      socket.once("error", reject);
    })));
  const before = replies;
  await new Promise((resolve) => setTimeout(resolve, ms));
  running = false;
  for (const socket of sockets) socket.destroy();
  return replies - before;
}

interface Sample {
  opsPerSecond: number;
  cpuMicrosPerOp: number;
  /** This process's own CPU per reply: the load generator must not be the limit. */
  loadCpuMicrosPerOp: number;
}

async function measure(mode: Mode, certs: TlsCerts, seconds: number): Promise<Sample> {
  const responder = await startResponder(mode, certs);
  try {
    await drive(responder.port, certs, 1000); // warm-up
    const cpuBefore = processCpuMicros(responder.pid);
    const loadBefore = process.cpuUsage();
    const started = performance.now();
    const replies = await drive(responder.port, certs, seconds * 1000);
    const elapsed = performance.now() - started;
    const cpu = processCpuMicros(responder.pid) - cpuBefore;
    const load = process.cpuUsage(loadBefore);
    return { opsPerSecond: (replies * 1000) / elapsed, cpuMicrosPerOp: cpu / replies, loadCpuMicrosPerOp: (load.user + load.system) / replies };
  } finally {
    responder.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  const rounds = option("--rounds", 5);
  const seconds = option("--seconds", 4);
  const outIndex = process.argv.indexOf("--out");
  const out = outIndex < 0 ? `${repoRoot()}/bench/DENO_TLS.md` : process.argv[outIndex + 1]!;
  const certs = makeTlsCerts();
  const samples: Record<Mode, Sample[]> = { deno: [], node: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      // Alternating order: A B, B A, ...
      const order = round % 2 === 0 ? MODES : [...MODES].reverse();
      for (const mode of order) {
        const sample = await measure(mode, certs, seconds);
        samples[mode].push(sample);
        console.error(`round ${round + 1}: ${mode} ${formatCount(sample.opsPerSecond)} replies/s, ${formatFigure(sample.cpuMicrosPerOp)} µs/reply`);
      }
    }
  } finally {
    certs.remove();
  }
  const range = (values: number[], format: (value: number) => string) =>
    `${format(Math.min(...values))} – ${format(Math.max(...values))}`;
  const table = renderTable({
    title: "Deno: TLS responder, server CPU per 1 KiB reply",
    note: `${rounds} alternating rounds of ${seconds} s (after 1 s of warm-up each), ${CONNECTIONS} TLS connections × ` +
      `${OUTSTANDING} requests of ${REQUEST_BYTES} bytes in flight (negotiated: ${[...protocols].join(", ")}), each answered with ${REPLY_BYTES} bytes. ` +
      "Medians, then the range over the rounds.",
    columns: ["server API", "replies/s", "replies/s range", "responder CPU µs/reply", "CPU range", "load generator CPU µs/reply"],
    rows: MODES.map((mode) => {
      const ops = samples[mode].map((sample) => sample.opsPerSecond);
      const cpu = samples[mode].map((sample) => sample.cpuMicrosPerOp);
      const load = samples[mode].map((sample) => sample.loadCpuMicrosPerOp);
      return [MODE_NAMES[mode], formatCount(median(ops)), range(ops, formatCount), formatFigure(median(cpu)), range(cpu, formatFigure), formatFigure(median(load))];
    }),
  });
  const cpuOf = (mode: Mode) => samples[mode].map((sample) => sample.cpuMicrosPerOp);
  const [low, high] = median(cpuOf("deno")) < median(cpuOf("node")) ? ["deno", "node"] as const : ["node", "deno"] as const;
  const separated = Math.max(...cpuOf(low)) < Math.min(...cpuOf(high));
  const verdict = separated
    ? `Lower CPU per reply, in every round: ${MODE_NAMES[low]}.`
    : `Lower median CPU per reply: ${MODE_NAMES[low]}, but the rounds' ranges overlap: no clear difference.`;
  const text = [
    "# Deno: Deno.listenTls or node:tls for Corral's TLS port",
    "",
    `Written by \`node --import tsx bench/deno_tls_bench.ts\` on ${new Date().toISOString().slice(0, 10)} ` +
    `(${cpus().length} cores, ${cpus()[0]?.model ?? "unknown CPU"}), responder on ${runtimeVersion("deno")}, load generator on ${process.release.name} ${process.version}.`,
    "",
    table,
    "",
    verdict,
    "",
  ].join("\n");
  writeFileSync(out, text);
  console.log(text);
}

await main();

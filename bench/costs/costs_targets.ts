/**
 * The servers the costs benchmarks measure. Over TCP each is its own process on 127.0.0.1 (`corral
 * serve` under the runtime running the bench, or Apache ZooKeeper 3.8 standalone), so its CPU time
 * and resident memory come from the OS's accounting of that process alone. Over the in-memory
 * transport the server runs inside the bench process, and its CPU and memory are the process's,
 * clients included. Every server allows unlimited connections from one address (maxClientCnxns=0)
 * and keeps its data in memory (Corral without --data-dir, ZooKeeper with forceSync=no), so the
 * figures are about watches and sessions, not fsync.
 */
import { pid } from "node:process";
import { fourLetterWord } from "../../tests/support/four_letter_word.ts";
import { startCorralProcess } from "../../tests/support/corral_process.ts";
import { startRealZooKeeper } from "../../tests/support/real_zookeeper.ts";
import { startServer } from "../../src/driver/start_server.ts";
import { MemoryNetwork } from "../../src/transport/memory.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { processCpuMicros } from "../process_cpu.ts";
import { cpuMicros, runtimeInfo } from "../runtime_info.ts";
import { processRssBytes } from "./process_memory.ts";

export interface CostsTarget {
  /** "Corral (Node 20.20.2, own process, TCP)", "Apache ZooKeeper 3.8.0 (own process, TCP)". */
  label: string;
  network: "tcp" | "memory";
  connectString: string;
  /** The transport clients must use; undefined: the runtime's TCP transport. */
  clientTransport?: Transport;
  /** True when the server shares this process, so CPU and memory figures include the clients'. */
  shared: boolean;
  /** CPU time (user + system) of the server's process, in µs; NaN when unavailable. */
  cpuMicros(): number;
  /** The step of cpuMicros: one clock tick (10 ms) for /proc, 1 µs for this process. */
  cpuResolutionMicros: number;
  /** Resident memory of the server's process, in bytes; NaN when unavailable. */
  rssBytes(): number;
  /** Data watches the server holds (ZooKeeper's `wchs` "Total watches"), or null if it cannot say. */
  watchCount(): Promise<number | null>;
  /** Requests the server has received since it started (`srvr` "Received"), or null if it cannot say. */
  packetsReceived(): Promise<number | null>;
  /** Stops the server; safe to call twice. */
  stop(): Promise<void>;
}

const FOUR_LETTER_TIMEOUT_MS = 10_000;
/** One clock tick (USER_HZ is 100 on every common Linux): the step of /proc/<pid>/stat CPU times. */
const PROC_CPU_RESOLUTION_MICROS = 10_000;

/** `corral serve` as a child process under the runtime running this code, in memory, no connection limit. */
export async function startCorralTcpTarget(): Promise<CostsTarget> {
  const server = await startCorralProcess({
    args: ["--max-client-cnxns", "0", "--4lw", "wchs,srvr,ruok"],
    // Deno type-checks on its first run; Bun and Node start in a second or two.
    startTimeoutMs: 120_000,
  });
  return processTarget(`Corral (${runtimeInfo().label}, own process, TCP)`, server);
}

/** A Corral server inside this process on a MemoryNetwork: no sockets, no file descriptors. */
export async function startCorralMemoryTarget(): Promise<CostsTarget> {
  const network = new MemoryNetwork();
  const server = await startServer({ transport: network.transport("server"), port: 0, maxClientCnxns: 0 });
  let stopped = false;
  return {
    label: `Corral (${runtimeInfo().label}, in process, in-memory transport)`,
    network: "memory",
    connectString: `server:${server.port}`,
    clientTransport: network.transport("client"),
    shared: true,
    cpuMicros: () => cpuMicros(),
    cpuResolutionMicros: 1,
    rssBytes: () => processRssBytes(pid),
    watchCount: () => Promise.resolve(server.server.status().dataWatchTotal),
    packetsReceived: () => Promise.resolve(parseSrvrReceived(server.fourLetterWord("srvr"))),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.close();
    },
  };
}

/** Apache ZooKeeper 3.8 standalone with the JVM's default flags, maxClientCnxns=0 and forceSync=no. */
export async function startZooKeeperCostsTarget(): Promise<CostsTarget> {
  const server = await startRealZooKeeper({
    extraConfig: { maxClientCnxns: "0", forceSync: "no" },
    jvmFlags: [],
    startTimeoutMs: 60_000,
  });
  let version = "3.8";
  try {
    const srvr = await fourLetterWord(server.host, server.port, "srvr", FOUR_LETTER_TIMEOUT_MS);
    version = /Zookeeper version: ([\d.]+)/.exec(srvr)?.[1] ?? version;
  } catch {
    // The label just says 3.8.
  }
  return processTarget(`Apache ZooKeeper ${version} (own process, TCP)`, server);
}

/** "Total watches:N" of a `wchs` reply; null when the server does not answer or says something else. */
/** A server in its own process: CPU and RSS from /proc, watches and requests from its 4lw. */
function processTarget(
  label: string,
  server: { pid: number; host: string; port: number; connectString: string; stop(): Promise<void> },
): CostsTarget {
  return {
    label,
    network: "tcp",
    connectString: server.connectString,
    shared: false,
    cpuMicros: () => processCpuMicros(server.pid),
    cpuResolutionMicros: PROC_CPU_RESOLUTION_MICROS,
    rssBytes: () => processRssBytes(server.pid),
    watchCount: () => wchsTotal(server.host, server.port),
    packetsReceived: () => srvrReceived(server.host, server.port),
    stop: () => server.stop(),
  };
}

export function parseWchsTotal(reply: string): number | null {
  const match = /Total watches:\s*(\d+)/.exec(reply);
  return match === null ? null : Number(match[1]);
}

/** "Received: N" of a `srvr` reply; null when absent. */
export function parseSrvrReceived(reply: string): number | null {
  const match = /^Received:\s*(\d+)$/m.exec(reply);
  return match === null ? null : Number(match[1]);
}

async function srvrReceived(host: string, port: number): Promise<number | null> {
  try {
    return parseSrvrReceived(await fourLetterWord(host, port, "srvr", FOUR_LETTER_TIMEOUT_MS));
  } catch {
    return null;
  }
}

async function wchsTotal(host: string, port: number): Promise<number | null> {
  try {
    return parseWchsTotal(await fourLetterWord(host, port, "wchs", FOUR_LETTER_TIMEOUT_MS));
  } catch {
    return null;
  }
}

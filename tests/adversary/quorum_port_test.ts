/**
 * Strangers on a follower's quorum port (issue 10 item 8), against a real 3-member ensemble of
 * `corral serve` processes on 127.0.0.1. Before a connection has named itself as a member that may
 * use it, the member reads at most a few KiB from it (src/driver/peer_handshake.ts): junk, a huge
 * length prefix (dribbled or followed by 100+ MB), an unknown server id, and an over-limit frame
 * after a hello that claims a member's id are all closed at once; a silent connection is closed
 * after the hello timeout (5 s). Ten connections each claiming 120 MB and sending 110 MB leave the
 * follower's RSS (/proc/<pid>/status VmRSS) within a generous margin, and afterwards a write
 * through every member succeeds.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "../../src/client/mod.ts";
import { encodePeerFrame, PEER_PROTOCOL_VERSION } from "../../src/wire/peer_codec.ts";
import { createAcknowledged } from "../support/acknowledged_create.ts";
import { bounded, type EnsembleMember, ProcessEnsemble } from "../support/ensemble_processes.ts";
import { runtime } from "../support/runtime.ts";

const STEP_MS = 30_000;
/** "At once": well inside the 5 s hello timeout, yet generous on a loaded machine. */
const CLOSED_AT_ONCE_MS = 3000;
/** The hello timeout (5 s, checked at the 1 s heartbeat pace) plus slack. */
const CLOSED_SILENT_MS = 12_000;
const FLOODERS = 10;
const FLOOD_CLAIM_BYTES = 120_000_000;
const FLOOD_SEND_BYTES = 110 * 1024 * 1024;
/** RSS growth allowed during the flood: generous (today's code grew by hundreds of MB). */
const RSS_GROWTH_MAX_BYTES = 150 * 1024 * 1024;

const u32 = (value: number) => Uint8Array.from([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw TCP connection from the attacker's side; `closed` resolves (ms after connecting) on the server's FIN or close. */
interface Probe {
  socket: Socket;
  openedAt: number;
  closed: Promise<number>;
  isClosed(): boolean;
}

async function openProbe(port: number): Promise<Probe> {
  const socket = connect({ host: "127.0.0.1", port });
  socket.on("error", () => {}); // EPIPE/ECONNRESET once the server closes: expected
  socket.on("data", () => {}); // whatever the server says (nothing, before a hello) is drained
  await bounded(new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  }), 10_000, () => `a connection to 127.0.0.1:${port}`);
  const openedAt = Date.now();
  let isClosed = false;
  const closed = new Promise<number>((resolve) => {
    const done = () => {
      isClosed = true;
      resolve(Date.now() - openedAt);
    };
    socket.once("end", done);
    socket.once("close", done);
  });
  return { socket, openedAt, closed, isClosed: () => isClosed };
}

/** Waits until the server closes `probe` (bounded by `withinMs`); returns how long it took. */
async function closedWithin(probe: Probe, withinMs: number, what: string): Promise<number> {
  try {
    const ms = await bounded(probe.closed, withinMs, () => `the member to close the connection that sent ${what}`);
    return ms;
  } finally {
    probe.socket.destroy();
  }
}

/** A deterministic pseudo-random stream (xorshift32). */
function junkBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match === null) throw new Error(`no VmRSS line in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** zoo.cfg's server.N=host:quorumPort:electionPort lines. */
function quorumPorts(config: string): Map<number, number> {
  const ports = new Map<number, number>();
  for (const match of config.matchAll(/^server\.(\d+)=[^:]+:(\d+):\d+/gm)) ports.set(Number(match[1]), Number(match[2]));
  return ports;
}

/** Claims `claim` bytes, then sends up to `total` bytes as fast as the member reads them, until it closes. */
async function flood(port: number, claim: number, total: number, chunk: Uint8Array, deadline: number): Promise<{ sent: number; closedAfterMs: number | null }> {
  const probe = await openProbe(port);
  try {
    probe.socket.write(u32(claim));
    let sent = 0;
    while (!probe.isClosed() && !probe.socket.destroyed && sent < total && Date.now() < deadline) {
      const more = probe.socket.write(chunk);
      sent += chunk.length;
      if (!more) {
        await Promise.race([new Promise((resolve) => probe.socket.once("drain", resolve)), probe.closed, sleep(1000)]);
      }
    }
    return { sent, closedAfterMs: probe.isClosed() ? Date.now() - probe.openedAt : null };
  } finally {
    probe.socket.destroy();
  }
}

describe("quorum port: strangers on a follower's peer port", () => {
  test(`junk, huge claims, unknown ids, over-limit frames and silence are closed; RSS stays bounded; writes go on (members on ${runtime()})`, { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-quorum-port-"));
    const ensemble = await ProcessEnsemble.create(dir, [runtime(), runtime(), runtime()], { tickMs: 100, stepMs: STEP_MS });
    const timings: string[] = [];
    try {
      const leader = await ensemble.startAll();
      const ports = quorumPorts(readFileSync(join(dir, "zoo.cfg"), "utf8"));
      // A follower with a higher member above it, so a hello claiming that member's id is one it accepts.
      const target: EnsembleMember = ensemble.members.filter((member) => member.id !== leader.id).sort((a, b) => a.id - b.id)[0]!;
      const claimId = Math.max(...ensemble.members.map((member) => member.id));
      assert.ok(claimId > target.id);
      const port = ports.get(target.id)!;
      const pid = target.process!.pid;

      // (e) silence, running while the others go: closed after the hello timeout.
      const silent = await openProbe(port);

      // (a) junk: another protocol's bytes, and random bytes whose first word is a plausible length.
      const http = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      const random = junkBytes(64 * 1024, 7);
      random[0] = 0x00;
      random[1] = 0x10; // claims about 1 MB: under the peer frame limit, far over a hello
      const randomSmall = junkBytes(1000, 11);
      randomSmall.set(u32(600), 0); // a small claim: read in full, then refused (checksum)
      for (const [what, bytes] of [["an HTTP request", http], ["64 KiB of random junk claiming ~1 MB", random], ["1000 bytes of random junk claiming 600", randomSmall]] as const) {
        const probe = await openProbe(port);
        probe.socket.write(bytes);
        timings.push(`(a) ${what}: closed after ${await closedWithin(probe, CLOSED_AT_ONCE_MS, what)} ms`);
      }

      // (b) a huge length prefix, then a byte every 20 ms.
      {
        const probe = await openProbe(port);
        probe.socket.write(u32(FLOOD_CLAIM_BYTES));
        const dribble = (async () => {
          for (let i = 0; i < 200 && !probe.isClosed(); i++) {
            probe.socket.write(Uint8Array.of(i & 0xff));
            await sleep(20);
          }
        })();
        timings.push(`(b) a ${FLOOD_CLAIM_BYTES}-byte claim, dribbled: closed after ${await closedWithin(probe, CLOSED_AT_ONCE_MS, "a huge length prefix")} ms`);
        await dribble;
      }

      // (c) a well-formed hello from a server id that is not a member.
      {
        const probe = await openProbe(port);
        probe.socket.write(encodePeerFrame({ kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: 99, to: target.id }));
        timings.push(`(c) a hello from server 99: closed after ${await closedWithin(probe, CLOSED_AT_ONCE_MS, "a hello from an unknown id")} ms`);
      }

      // (d) a hello claiming a member's id, then a frame longer than the peer frame limit (128 MiB).
      {
        const probe = await openProbe(port);
        probe.socket.write(encodePeerFrame({ kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: claimId, to: target.id }));
        probe.socket.write(u32(128 * 1024 * 1024 + 1));
        probe.socket.write(new Uint8Array(4096));
        timings.push(`(d) a hello as server ${claimId}, then a ${128 * 1024 * 1024 + 1}-byte frame: closed after ${await closedWithin(probe, CLOSED_AT_ONCE_MS, "an over-limit frame")} ms`);
      }

      timings.push(`(e) silence: closed after ${await closedWithin(silent, CLOSED_SILENT_MS, "nothing")} ms`);

      // Ten connections, each claiming 120 MB and sending up to 110 MB, all at once.
      const before = rssBytes(pid);
      let peak = before;
      const sampler = setInterval(() => {
        try {
          peak = Math.max(peak, rssBytes(pid));
        } catch {
          // the process is gone: the assertions below say so
        }
      }, 50);
      let results: Array<{ sent: number; closedAfterMs: number | null }>;
      try {
        const chunk = new Uint8Array(1024 * 1024).fill(0x5a);
        const deadline = Date.now() + 60_000;
        results = await Promise.all(Array.from({ length: FLOODERS }, () => flood(port, FLOOD_CLAIM_BYTES, FLOOD_SEND_BYTES, chunk, deadline)));
        await sleep(1000); // what the member read last still shows in the samples
        peak = Math.max(peak, rssBytes(pid));
      } finally {
        clearInterval(sampler);
      }
      const sentMb = results.map((result) => Math.round(result.sent / 1024 / 1024));
      timings.push(`flood: RSS ${Math.round(before / 1024 / 1024)} MB before, peak ${Math.round(peak / 1024 / 1024)} MB; MiB written per connection before it closed: ${sentMb.join(", ")}`);
      console.log(`quorum port (${runtime()}), follower ${target.id}:\n  ${timings.join("\n  ")}`);
      assert.ok(results.every((result) => result.closedAfterMs !== null && result.closedAfterMs < CLOSED_AT_ONCE_MS), `every flooding connection is closed at once: ${JSON.stringify(results)}`);
      assert.ok(peak - before < RSS_GROWTH_MAX_BYTES, `the follower's RSS grew by ${Math.round((peak - before) / 1024 / 1024)} MB (at most ${RSS_GROWTH_MAX_BYTES / 1024 / 1024} MB allowed)`);

      // The ensemble still serves: one write through every member.
      await ensemble.waitForLeader("a leader after the attacks");
      for (const member of ensemble.members) {
        const client = await createClient(`127.0.0.1:${member.clientPort}`, { sessionTimeoutMs: 10_000, initialConnectTimeoutMs: STEP_MS });
        try {
          assert.equal(await createAcknowledged(client, `/after-${member.id}`, STEP_MS), "acked", `a write through member ${member.id}`);
        } finally {
          await client.close().catch(() => {});
        }
      }
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${timings.join("\n")}\n${ensemble.output()}`, { cause: error });
    } finally {
      await ensemble.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

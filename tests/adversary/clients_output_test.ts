/**
 * Issue 10 item 6: clients that stop reading must not take the server down. Fifty raw connections
 * pipeline getData (and multiRead) of a ~1 MiB znode and never read a byte; a real `corral serve` process (the
 * runtime running this test) must keep its resident memory under its output budget plus a fixed
 * margin, keep answering a normal client quickly, and give the memory back once the attackers leave.
 * (Apache ZooKeeper 3.8 stays near 274 MB here; Corral used to reach 2.4 to 4.3 GB.)
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PathWatchRequest, Request } from "../../src/core/records.ts";
import { defaultTransport } from "../../src/transport/auto.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { waitFor } from "../support/wait_for.ts";
import { validConnectRequest } from "../driver/support/fuzz_frames.ts";
import { OPEN_ACL, SessionClient } from "../driver/support/session_client.ts";
import { SilentSocket } from "../driver/support/silent_socket.ts";
import { LatencyProbe, megabytes, MIB, quantile, requestBatch, RssSampler, rssBytes } from "./clients_support.ts";

const ATTACKERS = 50;
/** Under jute.maxbuffer (1 MiB - 1) with the create request's own header, path and ACL. */
const BIG_BYTES = 1_000_000;
/** `outputBytesMaxTotal`'s default (src/driver/output_budget.ts), written out so that older code loads. */
const OUTPUT_BUDGET_BYTES = 128 * MIB;
/**
 * What the server may hold beyond its baseline and the budget: one reply past its share per
 * connection (51 × ~1 MiB), garbage not collected yet, allocator slack. Generous on purpose; the
 * failure this guards against is gigabytes.
 */
const MARGIN_BYTES = 256 * MIB;
/** After the attackers are gone the server must come back to its baseline plus this. */
const AFTER_CLOSE_MARGIN_BYTES = 96 * MIB;
/** Each attacker sends this many getData per round, ROUNDS times (each asks for ~1 MiB of replies). */
const REQUESTS_PER_ROUND = 8;
const ROUNDS = 8;
const ROUND_PAUSE_MS = 40;
/** How long the attackers stay connected (and silent) once every round is sent. */
const HOLD_MS = 3000;
const PROBE_P99_BOUND_MS = 2000;
/**
 * A socket the server stopped reading learns that its peer left only when a write fails or its
 * session expires (ZooKeeper's too): the attackers ask for short sessions so that the memory check
 * after they leave does not wait for the default 30 s.
 */
const ATTACKER_SESSION_TIMEOUT_MS = 10_000;
/** Session expiry, the server's collection (rate-limited) and slack. */
const RELEASE_WAIT_MS = 45_000;
const PROBE_MAX_BOUND_MS = 5000;

/** Half the attackers ask for the data itself (the server may send it without copying)... */
const GET_BIG: Request = { kind: "getData", path: "/big", watch: false };
/** ...half for it twice in one multiRead, a ~2 MB reply the server builds afresh for every request. */
const MULTI_READ_BIG: Request = { kind: "multiRead", ops: [GET_BIG, GET_BIG] as PathWatchRequest[] };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("hostile clients: connections that stop reading", () => {
  test(`${ATTACKERS} non-reading clients pipelining getData of a 1 MiB znode: bounded RSS, a normal client keeps answering`, async () => {
    // glibc malloc raises its mmap threshold after large blocks are freed, and then keeps later
    // large blocks on heaps it rarely gives back: the server drops every reference (and asks for a
    // collection) but Node's RSS would stay at its peak. A fixed threshold lets freed replies go
    // back to the OS; operators running under glibc can set the same (README, Compatibility notes).
    const server = await startCorralProcess({ args: ["--log-level", "debug"], env: { MALLOC_MMAP_THRESHOLD_: "131072" } });
    const attackers: SilentSocket[] = [];
    let probe: LatencyProbe | null = null;
    let sampler: RssSampler | null = null;
    try {
      const setup = await SessionClient.open(await defaultTransport(), server.port);
      try {
        for (const [path, size] of [["/big", BIG_BYTES], ["/small", 100]] as const) {
          const created = await setup.request({ kind: "create", path, data: new Uint8Array(size).fill(0x61), acl: OPEN_ACL, flags: 0, ttl: 0n }, 10_000);
          assert.equal(created.err, 0, `create ${path}`);
        }
      } finally {
        setup.close();
      }
      probe = await LatencyProbe.start(server.port, { kind: "getData", path: "/small", watch: false }, 10_000);
      await waitFor(() => probe!.latencies.length >= 20 || probe!.failure !== null, { timeoutMs: 10_000, what: "the normal client's first requests" });
      const baseline = rssBytes(server.pid);
      const limit = baseline + OUTPUT_BUDGET_BYTES + MARGIN_BYTES;
      // The sampler also stops the attack early once the limit is passed: the machine is shared.
      sampler = new RssSampler(server.pid, limit);
      const probeFrom = probe.latencies.length;

      for (let i = 0; i < ATTACKERS; i++) {
        const attacker = await SilentSocket.connect(server.host, server.port);
        attackers.push(attacker);
        attacker.write(validConnectRequest({ timeOut: ATTACKER_SESSION_TIMEOUT_MS }));
      }
      const attackStart = Date.now();
      const attackOrigin = performance.now();
      for (let round = 0; round < ROUNDS && !sampler.exceeded; round++) {
        attackers.forEach((attacker, i) => {
          attacker.write(requestBatch(i % 2 === 0 ? GET_BIG : MULTI_READ_BIG, 1 + round * REQUESTS_PER_ROUND, REQUESTS_PER_ROUND));
        });
        await sleep(ROUND_PAUSE_MS);
      }
      const holdUntil = Date.now() + HOLD_MS;
      while (Date.now() < holdUntil && !sampler.exceeded) await sleep(50);
      const peak = sampler.peak;
      const during = probe.since(probeFrom);
      const failure = probe.failure;
      for (const attacker of attackers) attacker.destroy();
      console.log(
        `${server.runtime}: attack ${Date.now() - attackStart} ms; baseline RSS ${megabytes(baseline)}, peak ${megabytes(peak)} (limit ${megabytes(limit)}); ` +
          `normal client: ${during.length} requests, p99 ${quantile(during, 0.99).toFixed(1)} ms, max ${quantile(during, 1).toFixed(1)} ms; slow (ms@ms since the attack began): ${probe.slow(probeFrom, 200, attackOrigin)}`,
      );
      assert.ok(!sampler.exceeded && peak <= limit, `RSS reached ${megabytes(peak)}: more than the baseline ${megabytes(baseline)} + budget ${megabytes(OUTPUT_BUDGET_BYTES)} + margin ${megabytes(MARGIN_BYTES)}`);
      assert.equal(failure, null, `the normal client failed during the attack; the server's output:\n${server.output().slice(-3000)}`);
      assert.ok(during.length >= 20, `the normal client completed only ${during.length} requests during the attack`);
      assert.ok(quantile(during, 0.99) < PROBE_P99_BOUND_MS, `the normal client's p99 was ${quantile(during, 0.99).toFixed(1)} ms`);
      assert.ok(quantile(during, 1) < PROBE_MAX_BOUND_MS, `the normal client's slowest request took ${quantile(during, 1).toFixed(1)} ms`);

      // Memory comes back once the attackers are gone (the normal client keeps allocating, so
      // garbage gets collected).
      const backTo = baseline + AFTER_CLOSE_MARGIN_BYTES;
      await waitFor(() => sampler!.last <= backTo, {
        timeoutMs: RELEASE_WAIT_MS,
        what: `RSS to fall to ${megabytes(backTo)} after the attackers closed (is ${megabytes(sampler.last)}, peak was ${megabytes(peak)})`,
        intervalMs: 100,
      }).catch((error: Error) => {
        const lines = server.output().split("\n").filter((line) => !line.includes("expired"));
        throw new Error(`${error.message}\n--- server output (without session expiries) ---\n${lines.slice(-30).join("\n")}`);
      });
      assert.equal(probe.failure, null, "the normal client failed after the attack");
    } finally {
      for (const attacker of attackers) attacker.destroy();
      sampler?.stop();
      await probe?.stop();
      await server.stop();
    }
  });
});

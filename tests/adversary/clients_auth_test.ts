/**
 * Issue 10 item 7: an `auth` flood must cost constant time per packet and a bounded identity list.
 * Against a real `corral serve` process (the runtime running this test): connections that send
 * thousands of digest auth packets, each for a new user, get AUTHFAILED (xid −4, err −115) once
 * they pass the per-connection cap and are closed, as ZooKeeper answers a failed auth; and a normal
 * client's requests keep answering quickly while the flood runs. (Corral used to copy and scan the
 * whole identity list per packet: at 100k identities a batch of 2,000 took 4.2 s.)
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultTransport } from "../../src/transport/auto.ts";
import { encodeRequest } from "../../src/wire/client_protocol.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { waitFor } from "../support/wait_for.ts";
import { RawWire } from "../driver/support/raw_wire.ts";
import { validConnectRequest } from "../driver/support/fuzz_frames.ts";
import { OPEN_ACL, SessionClient } from "../driver/support/session_client.ts";
import { LatencyProbe, quantile } from "./clients_support.ts";

/** ServerConfig.authIdentitiesMax's default, written out so that older code loads. */
const AUTH_IDENTITIES_MAX = 100;
const AUTH_XID = -4;
const AUTHFAILED = -115;
/** Auth packets each flooding connection writes (one new user each), in batches. */
const PACKETS_PER_CONNECTION = 60_000;
const BATCH = 2000;
/** The flood's length: as many connections as fit, each flooding until it is closed. */
const FLOOD_MS = 12_000;
const PROBE_P99_BOUND_MS = 1000;
const PROBE_MAX_BOUND_MS = 2500;

const encoder = new TextEncoder();

function authPacket(user: number): Uint8Array {
  return encodeRequest(AUTH_XID, { kind: "auth", type: 0, scheme: "digest", auth: encoder.encode(`u${user}:pw`) }).slice();
}

function authBatch(first: number, count: number): Uint8Array {
  const packets = Array.from({ length: count }, (_, i) => authPacket(first + i));
  const out = new Uint8Array(packets.reduce((sum, packet) => sum + packet.length, 0));
  let offset = 0;
  for (const packet of packets) {
    out.set(packet, offset);
    offset += packet.length;
  }
  return out;
}

/** [xid, err] of each reply frame after the ConnectResponse. */
function replies(wire: RawWire): Array<[number, number]> {
  return wire.frames.slice(1).map((frame) => {
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    return [view.getInt32(0), view.getInt32(12)];
  });
}

/** What a connection that sends one more new identity than the cap gets: OK × cap, then AUTHFAILED. */
const EXPECTED_AT_CAP: Array<[number, number]> = [
  ...Array.from({ length: AUTH_IDENTITIES_MAX }, (): [number, number] => [AUTH_XID, 0]),
  [AUTH_XID, AUTHFAILED],
];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("hostile clients: auth floods", () => {
  test("auth floods: AUTHFAILED and a close past the identity cap; a normal client keeps answering", async () => {
    const server = await startCorralProcess();
    const transport = await defaultTransport();
    let probe: LatencyProbe | null = null;
    const wires: RawWire[] = [];
    try {
      const setup = await SessionClient.open(transport, server.port);
      try {
        const created = await setup.request({ kind: "create", path: "/small", data: new Uint8Array(10), acl: OPEN_ACL, flags: 0, ttl: 0n }, 10_000);
        assert.equal(created.err, 0);
      } finally {
        setup.close();
      }
      probe = await LatencyProbe.start(server.port, { kind: "getData", path: "/small", watch: false }, 20_000);
      await waitFor(() => probe!.latencies.length >= 20 || probe!.failure !== null, { timeoutMs: 10_000, what: "the normal client's first requests" });
      const probeFrom = probe.latencies.length;

      const floodUntil = Date.now() + FLOOD_MS;
      let connections = 0;
      let sent = 0;
      let user = 0;
      // Bounded by FLOOD_MS and 200 connections.
      while (Date.now() < floodUntil && connections < 200) {
        const wire = await RawWire.connect(transport, server.port, server.host);
        wires.push(wire);
        connections++;
        wire.send(validConnectRequest());
        for (let written = 0; written < PACKETS_PER_CONNECTION && !wire.closed && Date.now() < floodUntil; written += BATCH) {
          wire.send(authBatch(user, BATCH));
          user += BATCH;
          sent += BATCH;
          // Keep the flooder's own queue short, so the flood is paced by the server, not by memory.
          await waitFor(() => wire.socket.bufferedBytes < 256 * 1024 || wire.closed, {
            timeoutMs: 30_000,
            what: "the flooder's send queue to drain",
            intervalMs: 5,
          });
          await sleep(1);
        }
        await wire.until(() => wire.closed || Date.now() >= floodUntil, "the flooding connection to close", FLOOD_MS + 1000).catch(() => {});
      }
      const during = probe.since(probeFrom);
      const failure = probe.failure;
      for (const wire of wires) wire.close();
      console.log(
        `${server.runtime}: ${sent} auth packets on ${connections} connection(s); normal client: ${during.length} requests, ` +
          `p99 ${quantile(during, 0.99).toFixed(1)} ms, max ${quantile(during, 1).toFixed(1)} ms`,
      );

      // Every flooding connection was closed having had at most the cap answered OK. (The last
      // replies may be lost: closing a socket with unread input resets it.)
      for (const [i, wire] of wires.entries()) {
        const got = replies(wire);
        assert.ok(wire.closed || i === wires.length - 1, `flooding connection ${i} is still open after ${got.length} auth replies`);
        assert.ok(got.length <= AUTH_IDENTITIES_MAX + 1, `flooding connection ${i} got ${got.length} auth replies`);
        assert.deepEqual(got, EXPECTED_AT_CAP.slice(0, got.length), `flooding connection ${i}: OK up to the cap, then AUTHFAILED`);
      }
      assert.equal(failure, null, "the normal client failed during the flood");
      assert.ok(during.length >= 20, `the normal client completed only ${during.length} requests during the flood`);
      assert.ok(quantile(during, 0.99) < PROBE_P99_BOUND_MS, `the normal client's p99 was ${quantile(during, 0.99).toFixed(1)} ms`);
      assert.ok(quantile(during, 1) < PROBE_MAX_BOUND_MS, `the normal client's slowest request took ${quantile(during, 1).toFixed(1)} ms`);
    } finally {
      for (const wire of wires) wire.close();
      await probe?.stop();
      await server.stop();
    }
  });

  test("one identity past the cap: AUTHFAILED (xid -4, err -115), then the connection is closed", async () => {
    const server = await startCorralProcess();
    const wire = await RawWire.connect(await defaultTransport(), server.port, server.host);
    try {
      wire.send(validConnectRequest());
      wire.send(authBatch(0, AUTH_IDENTITIES_MAX + 1));
      await wire.waitClosed("the server to close the connection past the cap", 20_000);
      assert.deepEqual(replies(wire), EXPECTED_AT_CAP);
    } finally {
      wire.close();
      await server.stop();
    }
  });

  test("re-sending a known identity is accepted without limit; a connection under the cap keeps working", async () => {
    const server = await startCorralProcess();
    const transport = await defaultTransport();
    const wire = await RawWire.connect(transport, server.port, server.host);
    try {
      wire.send(validConnectRequest());
      const repeats = 3 * AUTH_IDENTITIES_MAX;
      const same = authPacket(1);
      const batch = new Uint8Array(same.length * repeats);
      for (let i = 0; i < repeats; i++) batch.set(same, i * same.length);
      wire.send(batch);
      wire.send(authBatch(2, AUTH_IDENTITIES_MAX - 1));
      wire.send(encodeRequest(7, { kind: "exists", path: "/", watch: false }).slice());
      const total = repeats + AUTH_IDENTITIES_MAX - 1 + 1;
      await wire.until(() => wire.frames.length >= 1 + total || wire.closed, "every reply", 20_000);
      const got = replies(wire);
      assert.equal(wire.closed, false, "closed although it stayed within the cap");
      assert.equal(got.length, total);
      assert.ok(got.slice(0, -1).every(([xid, err]) => xid === AUTH_XID && err === 0), "every auth answered OK");
      assert.deepEqual(got.at(-1), [7, 0]);
    } finally {
      wire.close();
      await server.stop();
    }
  });
});

/**
 * The client and read-only servers, as ZooKeeper's Java client behaves (ClientCnxn): while
 * connected read-only it asks the other servers `isro` (100 ms after connecting, then waits twice
 * as long each time), and moves to the first that answers "rw"; until a read-write server has
 * taken its session, that session is the read-only server's own, so a reconnect asks for a new one.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { MachineOutput } from "../../src/client/machine_io.ts";
import type { SessionMachine } from "../../src/client/session_machine.ts";
import { connectResponse, newMachine, ofType, PASSWORD, SESSION_ID } from "./support/machine_harness.ts";

/** The session id a ConnectRequest frame carries (after length, protocolVersion, lastZxidSeen, timeOut). */
function requestedSessionId(frame: Uint8Array): bigint {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getBigInt64(20);
}

/** Opens the socket of the latest connect output and answers its handshake; returns the session id it asked for. */
function handshake(machine: SessionMachine, outputs: MachineOutput[], nowMs: number, response: Uint8Array): bigint {
  const attempt = ofType(outputs, "connect").at(-1)!.attempt;
  assert.ok(machine.socketOpened(attempt, nowMs));
  const asked = requestedSessionId(ofType(machine.drain(), "send")[0]!.bytes);
  machine.socketData(attempt, response, nowMs);
  return asked;
}

describe("client: read-only servers", () => {
  test("connected read-only, it probes the next host with isro after 100 ms, then after 200, 400 ms ... and moves to one that says rw", () => {
    const machine = newMachine({ canBeReadOnly: true, hosts: [{ host: "h1", port: 1 }, { host: "h2", port: 2 }, { host: "h3", port: 3 }] });
    machine.start(0);
    handshake(machine, machine.drain(), 0, connectResponse(30_000, { readOnly: true }));
    assert.equal(machine.state, "connectedReadOnly");
    machine.drain();
    assert.equal(machine.nextDeadline(), 100, "the first probe is due after 100 ms");
    machine.tick(100);
    const first = ofType(machine.drain(), "probe");
    assert.deepEqual(first.map(({ host, port, timeoutMs }) => ({ host, port, timeoutMs })), [{ host: "h2", port: 2, timeoutMs: 1000 }]);
    machine.tick(150);
    assert.deepEqual(ofType(machine.drain(), "probe"), [], "one probe at a time");
    machine.probeAnswered(first[0]!.probe, "ro\n", 160);
    assert.equal(machine.state, "connectedReadOnly", "a read-only answer changes nothing");
    machine.tick(359);
    assert.deepEqual(ofType(machine.drain(), "probe"), [], "the next waits twice as long (200 ms)");
    machine.tick(360);
    const second = ofType(machine.drain(), "probe");
    assert.deepEqual(second.map(({ host }) => host), ["h3"]);
    machine.probeAnswered(second[0]!.probe, "rw\n", 370);
    const moved = machine.drain();
    assert.equal(ofType(moved, "close").length, 1, "it leaves the read-only server");
    assert.deepEqual(ofType(moved, "connect").map(({ host }) => host), ["h3"], "for the read-write one");
    const asked = handshake(machine, moved, 380, connectResponse(30_000, { sessionId: SESSION_ID + 1n }));
    assert.equal(asked, 0n, "the read-only server's session is unknown elsewhere: it asks for a new one");
    assert.equal(machine.state, "connected");
    assert.equal(machine.sessionId, SESSION_ID + 1n);
    machine.drain();
    machine.tick(10_000);
    assert.deepEqual(ofType(machine.drain(), "probe"), [], "no probing while read-write");
  });

  test("once a read-write server took the session, a read-only server is asked to resume it, and answers to old probes are ignored", () => {
    const machine = newMachine({ canBeReadOnly: true });
    machine.start(0);
    handshake(machine, machine.drain(), 0, connectResponse(30_000));
    machine.socketClosed(1, 10, "gone");
    const asked = handshake(machine, machine.drain(), 20, connectResponse(30_000, { readOnly: true }));
    assert.equal(asked, SESSION_ID, "the ensemble's session is offered (a read-only server turns it away)");
    machine.drain();
    machine.tick(120);
    const probe = ofType(machine.drain(), "probe")[0]!;
    machine.socketClosed(2, 130, "gone");
    machine.drain();
    machine.probeAnswered(probe.probe, "rw\n", 140);
    assert.deepEqual(machine.drain(), [], "a probe of an ended read-only connection moves nothing");
  });

  test("a session the caller resumes counts as the ensemble's: it is offered even to a read-only server", () => {
    const machine = newMachine({ canBeReadOnly: true, sessionId: 5n, password: PASSWORD });
    machine.start(0);
    assert.equal(handshake(machine, machine.drain(), 0, connectResponse(30_000, { readOnly: true })), 5n);
  });
});

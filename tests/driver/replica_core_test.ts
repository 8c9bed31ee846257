/**
 * ReplicaCore, the adapter between the client driver and a Replica: peer messages leave as they are
 * drained, and the mode reaches four-letter words.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PeerMessage, PeerState, Sid } from "../../src/core/peer_messages.ts";
import type { Replica, ReplicaOutput } from "../../src/core/replica.ts";
import { ReplicaCore } from "../../src/driver/replica_core.ts";

/** The slice of a Replica that ReplicaCore touches, scripted. */
class FakeReplica {
  state: PeerState = "looking";
  readonly received: string[] = [];
  readonly lost: Sid[] = [];
  outputs: ReplicaOutput[] = [];
  readonly server = {
    serving: false,
    status: () => ({ mode: "standalone" as const }),
  };

  status() {
    return { state: this.state };
  }
  receive(from: Sid, message: PeerMessage): void {
    this.received.push(`${from}:${message.kind}`);
  }
  peerLost(sid: Sid): void {
    this.lost.push(sid);
  }
  tick(): void {}
  /** No reconfiguration here: ReplicaCore reports the membership once, as it starts. */
  readonly membershipChanges = 0;
  readonly configuration = { committed: { config: { members: [], version: 0 } }, lastSeen: { config: { members: [], version: 0 } } };
  takeOutputs(): ReplicaOutput[] {
    const outputs = this.outputs;
    this.outputs = [];
    return outputs;
  }
}

const followerInfo = { kind: "followerInfo", acceptedEpoch: 1, lastZxid: 5, observer: false, attempt: 1 } as PeerMessage;
const ping: PeerMessage = { kind: "ping", sessions: [] };

function setup() {
  const fake = new FakeReplica();
  const sent: string[] = [];
  const core = new ReplicaCore(fake as unknown as Replica, {
    send: (to, message) => sent.push(`${to}:${message.kind}`),
    storageFailed: () => {},
  }, { observer: false });
  return { fake, core, sent };
}

describe("replica core", () => {
  test("peer messages and lost peers reach the replica in order", () => {
    const { fake, core } = setup();
    core.receive(1, [followerInfo, ping]);
    core.peerLost(2);
    core.receive(3, [ping]);
    assert.deepEqual(fake.received, ["1:followerInfo", "1:ping", "3:ping"]);
    assert.deepEqual(fake.lost, [2]);
  });

  test("peer messages leave through send in output order; the rest is returned", () => {
    const { fake, core, sent } = setup();
    fake.outputs = [
      { kind: "send", to: 2, message: ping },
      { kind: "log", level: "info", message: "x" },
      { kind: "send", to: 3, message: followerInfo },
    ];
    assert.deepEqual(core.takeOutputs().map((output) => output.kind), ["log"]);
    assert.deepEqual(sent, ["2:ping", "3:followerInfo"]);
  });

  test("four-letter words see the replica's mode, and a looking member its configured role", () => {
    const { fake, core } = setup();
    assert.equal(core.status().mode, "follower");
    assert.equal(core.serving, false);
    fake.state = "leading";
    assert.equal(core.status().mode, "leader");
    fake.state = "observing";
    assert.equal(core.status().mode, "observer");
  });
});

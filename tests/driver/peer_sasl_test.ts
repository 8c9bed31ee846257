/**
 * SASL between members (src/driver/peer_sasl.ts through the peer network): ZooKeeper's
 * quorum.auth.* rules for who authenticates and who must, the link coming up only after the
 * exchange, and what a stranger gets for a wrong password, a replayed response, a huge token, an
 * exchange abandoned half-way, or a failed exchange under a member's name.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DigestMd5Client } from "../../src/client/sasl_digest_client.ts";
import type { Sid } from "../../src/core/peer_messages.ts";
import type { PeerNetworkOptions } from "../../src/driver/peer_network.ts";
import { QUORUM_SASL_DIGEST_URI, QuorumSaslAcceptor, QuorumSaslDialer, type QuorumSaslOptions } from "../../src/driver/peer_sasl.ts";
import { MemoryNetwork } from "../../src/transport/memory.ts";
import type { Socket } from "../../src/transport/transport.ts";
import { encodePeerFrame, PEER_PROTOCOL_VERSION, type PeerFrame, PeerFrameDecoder, type PeerSasl } from "../../src/wire/peer_codec.ts";
import { type Layout, type Member, memoryLayout, startMember, stopAll } from "../support/peer_members.ts";
import { waitFor } from "../support/wait_for.ts";

const WAIT = { timeoutMs: 10_000 };
const IDS = [1, 2, 3];
const USERS = new Map([["member", "quorum-secret"]]);
const GOOD = { username: "member", password: "quorum-secret" };

/** quorum.auth.enableSasl=true with the two requirements as given. */
function sasl(learnerRequired: boolean, serverRequired: boolean, password = GOOD.password): QuorumSaslOptions {
  return { learner: learnerRequired ? { username: GOOD.username, password } : null, users: USERS, serverRequired };
}

async function ensemble(layout: Layout, options: Map<Sid, Partial<PeerNetworkOptions>>): Promise<Member[]> {
  return await Promise.all(IDS.map((id) => startMember(layout, IDS, id, { connectTimeoutMs: 1000, ...options.get(id) })));
}

const allPairsUp = (members: Member[]) => members.every((member) => IDS.every((id) => id === member.id || member.network!.connected(id)));

describe("quorum SASL: who authenticates", () => {
  test("every member requires SASL with good credentials: all pairs come up, authenticated, and messages flow", async () => {
    const layout = await memoryLayout(IDS);
    const members = await ensemble(layout, new Map(IDS.map((id) => [id, { sasl: sasl(true, true) }])));
    try {
      await waitFor(() => allPairsUp(members), { ...WAIT, what: "every pair to connect" });
      members[2]!.network!.send(1, { kind: "ack", zxid: 7 });
      await waitFor(() => members[0]!.from(3).length === 1, { ...WAIT, what: "1 to hear from 3" });
      assert.ok(members[0]!.logger.has('peer 3 authenticated with SASL as user "member"'), JSON.stringify(members[0]!.logger.lines));
      assert.ok(members[2]!.logger.has('peer 1 accepted our authentication with SASL as user "member"'));
    } finally {
      await stopAll(members);
    }
  });

  test("a member with the wrong password never links; the others do, and the refusal is logged", async () => {
    const layout = await memoryLayout(IDS);
    const options = new Map<Sid, Partial<PeerNetworkOptions>>([
      [1, { sasl: sasl(true, true) }],
      [2, { sasl: sasl(true, true) }],
      [3, { sasl: sasl(true, true, "wrong") }],
    ]);
    const members = await ensemble(layout, options);
    try {
      await waitFor(() => members[1]!.network!.connected(1), { ...WAIT, what: "2 and 1 to connect" });
      await waitFor(() => members[0]!.logger.has('wrong password for user "member"'), { ...WAIT, what: "1 to log the wrong password" });
      await waitFor(() => members[2]!.logger.has("the member refused our SASL authentication as user"), { ...WAIT, what: "3 to log the refusal" });
      assert.equal(members[0]!.network!.connected(3), false);
      assert.equal(members[1]!.network!.connected(3), false);
      assert.equal(members[2]!.network!.connected(1), false);
    } finally {
      await stopAll(members);
    }
  });

  test("serverRequireSasl refuses a member that does not authenticate; learnerRequireSasl refuses a member without SASL", async () => {
    const layout = await memoryLayout(IDS);
    const options = new Map<Sid, Partial<PeerNetworkOptions>>([
      [1, { sasl: sasl(true, true) }],
      [2, {}], // quorum.auth.enableSasl=false
      [3, { sasl: sasl(false, false) }], // enabled, nothing required: dials without authenticating
    ]);
    const members = await ensemble(layout, options);
    try {
      await waitFor(() => members[0]!.logger.has("server 3 did not authenticate with SASL (its quorum.auth.learnerRequireSasl is false), but quorum.auth.serverRequireSasl is true here"), {
        ...WAIT,
        what: "1 to refuse 3",
      });
      // 3 dials 2 without SASL, and 2 has none: they link, as ZooKeeper members would.
      await waitFor(() => members[1]!.network!.connected(3), { ...WAIT, what: "3 and 2 to connect" });
      // 2 dials 1 without SASL: refused the same way.
      await waitFor(() => members[0]!.logger.has("server 2 did not authenticate with SASL"), { ...WAIT, what: "1 to refuse 2" });
      assert.equal(members[0]!.network!.connected(2), false);
      assert.equal(members[0]!.network!.connected(3), false);
    } finally {
      await stopAll(members);
    }
    // A member that requires SASL dialing one with SASL off: the accepting one refuses, saying why.
    const layout2 = await memoryLayout(IDS);
    const members2 = await ensemble(layout2, new Map([[3, { sasl: sasl(true, false) }]]));
    try {
      await waitFor(() => members2[0]!.logger.has("server 3 authenticates with SASL (its quorum.auth.learnerRequireSasl is true), but quorum.auth.enableSasl is false here"), {
        ...WAIT,
        what: "1 to refuse 3",
      });
      await waitFor(() => members2[1]!.network!.connected(1), { ...WAIT, what: "2 and 1 to connect" });
      assert.equal(members2[0]!.network!.connected(3), false);
    } finally {
      await stopAll(members2);
    }
  });

  test("the rolling upgrade's steps, each with one member a step ahead of the others, link every pair", async () => {
    // ZooKeeper's order: enableSasl everywhere, then learnerRequireSasl, then serverRequireSasl.
    const steps: Array<[string, Array<QuorumSaslOptions | undefined>]> = [
      ["enableSasl on member 3", [undefined, undefined, sasl(false, false)]],
      ["learnerRequireSasl on member 3", [sasl(false, false), sasl(false, false), sasl(true, false)]],
      ["serverRequireSasl on member 1", [sasl(true, true), sasl(true, false), sasl(true, false)]],
    ];
    for (const [what, perMember] of steps) {
      const layout = await memoryLayout(IDS);
      const options = new Map<Sid, Partial<PeerNetworkOptions>>(IDS.map((id, index) => [id, perMember[index] === undefined ? {} : { sasl: perMember[index] }]));
      const members = await ensemble(layout, options);
      try {
        await waitFor(() => allPairsUp(members), { ...WAIT, what: `every pair to connect with ${what}` });
      } finally {
        await stopAll(members);
      }
    }
  });
});

/** A raw connection to member 2 of a memory ensemble, speaking frames by hand. */
class RawPeer {
  readonly frames: PeerFrame[] = [];
  closed = false;
  readonly #decoder = new PeerFrameDecoder();
  socket!: Socket;

  static async open(memory: MemoryNetwork): Promise<RawPeer> {
    const raw = new RawPeer();
    raw.socket = await memory.transport("stranger").connect({ host: "peer2", port: 7002 }, {
      onData: (chunk) => {
        raw.#decoder.push(chunk);
        for (let frame = raw.#decoder.next(); frame !== null; frame = raw.#decoder.next()) raw.frames.push(frame);
      },
      onClose: () => {
        raw.closed = true;
      },
    });
    return raw;
  }

  send(...frames: PeerFrame[]): void {
    for (const frame of frames) this.socket.write(encodePeerFrame(frame).slice());
  }

  sasl(): PeerSasl[] {
    return this.frames.filter((frame): frame is PeerSasl => frame.kind === "linkSasl");
  }
}

const HELLO_AS_3: PeerFrame = { kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: 3, to: 2, sasl: true };
const token = (bytes: Uint8Array): PeerSasl => ({ kind: "linkSasl", status: "inProgress", token: bytes });

describe("quorum SASL: strangers", () => {
  async function member2(memory: MemoryNetwork): Promise<Member> {
    const layout: Layout = { transport: (id) => memory.transport(`peer${id}`), host: (id) => `peer${id}`, port: (id) => 7000 + id };
    // Only 2 runs, so 3's real connection does not interfere; 1 is never reached.
    return await startMember(layout, IDS, 2, { sasl: sasl(true, true), connectTimeoutMs: 400, heartbeatMs: 50, idleTimeoutMs: 1000 });
  }

  test("a replayed response, a huge token, an abandoned exchange and a wrong status all close the connection", async () => {
    const memory = new MemoryNetwork();
    const member = await member2(memory);
    try {
      // A proper exchange by hand, to record a response that worked.
      const good = await RawPeer.open(memory);
      const client = new DigestMd5Client(GOOD, "cnonce-0123456789", QUORUM_SASL_DIGEST_URI);
      good.send(HELLO_AS_3, token(client.start()));
      await waitFor(() => good.sasl().length === 1, { ...WAIT, what: "the challenge" });
      const response = client.step(good.sasl()[0]!.token);
      assert.equal(response.kind, "send");
      const recorded = (response as { token: Uint8Array }).token;
      good.send(token(recorded));
      await waitFor(() => member.network!.connected(3), { ...WAIT, what: "the hand-made exchange to succeed" });
      assert.equal(good.sasl()[1]!.status, "success");
      assert.deepEqual(client.step(good.sasl()[1]!.token), { kind: "authenticated" });

      // The same response on a new connection: the member's nonce is new, so it fails, and the
      // good connection stays the member's.
      const replay = await RawPeer.open(memory);
      replay.send(HELLO_AS_3, token(new Uint8Array(0)));
      await waitFor(() => replay.sasl().length === 1, { ...WAIT, what: "a fresh challenge" });
      replay.send(token(recorded));
      await waitFor(() => replay.closed, { ...WAIT, what: "the replay to be closed" });
      assert.equal(replay.sasl()[1]?.status, "error", "the member says error before it closes");
      assert.ok(member.logger.has("the nonce is not the one this server sent"));
      assert.ok(member.network!.connected(3) && !good.closed, "a failed exchange under 3's name leaves 3's link alone");
      assert.deepEqual(member.lost, []);

      const cases: Array<[string, (raw: RawPeer) => void, string]> = [
        ["a 1 MiB token", (raw) => raw.send(HELLO_AS_3, token(new Uint8Array(1 << 20))), "a handshake frame claims"],
        ["an abandoned exchange", (raw) => raw.send(HELLO_AS_3, token(new Uint8Array(0))), "no SASL authentication within 400 ms"],
        ["a dialer claiming success", (raw) => raw.send(HELLO_AS_3, { kind: "linkSasl", status: "success", token: new Uint8Array(0) }), "which only the accepting member sends"],
        ["a message instead of a token", (raw) => raw.send(HELLO_AS_3, { kind: "ack", zxid: 1 }), "a ack message arrived before the SASL authentication finished"],
        ["a token without asking", (raw) => raw.send({ ...HELLO_AS_3, sasl: false } as PeerFrame, token(new Uint8Array(0))), "did not authenticate with SASL"],
        ["a GSSAPI-style first token", (raw) => raw.send(HELLO_AS_3, token(new Uint8Array(40).fill(0x60))), "only DIGEST-MD5 is supported"],
      ];
      for (const [what, act, logged] of cases) {
        const raw = await RawPeer.open(memory);
        act(raw);
        await waitFor(() => raw.closed, { ...WAIT, what: `${what} to be closed` });
        assert.ok(member.logger.has(logged), `${what}: ${JSON.stringify(member.logger.lines.slice(-2))}`);
      }
      assert.ok(member.network!.connected(3), "3's authenticated link survived every stranger");
    } finally {
      await member.stop();
    }
  });

  test("without serverRequireSasl, an unauthenticated connection under a member's id does not replace its authenticated one", async () => {
    const memory = new MemoryNetwork();
    const layout: Layout = { transport: (id) => memory.transport(`peer${id}`), host: (id) => `peer${id}`, port: (id) => 7000 + id };
    const member = await startMember(layout, IDS, 2, { sasl: sasl(true, false), connectTimeoutMs: 400, heartbeatMs: 50, idleTimeoutMs: 1000 });
    try {
      const good = await RawPeer.open(memory);
      const client = new DigestMd5Client(GOOD, "cnonce-0123456789", QUORUM_SASL_DIGEST_URI);
      good.send(HELLO_AS_3, token(client.start()));
      await waitFor(() => good.sasl().length === 1, { ...WAIT, what: "the challenge" });
      good.send(token((client.step(good.sasl()[0]!.token) as { token: Uint8Array }).token));
      await waitFor(() => member.network!.connected(3), { ...WAIT, what: "the authenticated link" });
      // Not required here, so a plain hello is let in, but not in the authenticated member's place.
      const plain = await RawPeer.open(memory);
      plain.send({ ...HELLO_AS_3, sasl: false } as PeerFrame, { kind: "ack", zxid: 666 });
      await waitFor(() => plain.closed, { ...WAIT, what: "the unauthenticated connection to be closed" });
      assert.ok(member.logger.has("a connection under its id that proves nothing does not replace that one"));
      assert.deepEqual(member.from(3), [], "nothing it sent reached the core");
      assert.deepEqual(member.lost, []);
      assert.ok(member.network!.connected(3) && !good.closed);
    } finally {
      await member.stop();
    }
  });

  test("a dial still in its handshake when the link is dropped is closed with it, not left behind", async () => {
    const memory = new MemoryNetwork();
    const accepted: Array<{ closed: boolean }> = [];
    // Member 1's port answers the hello, then stalls in the SASL exchange.
    const listener = await memory.transport("peer1").listen({ host: "peer1", port: 7001 }, (socket) => {
      const state = { closed: false };
      accepted.push(state);
      socket.write(encodePeerFrame({ kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: 1, to: 3 }).slice());
      return { onData: () => {}, onClose: () => state.closed = true };
    });
    const layout: Layout = { transport: (id) => memory.transport(`peer${id}`), host: (id) => `peer${id}`, port: (id) => 7000 + id };
    const member = await startMember(layout, [1, 3], 3, { sasl: sasl(true, false), queueBytesMax: 500, connectTimeoutMs: 60_000 });
    try {
      await waitFor(() => accepted.length === 1, { ...WAIT, what: "3 to dial 1" });
      // Messages for 1 pile up while the handshake stalls, past the queue bound: the link is dropped.
      for (let zxid = 1; zxid <= 100; zxid++) member.network!.send(1, { kind: "ack", zxid });
      await waitFor(() => accepted[0]!.closed, { ...WAIT, what: "the stalled dial to be closed" });
      assert.ok(member.logger.has("bytes queued while it is unreachable"));
    } finally {
      await member.stop();
      await listener.close();
    }
  });

  test("the two sides of the exchange on their own: a third token and a premature success are refused", () => {
    const acceptor = new QuorumSaslAcceptor(USERS, "server-nonce-0123");
    const dialer = new QuorumSaslDialer(GOOD, "client-nonce-0123");
    const challenge = acceptor.receive(dialer.start());
    assert.equal(challenge.kind, "continue");
    // The challenge marked success: the dialer has not been checked yet, so it is a failure.
    const premature = dialer.receive({ ...(challenge as { frame: PeerSasl }).frame, status: "success" });
    assert.match((premature as { reason: string }).reason, /claimed success before it checked our response/);
    const dialer2 = new QuorumSaslDialer(GOOD, "client-nonce-4567");
    const acceptor2 = new QuorumSaslAcceptor(USERS, "server-nonce-4567");
    const response = dialer2.receive((acceptor2.receive(dialer2.start()) as { frame: PeerSasl }).frame);
    const verdict = acceptor2.receive((response as { frame: PeerSasl }).frame);
    assert.equal(verdict.kind, "authenticated");
    assert.equal(dialer2.receive((verdict as { frame: PeerSasl }).frame).kind, "authenticated");
    assert.equal(acceptor2.receive(token(new Uint8Array(0))).kind, "failed", "a third token");
  });
});

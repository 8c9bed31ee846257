/**
 * Judge: Corral's own client with SASL DIGEST-MD5 (ClientOptions.sasl) against Apache ZooKeeper 3.8
 * and against a `corral serve` process, both set up as sasl_digest_test.ts sets them up for kazoo
 * (one JAAS file, users bob and alice; support/sasl_judge.ts). The scenario collects observations;
 * both servers must give EXPECTED, which the ZooKeeper run re-checks on every run so it cannot
 * drift from the reference: bob gets sasl:bob and a sasl:bob ACL lets him in, again after a dropped
 * connection; a wrong password is AUTHFAILED; alice and an anonymous client are refused.
 */
import { describe } from "node:test";
import { Client, codeName, createClient, KeeperError, type WatchEvent } from "../../src/client/mod.ts";
import type { ACL } from "../../src/core/records.ts";
import { defaultTransport } from "../../src/transport/auto.ts";
import { TappedTransport } from "../client/support/tapped_transport.ts";
import { waitFor } from "../support/wait_for.ts";
import { saslJudgeTests } from "./support/sasl_judge.ts";

/** Explicit because Bun otherwise stops a test after 5 s. */
const testTimeoutMs = 180_000;
const BOB_ONLY: ACL[] = [{ perms: 31, id: { scheme: "sasl", id: "bob" } }];
const dec = new TextDecoder();

const EXPECTED = {
  bob: {
    state: "connected",
    saslAuthenticated: true,
    saslIdentities: [{ authScheme: "sasl", user: "bob" }],
    acl: [[31, "sasl", "bob"]],
    data: "for bob",
    afterReconnect: {
      read: "for bob",
      events: ["Disconnected", "SyncConnected", "SaslAuthenticated"],
      saslAuthenticated: true,
      sameSession: true,
    },
  },
  bob_wrong_password: { connect: "AUTHFAILED", state: "authFailed", later: "AUTHFAILED" },
  alice: { state: "connected", read: "NOAUTH" },
  anonymous: { state: "connected", read: "NOAUTH" },
};

function outcome(error: unknown): string {
  if (error instanceof KeeperError) return codeName(error.code);
  throw error;
}

async function readOutcome(client: Client, path: string): Promise<string> {
  try {
    return dec.decode((await client.getData(path)).data);
  } catch (error) {
    return outcome(error);
  }
}

function sasl(username: string, password: string) {
  return { mechanism: "DIGEST-MD5" as const, username, password };
}

async function scenario(connectString: string): Promise<unknown> {
  const transport = new TappedTransport(await defaultTransport());
  const options = { transport, sessionTimeoutMs: 10_000, reconnectDelayMs: 200 };
  const path = "/client_sasl_judge";

  const bob = await createClient(connectString, { ...options, sasl: sasl("bob", "bobsecret") });
  let bobResult;
  try {
    const saslAuthenticated = bob.saslAuthenticated;
    const who = await bob.whoAmI();
    await bob.create(path, "for bob", { acl: BOB_ONLY });
    const { acl } = await bob.getACL(path);
    const data = await readOutcome(bob, path);
    const events: string[] = [];
    await bob.exists(path, { watch: (event: WatchEvent) => events.push(event.type === "None" ? event.state : event.type) });
    const sessionId = bob.sessionId;
    // Drop the connection; the read is made while disconnected and must wait for the new exchange.
    let read: Promise<string> | null = null;
    const unsubscribe = bob.on("state", (state) => {
      if (state === "disconnected" && read === null) read = readOutcome(bob, path);
    });
    transport.lastSocket!.close();
    const afterRead = await (await waitFor(() => read, { timeoutMs: 30_000, what: "bob to notice the drop" }));
    unsubscribe();
    await waitFor(() => events.includes("SaslAuthenticated"), { timeoutMs: 30_000, what: "SaslAuthenticated" });
    bobResult = {
      state: bob.state,
      saslAuthenticated,
      saslIdentities: who.filter((c) => c.authScheme === "sasl").map((c) => ({ authScheme: c.authScheme, user: c.user })),
      acl: acl.map((entry) => [entry.perms, entry.id.scheme, entry.id.id]),
      data,
      afterReconnect: {
        read: afterRead,
        events: [...events],
        saslAuthenticated: bob.saslAuthenticated,
        sameSession: bob.sessionId === sessionId,
      },
    };
  } finally {
    await bob.close();
  }

  const failing = new Client(connectString, { ...options, sasl: sasl("bob", "wrong") });
  const failedConnect = await failing.connect().then(() => "connected", outcome);
  const later = await failing.getData(path).then(() => "ok", outcome);
  const failingState = failing.state;
  await failing.close();

  const alice = await createClient(connectString, { ...options, sasl: sasl("alice", "alicesecret") });
  const anonymous = await createClient(connectString, options);
  try {
    return {
      bob: bobResult,
      bob_wrong_password: { connect: failedConnect, state: failingState, later },
      alice: { state: alice.state, read: await readOutcome(alice, path) },
      anonymous: { state: anonymous.state, read: await readOutcome(anonymous, path) },
    };
  } finally {
    await alice.close();
    await anonymous.close();
  }
}

describe("Corral's client with SASL DIGEST-MD5", () => {
  saslJudgeTests({
    zooKeeperNeeds: [],
    // Needs no Java itself; skipped with the ZooKeeper run so that the two always run together.
    corralNeeds: ["java", "zookeeper"],
    observe: scenario,
    expected: EXPECTED,
    timeoutMs: testTimeoutMs,
  });
});

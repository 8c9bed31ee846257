/**
 * SASL between members (issue 12 item 5: quorum.auth.enableSasl, learnerRequireSasl,
 * serverRequireSasl with DIGEST-MD5 credentials from a JAAS file), against a real 3-member
 * ensemble of `corral serve` processes on 127.0.0.1, on every runtime.
 *
 * - A member whose QuorumLearner password is wrong never joins; the other two serve, and the write
 *   they acknowledge reaches it once it comes back with the right password.
 * - A stranger on a quorum port that names itself a member but does not authenticate is closed
 *   (serverRequireSasl), and the member says why.
 * - One member's JAAS file also has a Server section: clients authenticate with SASL there, while
 *   the others' files hold the quorum sections only (client SASL is then off, as in ZooKeeper).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "../../src/client/mod.ts";
import { type EnsembleMember, ProcessEnsemble } from "../support/ensemble_processes.ts";
import { helloAnswered } from "../support/peer_hello_probe.ts";
import { runtime } from "../support/runtime.ts";

const STEP_MS = 30_000;
/** How long the member with the wrong password is given to (wrongly) join. */
const OUTSIDER_WAIT_MS = 4000;

function jaas(learnerPassword: string, clientUsers: boolean): string {
  return [
    "QuorumServer {",
    "  org.apache.zookeeper.server.auth.DigestLoginModule required",
    '  user_member="quorum-secret";',
    "};",
    "QuorumLearner {",
    "  org.apache.zookeeper.server.auth.DigestLoginModule required",
    '  username="member"',
    `  password="${learnerPassword}";`,
    "};",
    ...(clientUsers ? ["Server {", "  org.apache.zookeeper.server.auth.DigestLoginModule required", '  user_bob="bobsecret";', "};"] : []),
  ].join("\n");
}

describe("quorum SASL: members authenticate to each other", () => {
  test(`members on ${runtime()}: a wrong password stays out, an unauthenticated stranger is closed, the right password joins and catches up`, {
    timeout: 300_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-quorum-sasl-"));
    const outsider = 3;
    const jaasOf = (id: number) => join(dir, `jaas-${id}.conf`);
    for (const id of [1, 2, 3]) writeFileSync(jaasOf(id), jaas(id === outsider ? "not-the-secret" : "quorum-secret", id === 1));
    const ensemble = await ProcessEnsemble.create(dir, [runtime(), runtime(), runtime()], {
      tickMs: 100,
      stepMs: STEP_MS,
      extraLines: ["quorum.auth.enableSasl=true", "quorum.auth.learnerRequireSasl=true", "quorum.auth.serverRequireSasl=true"],
      memberLines: (id) => [`java.security.auth.login.config=${jaasOf(id)}`],
    });
    const clients: { close(): Promise<void> }[] = [];
    try {
      await Promise.all(ensemble.members.map((member) => ensemble.start(member)));
      const insiders = ensemble.members.filter((member) => member.id !== outsider);
      const modes = await ensemble.servingWithout(outsider, "members 1 and 2 to form a quorum, authenticated", OUTSIDER_WAIT_MS);
      assert.equal(modes.get(outsider), "-", `the member with the wrong password must not serve; modes: ${JSON.stringify([...modes])}`);
      assert.match(ensemble.output(), /wrong password for user "member"/, "the members say why they refused it");
      assert.match(ensemble.output(), /the member refused our SASL authentication as user/, "and the outsider hears it");

      // A SASL client on member 1, whose JAAS file has a Server section.
      const client = await createClient(ensemble.connectString([insiders[0]!]), { sasl: { mechanism: "DIGEST-MD5", username: "bob", password: "bobsecret" } });
      clients.push(client);
      await client.create("/written-by-authenticated-quorum", new TextEncoder().encode("acknowledged"));

      // A stranger naming itself member 3 without authenticating.
      const lowest: EnsembleMember = ensemble.members[0]!;
      assert.equal(await helloAnswered(lowest.quorumPort, outsider, lowest.id, null), "closed", "an unauthenticated hello");
      assert.match(ensemble.output(), /server 3 did not authenticate with SASL \(its quorum\.auth\.learnerRequireSasl is false\), but quorum\.auth\.serverRequireSasl is true here/);

      // The outsider comes back with the right password: it joins and catches up.
      const third = ensemble.members[outsider - 1]!;
      await ensemble.kill(third);
      writeFileSync(jaasOf(outsider), readFileSync(jaasOf(outsider), "utf8").replace("not-the-secret", "quorum-secret"));
      await ensemble.start(third);
      await ensemble.waitFor(async () => (await ensemble.modes()).get(outsider) === "follower", "member 3 to follow");
      const reader = await createClient(ensemble.connectString([third]));
      clients.push(reader);
      await reader.sync("/written-by-authenticated-quorum");
      assert.equal(new TextDecoder().decode((await reader.getData("/written-by-authenticated-quorum")).data), "acknowledged");
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${ensemble.output()}`);
    } finally {
      await Promise.allSettled(clients.map((client) => client.close()));
      await ensemble.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * quorum.auth.* in zoo.cfg (src/cli/quorum_sasl_config.ts): the keys, ZooKeeper's rules between
 * the three switches, the QuorumServer and QuorumLearner sections of the JAAS file, and that
 * `corral serve` refuses to start on a contradiction or a missing JAAS file, saying what to set.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultQuorumSaslCfg, quorumSaslConflict, quorumSaslFromJaas } from "../../src/cli/quorum_sasl_config.ts";
import { enforcedAuthSchemes } from "../../src/cli/serve_command.ts";
import { parseZooCfg } from "../../src/cli/zoo_cfg.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { ProcessEnsemble } from "../support/ensemble_processes.ts";
import { runtime } from "../support/runtime.ts";

const JAAS = `
QuorumServer { org.apache.zookeeper.server.auth.DigestLoginModule required user_test="test" user_other="x"; };
QuorumLearner { org.apache.zookeeper.server.auth.DigestLoginModule required username="test" password="test"; };
`;

describe("quorum.auth.* keys", () => {
  test("read with and without the zookeeper. prefix; the Kerberos principal is accepted", () => {
    const cfg = parseZooCfg([
      "quorum.auth.enableSasl=true",
      "zookeeper.quorum.auth.learnerRequireSasl=true",
      "quorum.auth.serverRequireSasl=true",
      "quorum.auth.learner.saslLoginContext=Learner2",
      "quorum.auth.server.saslLoginContext=Server2",
      "quorum.auth.kerberos.servicePrincipal=zkquorum/localhost",
    ].join("\n"));
    assert.deepEqual(cfg.quorumSasl, { enabled: true, learnerRequired: true, serverRequired: true, learnerSection: "Learner2", serverSection: "Server2" });
    assert.deepEqual(cfg.warnings, []);
    assert.throws(() => parseZooCfg("quorum.auth.enableSasl=yes"), /quorum\.auth\.enableSasl must be true or false, got "yes"/);
    // Java's Boolean.parseBoolean ignores case, so ZooKeeper does.
    assert.equal(parseZooCfg("quorum.auth.enableSasl=True").quorumSasl.enabled, true);
    assert.match(parseZooCfg("quorum.auth.enableSas=true").warnings.join("\n"), /did you mean quorum\.auth\.enableSasl\?/);
  });

  test("ZooKeeper's rules between the switches", () => {
    const cfg = (enabled: boolean, learnerRequired: boolean, serverRequired: boolean) => ({ ...defaultQuorumSaslCfg(), enabled, learnerRequired, serverRequired });
    assert.match(quorumSaslConflict(cfg(false, false, true))!, /quorum\.auth\.enableSasl is disabled, so cannot enable quorum\.auth\.serverRequireSasl/);
    assert.match(quorumSaslConflict(cfg(false, true, false))!, /quorum\.auth\.enableSasl is disabled, so cannot enable quorum\.auth\.learnerRequireSasl/);
    assert.match(quorumSaslConflict(cfg(true, false, true))!, /quorum\.auth\.learnerRequireSasl is disabled, so cannot enable quorum\.auth\.serverRequireSasl/);
    for (const ok of [cfg(false, false, false), cfg(true, false, false), cfg(true, true, false), cfg(true, true, true)]) assert.equal(quorumSaslConflict(ok), null);
  });

  test("a JAAS file without the clients' section: enforcing sasl says that section is missing", () => {
    const cfg = parseZooCfg("enforce.auth.enabled=true\nenforce.auth.schemes=sasl\n").sasl;
    assert.throws(() => enforcedAuthSchemes(cfg, false, "the JAAS file j.conf has no 'Server' section with client users"), /scheme sasl .* is not available: this server has ip, digest \(the JAAS file j\.conf has no 'Server' section with client users\)/);
  });

  test("the JAAS sections: users, credentials, and clear errors for what is missing or Kerberos", () => {
    const required = { ...defaultQuorumSaslCfg(), enabled: true, learnerRequired: true, serverRequired: true };
    assert.deepEqual(quorumSaslFromJaas(required, JAAS, "j.conf"), {
      learner: { username: "test", password: "test" },
      users: new Map([["test", "test"], ["other", "x"]]),
      serverRequired: true,
    });
    // Not required: this member does not authenticate when it dials, but still checks who does.
    assert.equal(quorumSaslFromJaas({ ...required, learnerRequired: false, serverRequired: false }, JAAS, "j.conf").learner, null);
    assert.throws(() => quorumSaslFromJaas(required, "QuorumServer { M required user_a=\"b\"; };", "j.conf"), /j\.conf line 1: no 'QuorumLearner' section \(found: QuorumServer\)/);
    assert.throws(() => quorumSaslFromJaas(required, "QuorumLearner { M required username=\"a\" password=\"b\"; };", "j.conf"), /no 'QuorumServer' section/);
    assert.throws(
      () => quorumSaslFromJaas(required, "QuorumServer { M required user_a=\"b\"; };\nQuorumLearner { M required username=\"a\"; };", "j.conf"),
      /section QuorumLearner has no entry with both username and password options/,
    );
    const kerberos = 'QuorumServer { M required user_a="b"; };\nQuorumLearner {\n com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;\n};';
    assert.throws(() => quorumSaslFromJaas(required, kerberos, "j.conf"), /j\.conf line 3: .*Kerberos \(GSSAPI\) is not supported, only DIGEST-MD5/);
    const noUsers = 'QuorumServer { com.sun.security.auth.module.Krb5LoginModule required; };\nQuorumLearner { M required username="a" password="b"; };';
    assert.throws(() => quorumSaslFromJaas(required, noUsers, "j.conf"), /section QuorumServer names no members' users/);
  });

  test("corral serve refuses a contradiction, and enableSasl without a JAAS file, saying what to set", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-quorum-sasl-cfg-"));
    try {
      const cases: Array<[string[], RegExp]> = [
        [["quorum.auth.enableSasl=true", "quorum.auth.serverRequireSasl=true"], /quorum\.auth\.learnerRequireSasl is disabled, so cannot enable quorum\.auth\.serverRequireSasl/],
        [["quorum.auth.enableSasl=true"], /quorum\.auth\.enableSasl=true needs a JAAS file with QuorumServer and QuorumLearner sections: set java\.security\.auth\.login\.config/],
      ];
      for (const [index, [lines, refusal]] of cases.entries()) {
        const ensemble = await ProcessEnsemble.create(join(dir, String(index)), [runtime(), runtime(), runtime()], { extraLines: lines });
        const member = ensemble.members[0]!;
        const started = startCorralProcess({ args: [ensemble.configOf(member), "--data-dir", member.dataDir, "--port", String(member.clientPort)], startTimeoutMs: 60_000 });
        await assert.rejects(started, refusal);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

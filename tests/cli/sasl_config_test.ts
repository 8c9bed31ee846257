/**
 * SASL configuration: the JAAS file (src/driver/sasl/jaas_config.ts), zoo.cfg's SASL keys, the
 * --jaas-config flag, and that `corral serve` refuses to start on a malformed JAAS file with an
 * error naming the file and the line.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "../../src/cli/args.ts";
import { parseZooCfg } from "../../src/cli/zoo_cfg.ts";
import { JaasConfigError, parseJaasConfig, saslConfigFromJaas, saslUsersOf } from "../../src/driver/sasl/jaas_config.ts";
import { startCorralProcess } from "../support/corral_process.ts";

const GOOD = `/* ZooKeeper's JAAS file */
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
    user_bob="bobsecret"   // bob
    user_alice="a \\"quoted\\" pass;word"
    debug=true;
};
Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="bobsecret";
};
`;

describe("JAAS file", () => {
  test("sections, entries, options, comments and escapes", () => {
    const config = parseJaasConfig(GOOD, "jaas.conf");
    assert.deepEqual([...config.keys()], ["Server", "Client"]);
    const [entry] = config.get("Server")!;
    assert.equal(entry!.module, "org.apache.zookeeper.server.auth.DigestLoginModule");
    assert.equal(entry!.flag, "required");
    assert.equal(entry!.line, 3);
    assert.deepEqual(saslUsersOf(config, "jaas.conf"), new Map([["bob", "bobsecret"], ["alice", 'a "quoted" pass;word']]));
    const sasl = saslConfigFromJaas(GOOD, "jaas.conf", { superUser: "alice" });
    assert.equal(sasl.users.get("bob"), "bobsecret");
    assert.equal(sasl.superUser, "alice");
  });

  const malformed: Array<[string, string, number, RegExp]> = [
    ["a missing ;", 'Server {\n  M required\n  user_bob="x"\n};\nOther {\n  M required;\n};\n', 4, /expected an option name or ";"/],
    ["an unclosed quote", 'Server {\n  M required user_bob="x;\n};\n', 2, /never closed/],
    ["a bad control flag", "Server {\n  M mandatory user_bob=x;\n};\n", 2, /control flag/],
    ["an option without a value", "Server {\n  M required\n user_bob=;\n};\n", 3, /no value/],
    ["no ; after the section", "Server {\n  M required user_bob=x;\n}\n", 3, /the file ends/],
    ["a repeated section", "Server { M required; };\nServer { M required; };\n", 2, /twice/],
  ];
  for (const [what, text, line, message] of malformed) {
    test(`${what} is an error naming the file and line ${line}`, () => {
      assert.throws(() => parseJaasConfig(text, "/etc/jaas.conf"), (error: unknown) => {
        assert.ok(error instanceof JaasConfigError, String(error));
        assert.equal(error.line, line, error.message);
        assert.match(error.message, new RegExp(`^/etc/jaas\\.conf line ${line}: `));
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test("a file without the Server section is refused (ZooKeeper does not start either)", () => {
    assert.throws(() => saslConfigFromJaas("Client { M required; };", "j.conf"), /no 'Server' section \(found: Client\)/);
    // zookeeper.sasl.serverconfig names another section.
    assert.deepEqual(saslConfigFromJaas("Zk { M required user_x=\"y\"; };", "j.conf", { section: "Zk" }).users, new Map([["x", "y"]]));
  });
});

describe("zoo.cfg and flags", () => {
  test("zoo.cfg's SASL keys, with and without the zookeeper. prefix", () => {
    const cfg = parseZooCfg([
      "clientPort=2181",
      "java.security.auth.login.config=/etc/zk/jaas.conf",
      "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
      "zookeeper.superUser=admin",
      "SASLAuthenticationProvider.superPassword=rootpw",
      "zookeeper.sasl.serverconfig=ZkServer",
    ].join("\n"));
    assert.deepEqual(cfg.sasl, {
      jaasConfigPath: "/etc/zk/jaas.conf",
      serverSection: "ZkServer",
      superUser: "admin",
      superPassword: "rootpw",
      enforceAuthEnabled: false,
      enforceAuthSchemes: [],
      sessionRequireClientSaslAuth: false,
    });
    assert.deepEqual(cfg.warnings, []);
    const other = parseZooCfg("clientPort=2181\nauthProvider.2=com.example.Custom\n");
    assert.match(other.warnings.join("\n"), /authProvider\.2=com\.example\.Custom is not a provider corral has/);
  });

  test("--jaas-config", () => {
    const command = parseArgs(["serve", "--port", "2181", "--jaas-config", "/etc/jaas.conf"]);
    assert.equal(command.kind === "serve" ? command.args.jaasConfigPath : null, "/etc/jaas.conf");
  });

  test("corral serve refuses to start on a malformed JAAS file, naming file and line", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-jaas-"));
    try {
      const path = join(dir, "jaas.conf");
      writeFileSync(path, 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="x"\n};\n');
      await assert.rejects(startCorralProcess({ args: ["--jaas-config", path] }), (error: unknown) => {
        assert.match(String(error), new RegExp(`corral: ${path.replace(/[.]/g, "\\.")} line 4: expected an option name or ";"`));
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

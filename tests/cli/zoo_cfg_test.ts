import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseArgs, UsageError } from "../../src/cli/args.ts";
import { enforcedAuthSchemes, planServe, ServePlanError } from "../../src/cli/serve_command.ts";
import { parseZooCfg, ZooCfgError } from "../../src/cli/zoo_cfg.ts";

const SAMPLE = `# The number of milliseconds of each tick
tickTime=2000
initLimit=10
syncLimit=5
dataDir=/tmp/zookeeper
clientPort=2181
#maxClientCnxns=60
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
`;

describe("zoo.cfg", () => {
  test("--data-dir moves the log too, unless zoo.cfg sets dataLogDir (issue 10 item 1)", () => {
    const args = parseArgs(["serve", "zoo.cfg", "--data-dir", "/member1"]);
    assert.equal(args.kind, "serve");
    if (args.kind !== "serve") return;
    const moved = planServe(args.args, parseZooCfg("clientPort=2181\ndataDir=/shared\n"), 0);
    assert.equal(moved.dataDir, "/member1");
    assert.equal(moved.dataLogDir, null, "the log lives in /member1, not in the zoo.cfg's /shared");
    const explicit = planServe(args.args, parseZooCfg("clientPort=2181\ndataDir=/shared\ndataLogDir=/fastdisk\n"), 0);
    assert.equal(explicit.dataLogDir, "/fastdisk");
  });

  test("an unknown key is warned about with the closest known key", () => {
    const cfg = parseZooCfg("clientPrt=2181\nticktime=2000\nsnapCnt=5\nmetricsProvider.className=x\n");
    assert.deepEqual(cfg.warnings, [
      "zoo.cfg line 1: unknown key clientPrt (kept, not used by corral); did you mean clientPort?",
      "zoo.cfg line 2: unknown key ticktime (kept, not used by corral); did you mean tickTime?",
      "zoo.cfg line 3: unknown key snapCnt (kept, not used by corral); did you mean snapCount?",
      "zoo.cfg line 4: metricsProvider.className x is not a provider corral has (it has org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider); no metrics endpoint",
    ]);
  });

  test("the sample zoo.cfg shipped with ZooKeeper", () => {
    const cfg = parseZooCfg(SAMPLE);
    assert.equal(cfg.tickTimeMs, 2000);
    assert.equal(cfg.initLimit, 10);
    assert.equal(cfg.syncLimit, 5);
    assert.equal(cfg.dataDir, "/tmp/zookeeper");
    assert.equal(cfg.dataLogDir, null, "unset: the log goes wherever dataDir ends up (after --data-dir)");
    assert.equal(cfg.clientPort, 2181);
    assert.equal(cfg.maxClientCnxns, 60);
    assert.equal(cfg.autopurgePurgeIntervalHours, 1);
    assert.deepEqual([...cfg.fourLetterWhitelist], ["srvr"]);
    assert.equal(cfg.juteMaxBuffer, 0xfffff);
    assert.deepEqual(cfg.warnings, []);
  });

  test("every known key, in the separators Java properties allow", () => {
    const cfg = parseZooCfg([
      "tickTime: 1000",
      "dataDir /data",
      "dataLogDir=/log",
      "clientPortAddress = 127.0.0.1",
      "clientPort=2182",
      "maxClientCnxns=0",
      "minSessionTimeout=3000",
      "maxSessionTimeout=-1",
      "4lw.commands.whitelist=ruok, stat ,mntr",
      "jute.maxbuffer=0x200000",
      "snapCount=5000",
      "zookeeper.extendedTypesEnabled=true",
      "DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
      "autopurge.snapRetainCount=1",
      "  ! a bang comment",
      "standaloneEnabled=false",
      "reconfigEnabled = true",
      "dynamicConfigFile=/conf/zoo.cfg.dynamic.100000000",
      "electionAlg=3",
    ].join("\r\n"));
    assert.equal(cfg.tickTimeMs, 1000);
    assert.equal(cfg.dataDir, "/data");
    assert.equal(cfg.dataLogDir, "/log");
    assert.equal(cfg.clientPortAddress, "127.0.0.1");
    assert.equal(cfg.clientPort, 2182);
    assert.equal(cfg.maxClientCnxns, 0);
    assert.equal(cfg.minSessionTimeoutMs, 3000);
    assert.equal(cfg.maxSessionTimeoutMs, null, "-1 means the default");
    assert.deepEqual([...cfg.fourLetterWhitelist].sort(), ["mntr", "ruok", "stat"]);
    assert.equal(cfg.juteMaxBuffer, 0x200000);
    assert.equal(cfg.snapCount, 5000);
    assert.equal(cfg.extendedTypesEnabled, true);
    assert.equal(cfg.superDigest, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
    assert.equal(cfg.autopurgeSnapRetainCount, 3, "ZooKeeper raises it to at least 3");
    assert.equal(cfg.standaloneEnabled, false);
    assert.equal(cfg.reconfigEnabled, true);
    assert.equal(cfg.dynamicConfigFile, "/conf/zoo.cfg.dynamic.100000000");
    assert.equal(cfg.unknown.get("electionAlg"), "3");
    assert.equal(cfg.warnings.length, 1);
    assert.match(cfg.warnings[0]!, /line 19: unknown key electionAlg/);
  });

  test("server.N lines with roles, client ports and IPv6", () => {
    const cfg = parseZooCfg([
      "server.1=zk1:2888:3888",
      "server.2=zk2:2888:3888:participant;2181",
      "server.3=[::1]:2888:3888:observer;0.0.0.0:2182",
    ].join("\n"));
    assert.deepEqual(cfg.servers, [
      { id: 1, host: "zk1", quorumPort: 2888, electionPort: 3888, role: "participant", clientHost: null, clientPort: null },
      { id: 2, host: "zk2", quorumPort: 2888, electionPort: 3888, role: "participant", clientHost: null, clientPort: 2181 },
      { id: 3, host: "::1", quorumPort: 2888, electionPort: 3888, role: "observer", clientHost: "0.0.0.0", clientPort: 2182 },
    ]);
  });

  test("'*' allows every four-letter word; unknown words are warned about and dropped", () => {
    assert.deepEqual([...parseZooCfg("4lw.commands.whitelist=*").fourLetterWhitelist], ["*"]);
    const cfg = parseZooCfg("4lw.commands.whitelist=ruok,nope");
    assert.deepEqual([...cfg.fourLetterWhitelist], ["ruok"]);
    assert.match(cfg.warnings[0]!, /unknown four-letter word "nope"/);
  });

  test("continuation lines and repeated keys", () => {
    const cfg = parseZooCfg("4lw.commands.whitelist=ruok,\\\n    srvr\nclientPort=1\nclientPort=2\n");
    assert.deepEqual([...cfg.fourLetterWhitelist], ["ruok", "srvr"]);
    assert.equal(cfg.clientPort, 2);
    assert.match(cfg.warnings[0]!, /line 4: clientPort repeats line 3/);
  });

  test("malformed values fail with the source, line number and what is expected", () => {
    const cases: [string, RegExp][] = [
      ["\n\ntickTime=abc", /^my.cfg line 3: tickTime \(ms\) must be an integer/],
      ["clientPort=70000", /line 1: clientPort must be in 0\.\.65535, got 70000/],
      ["maxClientCnxns=-1", /line 1: maxClientCnxns \(0 = unlimited\) must be in 0\.\./],
      ["extendedTypesEnabled=yes", /line 1: extendedTypesEnabled must be true or false/],
      ["server.1=zk1:2888", /line 1: server\.1 must be server\.N=host:quorumPort:electionPort/],
      ["server.x=zk1:2888:3888", /line 1: the N of server\.x \(server id\) must be a number/],
      ["server.1=zk1:2888:3888:leader", /role must be participant or observer/],
      ["dataDir=", /line 1: dataDir is empty/],
      ["tickTime=1000\nminSessionTimeout=50000", /line 2: minSessionTimeout \(50000 ms\) must not be larger than maxSessionTimeout \(20000 ms\)/],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => parseZooCfg(text, { source: "my.cfg" }), (error: Error) => {
        assert.ok(error instanceof ZooCfgError, `${text}: ${error}`);
        assert.match(error.message, message);
        return true;
      });
    }
  });
});

describe("serve plan (zoo.cfg + flags)", () => {
  const serveArgs = (argv: string[]) => {
    const command = parseArgs(["serve", ...argv]);
    assert.equal(command.kind, "serve");
    return command.kind === "serve" ? command.args : (null as never);
  };

  test("flags override the file; host defaults to clientPortAddress, then 0.0.0.0", () => {
    const cfg = parseZooCfg("tickTime=1000\nclientPort=2181\nclientPortAddress=10.0.0.1\nmaxClientCnxns=5\n");
    const fromFile = planServe(serveArgs(["zoo.cfg"]), cfg, 1234);
    assert.equal(fromFile.host, "10.0.0.1");
    assert.equal(fromFile.port, 2181);
    assert.equal(fromFile.maxClientCnxns, 5);
    assert.equal(fromFile.config.tickTimeMs, 1000);
    assert.equal(fromFile.config.minSessionTimeoutMs, 2000);
    assert.equal(fromFile.config.maxSessionTimeoutMs, 20000);
    assert.equal(fromFile.config.sessionIdSeedMs, 1234);
    const overridden = planServe(serveArgs(["zoo.cfg", "--port", "0", "--host", "127.0.0.1", "--4lw", "ruok,srvr", "--max-client-cnxns", "0"]), cfg, 0);
    assert.equal(overridden.port, 0);
    assert.equal(overridden.host, "127.0.0.1");
    assert.equal(overridden.maxClientCnxns, 0);
    assert.deepEqual([...overridden.fourLetterWhitelist], ["ruok", "srvr"]);
    const noFile = planServe(serveArgs(["--port", "2181"]), null, 0);
    assert.equal(noFile.host, "0.0.0.0");
    assert.equal(noFile.config.tickTimeMs, 2000);
  });

  test("an ensemble config and a missing client port are refused with an explanation", () => {
    const ensemble = parseZooCfg("clientPort=2181\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n");
    assert.throws(() => planServe(serveArgs(["zoo.cfg"]), ensemble, 0), (error: Error) =>
      error instanceof ServePlanError && /lists 3 servers \(an ensemble\) but no dataDir/.test(error.message));
    assert.throws(() => planServe(serveArgs(["zoo.cfg"]), parseZooCfg("tickTime=2000"), 0), /sets no clientPort/);
    const single = parseZooCfg("server.1=a:1:2;127.0.0.1:2190\n");
    const plan = planServe(serveArgs(["zoo.cfg"]), single, 0);
    assert.equal(plan.port, 2190);
    assert.equal(plan.host, "127.0.0.1");
  });

  test("readonlymode.enabled turns read-only mode on for an ensemble member and enables isro; local sessions for members only", () => {
    const text = "clientPort=2181\ndataDir=/d\nreadonlymode.enabled=true\nlocalSessionsEnabled=true\n" +
      "server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n";
    const cfg = parseZooCfg(text);
    assert.equal(cfg.readOnlyModeEnabled, true);
    assert.deepEqual(cfg.localSessions, { enabled: true, upgrading: false });
    assert.deepEqual(cfg.warnings, []);
    const plan = planServe(serveArgs(["zoo.cfg"]), cfg, 0, "2");
    assert.deepEqual(plan.config.localSessions, { upgrading: false });
    const standalone = planServe(serveArgs(["zoo.cfg"]), parseZooCfg("clientPort=2181\nlocalSessionsEnabled=true\nlocalSessionsUpgradingEnabled=true\n"), 0);
    assert.equal(standalone.config.localSessions, undefined, "a standalone server has no local sessions (as ZooKeeper's)");
    assert.equal(plan.ensemble?.readOnlyMode, true);
    assert.deepEqual([...plan.fourLetterWhitelist].sort(), ["isro", "srvr"], "clients probe read-only servers with isro");
    const off = planServe(serveArgs(["zoo.cfg"]), parseZooCfg(text.replace("readonlymode.enabled=true", "")), 0, "2");
    assert.equal(off.ensemble?.readOnlyMode, false);
    assert.deepEqual([...off.fourLetterWhitelist], ["srvr"]);
    assert.throws(() => parseZooCfg("readonlymode.enabled=yes\n"), /readonlymode\.enabled/);
  });

  test("sslQuorum and portUnification apply to ensemble members only; a standalone server warns that it ignores them", () => {
    const ensemble = "clientPort=2181\ndataDir=/d\nsslQuorum=true\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n";
    assert.equal(planServe(serveArgs(["zoo.cfg"]), parseZooCfg(ensemble), 0, "2").quorumTls?.enabled, true);
    assert.equal(planServe(serveArgs(["zoo.cfg"]), parseZooCfg(ensemble.replace("sslQuorum=true\n", "")), 0, "2").quorumTls, null);
    const standalone = planServe(serveArgs(["zoo.cfg"]), parseZooCfg("clientPort=2181\nsslQuorum=true\n"), 0);
    assert.equal(standalone.quorumTls, null);
    assert.ok(standalone.warnings.some((warning) => /sslQuorum and portUnification ignored/.test(warning)), standalone.warnings.join("\n"));
    // portUnification alone (a rolling upgrade's first step) also gives the quorum port its TLS settings.
    const unified = planServe(serveArgs(["zoo.cfg"]), parseZooCfg(ensemble.replace("sslQuorum=true\n", "portUnification=true\n")), 0, "2").quorumTls;
    assert.deepEqual([unified?.enabled, unified?.portUnification], [false, true]);
    assert.throws(() => parseZooCfg("portUnification=on\n"), /portUnification must be true or false/);
    assert.equal(parseZooCfg("sslQuorumReloadCertFiles=true\n").quorumTls.reloadCertFiles, true);
    assert.equal(parseZooCfg("clientPort=2181\n").quorumTls.reloadCertFiles, false);
  });

  test("client.portUnification: clientPort takes TLS with the ssl.* settings, whose clients get the x509 scheme; without a plaintext port it is ignored", () => {
    const unified = planServe(serveArgs(["zoo.cfg"]), parseZooCfg("clientPort=2181\nclient.portUnification=true\nssl.keyStore.location=/k.pem\n"), 0);
    assert.equal(unified.unified?.keyStore.location, "/k.pem");
    assert.equal(unified.secure, null);
    assert.equal(unified.config.x509, true, "clientAuth defaults to need: certificates name clients");
    const anonymous = planServe(serveArgs(["zoo.cfg"]), parseZooCfg("clientPort=2181\nclient.portUnification=true\nssl.clientAuth=none\n"), 0);
    assert.notEqual(anonymous.unified, null);
    assert.notEqual(anonymous.config.x509, true);
    assert.equal(planServe(serveArgs(["zoo.cfg"]), parseZooCfg("clientPort=2181\n"), 0).unified, null);
    const tlsOnly = planServe(serveArgs(["zoo.cfg"]), parseZooCfg("secureClientPort=2281\nclient.portUnification=true\n"), 0);
    assert.equal(tlsOnly.unified, null);
    assert.ok(tlsOnly.warnings.some((warning) => /client\.portUnification ignored/.test(warning)), tlsOnly.warnings.join("\n"));
    assert.throws(() => parseZooCfg("client.portUnification=yes\n"), /client\.portUnification must be true or false/);
    // ZooKeeper's unified port needs the x509 provider named; corral has it built in and says nothing.
    const named = parseZooCfg("clientPort=2181\nauthProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n");
    assert.deepEqual(named.warnings, []);
  });

  test("enforce.auth: the schemes ZooKeeper 3.8 would enforce, and its refusals of a bad setup", () => {
    const sasl = (text: string) => parseZooCfg(text).sasl;
    assert.deepEqual(enforcedAuthSchemes(sasl("enforce.auth.schemes=sasl\n"), true), [], "off unless enabled");
    assert.deepEqual(enforcedAuthSchemes(sasl("enforce.auth.enabled=true\nenforce.auth.schemes=sasl, digest\n"), true), ["sasl", "digest"]);
    assert.deepEqual(enforcedAuthSchemes(sasl("sessionRequireClientSASLAuth=true\n"), true), ["sasl"]);
    assert.throws(() => enforcedAuthSchemes(sasl("enforce.auth.enabled=true\n"), true), /enforce\.auth\.schemes is empty/);
    assert.throws(() => enforcedAuthSchemes(sasl("enforce.auth.enabled=true\nenforce.auth.schemes=sasl\n"), false), /scheme sasl .* is not available.*configure SASL/);
    assert.throws(() => enforcedAuthSchemes(sasl("enforce.auth.enabled=true\nenforce.auth.schemes=x509\n"), true), /scheme x509/);
  });

  test("output and auth bounds come from flags; unset ones keep the driver's defaults", () => {
    const plan = planServe(serveArgs([
      "--port", "0", "--output-bytes-max-per-connection", "1048576", "--output-buffer-bytes-max=8388608",
      "--output-bytes-max-total", "67108864", "--auth-identities-max", "10",
    ]), null, 0);
    assert.deepEqual(plan.outputLimits, {
      outputBytesMaxPerConnection: 1048576,
      outputBufferBytesMax: 8388608,
      outputBytesMaxTotal: 67108864,
    });
    assert.equal(plan.config.authIdentitiesMax, 10);
    const defaults = planServe(serveArgs(["--port", "0"]), null, 0);
    assert.deepEqual(defaults.outputLimits, {});
    assert.equal(defaults.config.authIdentitiesMax, undefined);
    assert.throws(() => parseArgs(["serve", "--port", "0", "--auth-identities-max", "0"]), /--auth-identities-max must be an integer in 1\.\./);
  });

  test("usage errors name the bad argument", () => {
    assert.throws(() => parseArgs(["serve"]), UsageError);
    assert.throws(() => parseArgs(["serve", "--port", "x"]), /--port must be an integer in 0\.\.65535, got "x"/);
    assert.throws(() => parseArgs(["serve", "--port"]), /--port needs a value/);
    assert.throws(() => parseArgs(["frobnicate"]), /unknown command "frobnicate"/);
    assert.deepEqual(parseArgs(["--help"]), { kind: "help" });
    const command = parseArgs(["serve", "--port=0", "--log-level=debug"]);
    assert.ok(command.kind === "serve" && command.args.port === 0 && command.args.logLevel === "debug");
  });
});

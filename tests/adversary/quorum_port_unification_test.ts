/**
 * portUnification on the quorum port: ZooKeeper's rolling upgrade of a running ensemble from
 * plaintext to sslQuorum, one member restarted at a time, with three `corral serve` processes on
 * 127.0.0.1. The stages, each rolled through members 1, 2, 3 in turn:
 *
 *   0. plaintext between members;
 *   1. portUnification=true with ssl.quorum.* stores: each member takes both, still dials plaintext;
 *   2. sslQuorum=true as well: members dial TLS, and still take the plaintext of those not there yet;
 *   3. sslQuorum=true alone: TLS only.
 *
 * After every restart the ensemble serves, and the restarted member has every write acknowledged so
 * far. Member 1 goes first at each stage and never dials (higher ids dial lower ones), so at stage 2
 * it is cut off unless it takes the plaintext the others still dial. TLS connections stay checked
 * throughout: a hello over a CA-signed certificate for another host is closed at stage 2, and at
 * stage 3 so is a plaintext one. Every member also has client.portUnification on: its clients'
 * TLS settings must not leak onto the quorum port.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createClient } from "../../src/client/mod.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { type EnsembleMember, ProcessEnsemble } from "../support/ensemble_processes.ts";
import { helloAnswered } from "../support/peer_hello_probe.ts";
import { runtime } from "../support/runtime.ts";
import { makeTlsCerts, skipUnlessOpenssl, type TlsCerts } from "../support/tls_certs.ts";

const STEP_MS = 30_000;
const requireOpenssl = process.env.CORRAL_REQUIRE_COMPAT === "1";

type Stage = 0 | 1 | 2 | 3;

/** The zoo.cfg lines of a member at `stage`, and the client TLS every member has. */
function stageLines(certs: TlsCerts, stage: Stage): string[] {
  const stores = [`ssl.quorum.keyStore.location=${certs.serverKeyStore}`, `ssl.quorum.trustStore.location=${certs.caCert}`];
  const quorum = [
    [],
    ["portUnification=true", ...stores],
    ["portUnification=true", "sslQuorum=true", ...stores],
    ["sslQuorum=true", ...stores],
  ][stage]!;
  return [...quorum, "client.portUnification=true", `ssl.keyStore.location=${certs.serverKeyStore}`, "ssl.clientAuth=none"];
}

describe("quorum portUnification: a rolling upgrade from plaintext to sslQuorum", () => {
  test("under Deno, portUnification refuses to start and says why", {
    skip: runtime() !== "deno" ? `members under ${runtime()} run the upgrade below` : skipUnlessOpenssl(requireOpenssl),
    timeout: 120_000,
  }, async () => {
    const certs = makeTlsCerts();
    const dir = mkdtempSync(join(tmpdir(), "corral-quorum-unified-deno-"));
    try {
      const ensemble = await ProcessEnsemble.create(dir, ["deno", "deno", "deno"], { memberLines: () => stageLines(certs, 1) });
      const member = ensemble.members[0]!;
      const started = startCorralProcess({
        runtime: "deno",
        args: [ensemble.configOf(member), "--data-dir", member.dataDir, "--port", String(member.clientPort)],
        startTimeoutMs: 60_000,
      });
      await assert.rejects(started, /portUnification: members verify each other's certificates, which Deno's node:tls server cannot do/);
    } finally {
      certs.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`members on ${runtime()}: every restart keeps the ensemble serving and the restarted member current`, {
    skip: runtime() === "deno" ? "Deno's node:tls server cannot verify member certificates (the test above)" : skipUnlessOpenssl(requireOpenssl),
    timeout: 400_000,
  }, async () => {
    const certs = makeTlsCerts();
    const dir = mkdtempSync(join(tmpdir(), "corral-quorum-unified-"));
    const ensemble = await ProcessEnsemble.create(dir, [runtime(), runtime(), runtime()], {
      tickMs: 100,
      stepMs: STEP_MS,
      memberLines: () => stageLines(certs, 0),
    });
    const writes: string[] = [];
    /** Writes through one member, then reads every write so far through `member` after a sync. */
    const writeAndCheck = async (member: EnsembleMember, what: string) => {
      const other = ensemble.members.find((candidate) => candidate.id !== member.id)!;
      const writer = await createClient(ensemble.connectString([other]), { initialConnectTimeoutMs: STEP_MS });
      try {
        const path = `/upgrade-${writes.length}`;
        await writer.create(path, new TextEncoder().encode(what));
        writes.push(path);
      } finally {
        await writer.close();
      }
      const reader = await createClient(ensemble.connectString([member]), { initialConnectTimeoutMs: STEP_MS });
      try {
        await reader.sync("/");
        const children = (await reader.getChildren("/")).filter((name) => name.startsWith("upgrade-")).map((name) => `/${name}`).sort();
        assert.deepEqual(children, [...writes].sort(), `member ${member.id} after: ${what}`);
      } finally {
        await reader.close();
      }
    };
    try {
      await ensemble.startAll();
      await writeAndCheck(ensemble.members[0]!, "stage 0, all plaintext");
      for (const stage of [1, 2, 3] as const) {
        for (const member of ensemble.members) {
          await ensemble.kill(member);
          const config = ensemble.configOf(member);
          const kept = readFileSync(config, "utf8").split("\n").filter((line) => line !== "" && !/^(portUnification|sslQuorum|ssl\.|client\.portUnification)/.test(line));
          writeFileSync(config, [...kept, ...stageLines(certs, stage)].join("\n") + "\n");
          await ensemble.start(member);
          const what = `member ${member.id} restarted at stage ${stage}`;
          await ensemble.waitForLeader(what);
          await writeAndCheck(member, what);
          if (stage === 2 && member.id === 1) {
            // Member 1 takes plaintext now, but a TLS hello still needs a certificate for member 3's host.
            const lowest = ensemble.members[0]!;
            assert.equal(
              await helloAnswered(lowest.quorumPort, 3, 1, { keyStore: certs.elsewhereKeyStore, ca: certs.caCert }),
              "closed",
              "a TLS hello over a certificate the CA signed for elsewhere.invalid, not for member 3's host",
            );
          }
        }
      }
      // TLS only now: a plaintext hello claiming member 3 is closed, the same over TLS answered.
      const lowest = ensemble.members[0]!;
      assert.equal(await helloAnswered(lowest.quorumPort, 3, 1, null), "closed", "a plaintext hello once portUnification is off");
      assert.equal(await helloAnswered(lowest.quorumPort, 3, 1, { keyStore: certs.serverKeyStore, ca: certs.caCert }), "answered");
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${ensemble.output()}`);
    } finally {
      await ensemble.stop();
      certs.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

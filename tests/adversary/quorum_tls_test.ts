/**
 * sslQuorum (issue 12 item 5), against a real 3-member ensemble of `corral serve` processes on
 * 127.0.0.1: members talk TLS to each other and check each other's certificates, while clients
 * use both the plaintext and the TLS client ports.
 *
 * - A member whose certificate comes from a CA the others do not trust never joins; the other two
 *   serve, and the write they acknowledge reaches it once it comes back with a good certificate.
 * - Strangers on a quorum port: a plaintext hello is closed at once; so is a TLS connection whose
 *   certificate the CA signed but for another host, though it claims a member's id in a well-formed
 *   hello (ssl.quorum.hostnameVerification). The same hello over a certificate for the member's
 *   host is answered: the probe can tell the two apart.
 * - Under Deno, whose node:tls server cannot verify client certificates, sslQuorum refuses to start.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "../../src/client/mod.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { type EnsembleMember, ProcessEnsemble } from "../support/ensemble_processes.ts";
import { freePort } from "../support/free_port.ts";
import { helloAnswered } from "../support/peer_hello_probe.ts";
import { runtime } from "../support/runtime.ts";
import { makeTlsCerts, skipUnlessOpenssl, type TlsCerts } from "../support/tls_certs.ts";

const STEP_MS = 30_000;
/** How long the member with the untrusted certificate is given to (wrongly) join. */
const OUTSIDER_WAIT_MS = 4000;

const requireOpenssl = process.env.CORRAL_REQUIRE_COMPAT === "1";

/** The lines every member shares and the ones that differ: its own key store and TLS client port. */
function quorumTlsLines(certs: TlsCerts, keyStore: string, securePort: number): string[] {
  return [
    "sslQuorum=true",
    `ssl.quorum.keyStore.location=${keyStore}`,
    `ssl.quorum.trustStore.location=${certs.caCert}`,
    `secureClientPort=${securePort}`,
    `ssl.keyStore.location=${certs.serverKeyStore}`,
    "ssl.clientAuth=none",
  ];
}

describe("sslQuorum: TLS between members, certificates checked against the server list", () => {
  test("under Deno, sslQuorum refuses to start and says why", {
    skip: runtime() !== "deno" ? `members under ${runtime()} run the ensemble test below` : skipUnlessOpenssl(requireOpenssl),
    timeout: 120_000,
  }, async () => {
    const certs = makeTlsCerts();
    const dir = mkdtempSync(join(tmpdir(), "corral-quorum-tls-deno-"));
    try {
      const ensemble = await ProcessEnsemble.create(dir, ["deno", "deno", "deno"], {
        extraLines: ["sslQuorum=true", `ssl.quorum.keyStore.location=${certs.serverKeyStore}`, `ssl.quorum.trustStore.location=${certs.caCert}`],
      });
      const member = ensemble.members[0]!;
      const started = startCorralProcess({
        runtime: "deno",
        args: [ensemble.configOf(member), "--data-dir", member.dataDir, "--port", String(member.clientPort)],
        startTimeoutMs: 60_000,
      });
      await assert.rejects(started, /sslQuorum: members verify each other's certificates, which Deno's node:tls server cannot do/);
    } finally {
      certs.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`members on ${runtime()}: an untrusted member stays out, strangers are closed, a good member joins and catches up`, {
    skip: runtime() === "deno" ? "Deno's node:tls server cannot verify client certificates (the test above)" : skipUnlessOpenssl(requireOpenssl),
    timeout: 300_000,
  }, async () => {
    const certs = makeTlsCerts();
    const dir = mkdtempSync(join(tmpdir(), "corral-quorum-tls-"));
    const securePorts = new Map<number, number>();
    for (const id of [1, 2, 3]) securePorts.set(id, await freePort());
    const outsider = 3;
    const ensemble = await ProcessEnsemble.create(dir, [runtime(), runtime(), runtime()], {
      tickMs: 100,
      stepMs: STEP_MS,
      memberLines: (id) => quorumTlsLines(certs, id === outsider ? certs.rogueKeyStore : certs.serverKeyStore, securePorts.get(id)!),
    });
    const clients: { close(): Promise<void> }[] = [];
    try {
      await Promise.all(ensemble.members.map((member) => ensemble.start(member)));
      const insiders = ensemble.members.filter((member) => member.id !== outsider);
      const modes = await ensemble.servingWithout(outsider, "members 1 and 2 to form a quorum over TLS", OUTSIDER_WAIT_MS);
      assert.equal(modes.get(outsider), "-", `the member with an untrusted certificate must not serve; modes: ${JSON.stringify([...modes])}\n${ensemble.output()}`);
      assert.match(ensemble.output(), /quorum TLS: TLS handshake failed/, "the members say why they refused it");

      // Clients on the plaintext port of one member and the TLS port of the other.
      const plain = await createClient(ensemble.connectString([insiders[0]!]));
      clients.push(plain);
      const secure = await createClient(`127.0.0.1:${securePorts.get(insiders[1]!.id)}`, { tls: { ca: readFileSync(certs.caCert, "utf8") } });
      clients.push(secure);
      await plain.create("/written-over-tls-quorum", new TextEncoder().encode("acknowledged"));
      await secure.sync("/written-over-tls-quorum");
      assert.equal(new TextDecoder().decode((await secure.getData("/written-over-tls-quorum")).data), "acknowledged");

      // Strangers on member 1's quorum port, each claiming to be member 3 (higher ids dial lower ones).
      const lowest: EnsembleMember = ensemble.members[0]!;
      assert.equal(await helloAnswered(lowest.quorumPort, outsider, lowest.id, null), "closed", "a plaintext hello");
      assert.equal(
        await helloAnswered(lowest.quorumPort, outsider, lowest.id, { keyStore: certs.elsewhereKeyStore, ca: certs.caCert }),
        "closed",
        "a hello over a certificate the CA signed for elsewhere.invalid, not for member 3's host",
      );
      assert.equal(
        await helloAnswered(lowest.quorumPort, outsider, lowest.id, { keyStore: certs.serverKeyStore, ca: certs.caCert }),
        "answered",
        "the same hello over a certificate for 127.0.0.1 (the probe can see an answer)",
      );
      assert.match(ensemble.output(), /does not name its host 127\.0\.0\.1/);

      // The outsider comes back with a certificate the others trust: it joins and catches up.
      await ensemble.kill(ensemble.members[outsider - 1]!);
      const config = ensemble.configOf(ensemble.members[outsider - 1]!);
      writeFileSync(config, readFileSync(config, "utf8").replace(certs.rogueKeyStore, certs.serverKeyStore));
      await ensemble.start(ensemble.members[outsider - 1]!);
      await ensemble.waitForLeader("all three members over TLS");
      const third = await createClient(ensemble.connectString([ensemble.members[outsider - 1]!]));
      clients.push(third);
      await third.sync("/written-over-tls-quorum");
      assert.equal(new TextDecoder().decode((await third.getData("/written-over-tls-quorum")).data), "acknowledged");
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${ensemble.output()}`);
    } finally {
      await Promise.allSettled(clients.map((client) => client.close()));
      await ensemble.stop();
      certs.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Throwaway TLS material for tests, made with `openssl` at test time in a temporary directory: a CA,
 * a server certificate for 127.0.0.1/localhost and a client certificate signed by it, and a second
 * ("rogue") CA with its own server certificate, which clients trusting the first CA must refuse.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findOnPath } from "./compat_availability.ts";

export interface TlsCerts {
  dir: string;
  /** PEM files. */
  caCert: string;
  serverKey: string;
  serverCert: string;
  /** Key then certificate in one file: ZooKeeper's PEM key store (ssl.keyStore.type=PEM). */
  serverKeyStore: string;
  clientKey: string;
  clientCert: string;
  /** The server's key store with its key encrypted (password KEY_STORE_PASSWORD), and as PKCS#12. */
  encryptedKeyStore: string;
  pkcs12KeyStore: string;
  /** A server key store signed by a CA nobody trusts, and that CA. */
  rogueKeyStore: string;
  rogueCaCert: string;
  /** A client certificate signed by the rogue CA, and its key. */
  rogueClientCert: string;
  rogueClientKey: string;
  /** Key and certificate signed by the trusted CA, for a host other than 127.0.0.1 (elsewhere.invalid). */
  elsewhereKeyStore: string;
  read(path: string): string;
  remove(): void;
}

export const KEY_STORE_PASSWORD = "keystore-secret";

/**
 * Why TLS tests cannot run here (no openssl), or false. With `required` (the compat judges under
 * CORRAL_REQUIRE_COMPAT=1) it never skips: the test runs and fails saying what to install.
 */
export function skipUnlessOpenssl(required = false): string | false {
  if (required) return false;
  return findOnPath("openssl") === null ? "openssl is not on PATH (needed to make test certificates; apt-get install openssl)" : false;
}

/** Makes the certificates (EC P-256: fast to generate). Throws with openssl's output on failure. */
export function makeTlsCerts(): TlsCerts {
  const dir = mkdtempSync(join(tmpdir(), "corral-tls-"));
  const path = (name: string) => join(dir, name);
  const run = (args: string[]) => {
    const result = spawnSync("openssl", args, { cwd: dir, encoding: "utf8", timeout: 30_000 });
    if (result.error !== undefined) throw new Error(`cannot run openssl (apt-get install openssl): ${result.error.message}`);
    if (result.status !== 0) throw new Error(`openssl ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const makeCa = (name: string) => run(["req", "-x509", ...ec, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${name}`]);
  const makeSigned = (name: string, ca: string, cn: string, ext: string | null) => {
    run(["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
    const extArgs = ext === null ? [] : ["-extfile", ext];
    run(["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", ...extArgs]);
  };
  writeFileSync(path("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  writeFileSync(path("elsewhere.ext"), "subjectAltName=DNS:elsewhere.invalid\n");
  makeCa("ca");
  makeCa("rogue-ca");
  makeSigned("server", "ca", "localhost", "server.ext");
  makeSigned("client", "ca", "corral-test-client", null);
  makeSigned("rogue", "rogue-ca", "localhost", "server.ext");
  makeSigned("rogue-client", "rogue-ca", "corral-rogue-client", null);
  makeSigned("elsewhere", "ca", "elsewhere.invalid", "elsewhere.ext");
  const read = (file: string) => readFileSync(file, "utf8");
  writeFileSync(path("server-keystore.pem"), read(path("server.key")) + read(path("server.pem")));
  run(["pkcs8", "-topk8", "-in", "server.key", "-out", "server-encrypted.key", "-passout", `pass:${KEY_STORE_PASSWORD}`]);
  writeFileSync(path("server-encrypted-keystore.pem"), read(path("server-encrypted.key")) + read(path("server.pem")));
  run(["pkcs12", "-export", "-inkey", "server.key", "-in", "server.pem", "-out", "server.p12", "-passout", `pass:${KEY_STORE_PASSWORD}`]);
  writeFileSync(path("rogue-keystore.pem"), read(path("rogue.key")) + read(path("rogue.pem")));
  writeFileSync(path("elsewhere-keystore.pem"), read(path("elsewhere.key")) + read(path("elsewhere.pem")));
  return {
    dir,
    caCert: path("ca.pem"),
    serverKey: path("server.key"),
    serverCert: path("server.pem"),
    serverKeyStore: path("server-keystore.pem"),
    clientKey: path("client.key"),
    clientCert: path("client.pem"),
    encryptedKeyStore: path("server-encrypted-keystore.pem"),
    pkcs12KeyStore: path("server.p12"),
    rogueKeyStore: path("rogue-keystore.pem"),
    rogueCaCert: path("rogue-ca.pem"),
    rogueClientCert: path("rogue-client.pem"),
    rogueClientKey: path("rogue-client.key"),
    elsewhereKeyStore: path("elsewhere-keystore.pem"),
    read,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

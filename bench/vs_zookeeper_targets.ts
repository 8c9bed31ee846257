/**
 * The servers the ZooKeeper comparison measures, each a separate process on 127.0.0.1 with its data
 * in a fresh temporary directory and fsync on: Apache ZooKeeper 3.8 (Debian's jars, the JVM's default
 * flags as Debian's zkServer.sh uses them, forceSync=yes) and `corral serve --data-dir` under Node,
 * Deno or Bun. Startup reuses the test support that the compatibility tests use.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { debianJavaDir, findOnPath } from "../tests/support/compat_availability.ts";
import { runtimeCommand, startCorralProcess } from "../tests/support/corral_process.ts";
import { fourLetterWord } from "../tests/support/four_letter_word.ts";
import { freePort } from "../tests/support/free_port.ts";
import { startRealZooKeeper } from "../tests/support/real_zookeeper.ts";
import type { RuntimeName } from "../tests/support/runtime.ts";
import type { TlsCerts } from "../tests/support/tls_certs.ts";
import { waitFor } from "../tests/support/wait_for.ts";
import { NETTY_JARS, tlsConfig } from "../tests/compat/support/tls_judge.ts";

export type TargetKind = "zookeeper" | RuntimeName;

export interface BenchTarget {
  kind: TargetKind;
  /** "Apache ZooKeeper 3.8.0 (OpenJDK 17.0.15)", "Corral on Node 20.20.2". */
  label: string;
  /** The server processes whose CPU time is charged to this target (one while standalone). */
  pids: number[];
  /** "host:port" of each server. */
  servers: string[];
  /** Set when clients must reach `servers` over TLS: the CA to trust. */
  clientTls?: { ca: string };
  /** An ensemble's `srvr` mode of each pid ("leader", "follower") once formed; absent when standalone. */
  roles?: string[];
  /** Stops every process by its pid and removes the temporary directories. Safe to call twice. */
  stop(): Promise<void>;
}

/** What ZooKeeper needs and is missing: a description, the Debian packages, and the apt-get line. */
export interface ZooKeeperMissing {
  missing: string;
  packages: string[];
  command: string;
}

/**
 * What ZooKeeper needs and is missing; null when nothing is. Looks afresh each call (not through
 * compatAvailability's cache), so it sees what an install just added.
 */
export function zooKeeperMissing(): ZooKeeperMissing | null {
  const missing: string[] = [];
  const packages: string[] = [];
  if (findOnPath("java") === null) {
    missing.push("java");
    packages.push("default-jre-headless");
  }
  if (!existsSync(join(debianJavaDir, "zookeeper.jar"))) {
    missing.push("Debian's zookeeper jars (/usr/share/java/zookeeper.jar)");
    packages.push("zookeeper");
  }
  if (missing.length === 0) return null;
  return { missing: missing.join(" and "), packages, command: `apt-get install -y ${packages.join(" ")}` };
}

/** The TLS settings both servers get in the TLS setup: one PEM key store, no client certificates. */
function benchTlsConfig(certs: TlsCerts, securePort: number): Record<string, string> {
  return { ...tlsConfig(certs, securePort), "ssl.clientAuth": "none" };
}

/** `tls`: clients use a TLS port (secureClientPort) configured with these certificates. */
export async function startZooKeeperTarget(tls?: TlsCerts): Promise<BenchTarget> {
  const securePort = tls === undefined ? null : await freePort();
  const server = await startRealZooKeeper({
    // fsync every group commit (ZooKeeper's default), written out so the config says so.
    extraConfig: { forceSync: "yes", ...(tls === undefined ? {} : benchTlsConfig(tls, securePort!)) },
    // The JVM's own defaults (heap, GC, tiered JIT), as Debian's zkServer.sh starts it; its TLS
    // (Netty) connection factory needs the netty jars Debian's manifest leaves out.
    jvmFlags: tls === undefined ? [] : [`-Xbootclasspath/a:${NETTY_JARS.join(":")}`],
    startTimeoutMs: 60_000,
  });
  let version = "3.8";
  try {
    const srvr = await fourLetterWord(server.host, server.port, "srvr", 5000);
    version = /Zookeeper version: ([\d.]+)/.exec(srvr)?.[1] ?? version;
  } catch {
    // The label just says 3.8.
  }
  return {
    kind: "zookeeper",
    label: `Apache ZooKeeper ${version} (${javaVersion()})`,
    pids: [server.pid],
    servers: [securePort === null ? server.connectString : `127.0.0.1:${securePort}`],
    ...(tls === undefined ? {} : { clientTls: { ca: tls.read(tls.caCert) } }),
    stop: () => server.stop(),
  };
}

export interface CorralTargetOptions {
  /** For Node only: write a V8 CPU profile (--cpu-prof) into this directory when the server exits. */
  cpuProfileDir?: string;
  /** Clients use a TLS port (secureClientPort) configured with these certificates. */
  tls?: TlsCerts;
}

export async function startCorralTarget(
  which: RuntimeName,
  options: CorralTargetOptions = {},
): Promise<BenchTarget> {
  const label = `Corral on ${runtimeVersion(which)}`;
  const dataDir = mkdtempSync(join(tmpdir(), `corral-vszk-${which}-`));
  // Node refuses --cpu-prof in NODE_OPTIONS, so it goes on the command line.
  const runtimeArgs = which === "node" && options.cpuProfileDir !== undefined
    ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`]
    : [];
  // The TLS setup's zoo.cfg: secureClientPort=0, so corral says which port it got.
  const config = `${dataDir}.cfg`;
  try {
    const tls = options.tls;
    if (tls !== undefined) {
      writeFileSync(config, Object.entries({ tickTime: "2000", ...benchTlsConfig(tls, 0) }).map(([key, value]) => `${key}=${value}\n`).join(""));
    }
    const server = await startCorralProcess({
      runtime: which,
      runtimeArgs,
      args: [...(tls === undefined ? [] : [config]), "--data-dir", dataDir],
      startTimeoutMs: 120_000,
    });
    const securePort = tls === undefined ? null : await waitFor(() => /corral: serving TLS on 127\.0\.0\.1:(\d+)/.exec(server.output())?.[1], {
      timeoutMs: 10_000,
      what: "corral's 'serving TLS on' line",
    }).catch(async (error) => {
      await server.stop();
      throw error;
    });
    let stopped = false;
    return {
      kind: which,
      label,
      pids: [server.pid],
      servers: [securePort === null ? server.connectString : `127.0.0.1:${securePort}`],
      ...(tls === undefined ? {} : { clientTls: { ca: tls.read(tls.caCert) } }),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        try {
          await server.stop();
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
          rmSync(config, { force: true });
        }
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(config, { force: true });
    throw error;
  }
}

/** "Node 20.20.2", "Deno 2.9.6", "Bun 1.4.5"; throws if the runtime cannot be found. */
export function runtimeVersion(which: RuntimeName): string {
  const [command] = runtimeCommand(which);
  const probe = spawnSync(command!, ["--version"], { encoding: "utf8", timeout: 30_000 });
  const first = (probe.stdout ?? "").trim().split("\n")[0] ?? "";
  const number = /(\d+\.\d+\.\d+)/.exec(first)?.[1] ?? "(version unknown)";
  const name = which === "node" ? "Node" : which === "deno" ? "Deno" : "Bun";
  return `${name} ${number}`;
}

/** "OpenJDK 17.0.15", or "Java" when `java -version` says nothing usable. */
export function javaVersion(): string {
  const java = findOnPath("java") ?? "java";
  const probe = spawnSync(java, ["-version"], { encoding: "utf8", timeout: 30_000 });
  const version = /version "([^"]+)"/.exec(probe.stderr ?? "")?.[1];
  const vendor = /OpenJDK/.test(probe.stderr ?? "") ? "OpenJDK" : "Java";
  return version === undefined ? "Java" : `${vendor} ${version}`;
}

/**
 * What the TLS judges share: the zoo.cfg keys both servers get, and the JVM flags Debian's ZooKeeper
 * needs to serve TLS. Used by tls_kazoo_test.ts (kazoo and Corral's client) and tls_java_cli_test.ts
 * (ZooKeeper's own CLI).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CorralProcess, startCorralProcess } from "../../support/corral_process.ts";
import type { TlsCerts } from "../../support/tls_certs.ts";
import { waitFor } from "../../support/wait_for.ts";

/**
 * Debian's zookeeper.jar lists netty's buffer, common, handler and transport jars in its manifest
 * but not netty-codec and netty-resolver, which its TLS (Netty) connection factory needs. Putting
 * all of netty on the boot class path (JVM flags are the only class path knob real_zookeeper.ts
 * offers) keeps every netty class in one loader.
 */
export const NETTY_JARS = ["common", "buffer", "resolver", "transport", "transport-native-unix-common", "codec", "handler"]
  .map((name) => `/usr/share/java/netty-${name}.jar`);
export const ZOOKEEPER_TLS_JVM_FLAGS = [
  "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
  `-Xbootclasspath/a:${NETTY_JARS.join(":")}`,
];

/** The zoo.cfg TLS keys both servers get (ZooKeeper also needs its Netty connection factory). */
export function tlsConfig(certs: TlsCerts, securePort: number): Record<string, string> {
  return {
    serverCnxnFactory: "org.apache.zookeeper.server.NettyServerCnxnFactory",
    secureClientPort: String(securePort),
    "ssl.keyStore.location": certs.serverKeyStore,
    "ssl.keyStore.type": "PEM",
    "ssl.trustStore.location": certs.caCert,
    "ssl.trustStore.type": "PEM",
  };
}


/**
 * `corral serve` with the judges' TLS zoo.cfg (plus `extra` keys; secureClientPort=0, so corral
 * prints the port it got), once its TLS listener is up. The caller stops it.
 */
export async function startTlsCorral(certs: TlsCerts, extra: Record<string, string> = {}): Promise<{ corral: CorralProcess; securePort: string }> {
  const cfgPath = join(certs.dir, "zoo.cfg");
  const lines = Object.entries({ tickTime: "2000", clientPort: "0", ...tlsConfig(certs, 0), ...extra }).map(([key, value]) => `${key}=${value}\n`);
  writeFileSync(cfgPath, lines.join(""));
  const corral = await startCorralProcess({ args: [cfgPath] });
  try {
    const securePort = await waitFor(() => /corral: serving TLS on 127\.0\.0\.1:(\d+)/.exec(corral.output())?.[1], {
      timeoutMs: 10_000,
      what: "corral's 'serving TLS on' line",
    });
    return { corral, securePort };
  } catch (error) {
    await corral.stop();
    throw error;
  }
}

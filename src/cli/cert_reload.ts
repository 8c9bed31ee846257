/**
 * client.certReload (ZooKeeper 3.9's key) and sslQuorumReloadCertFiles: a TLS transport takes new
 * key and trust store files without a restart (the quorum's for what it accepts and dials alike).
 * The files are checked every second (size and modification time); when one changed, both are
 * loaded again and handed to the transport, so connections made from then on use them while open
 * ones keep theirs. Material that does not load (a file half written, a wrong
 * password) is reported and the old one kept; the next change of the files tries again.
 */
import { stat } from "node:fs/promises";
import type { Logger } from "../driver/logger.ts";
import type { TlsTransport } from "../transport/node_tls.ts";
import { loadTlsServerOptions, type TlsStoresCfg } from "./tls_config.ts";

const CHECK_INTERVAL_MS = 1000;

/** Starts watching; returns the function that stops it. */
export function watchCertFiles(tls: TlsStoresCfg, transport: TlsTransport, logger: Logger, intervalMs = CHECK_INTERVAL_MS): () => void {
  const [what, setting] = tls.prefix === "ssl.quorum." ? ["quorum TLS", "sslQuorumReloadCertFiles"] : ["TLS", "client.certReload"];
  const paths = [tls.keyStore.location, tls.trustStore.location].filter((path): path is string => path !== null);
  let last: string | null = null;
  let checking = false;
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      const seen = await signature(paths);
      if (last === null) {
        last = seen;
        return;
      }
      if (seen === last) return;
      last = seen;
      try {
        const { key, cert, pfx, passphrase, ca } = await loadTlsServerOptions(tls);
        transport.reload({ key, cert, pfx, passphrase, ca });
        logger.log("info", `${what}: reloaded ${paths.join(" and ")} (${setting}); new connections use them`);
      } catch (error) {
        logger.log("warn", `${what}: ${paths.join(" or ")} changed but did not load (${error instanceof Error ? error.message : String(error)}); keeping the previous key and certificates`);
      }
    } finally {
      checking = false;
    }
  };
  void check();
  const timer = setInterval(() => void check(), intervalMs);
  (timer as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
}

/** Size and modification time of every file ("missing" for one that is not there right now). */
async function signature(paths: readonly string[]): Promise<string> {
  const parts = await Promise.all(paths.map(async (path) => {
    try {
      const info = await stat(path);
      return `${info.size}:${info.mtimeMs}`;
    } catch {
      return "missing";
    }
  }));
  return parts.join("|");
}

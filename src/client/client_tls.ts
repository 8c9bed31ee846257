/**
 * ClientOptions.tls: the client's connections over TLS (ZooKeeper's secureClientPort), through
 * node:tls on Node, Deno and Bun. Loaded only when asked for, so browser bundles never see node:tls.
 */
import type { Transport } from "../transport/transport.ts";
import type { TlsClientOptions } from "../transport/node_tls.ts";

/** What `tls` takes: CA certificates to trust, an optional client certificate, the expected name. */
export type ClientTlsOptions = TlsClientOptions;

/** The transport for `options.tls`; throws TypeError for settings that contradict each other. */
export function tlsTransportLoader(tls: ClientTlsOptions, transport: Transport | undefined): () => Promise<Transport> {
  if (transport !== undefined) throw new TypeError("pass either transport or tls, not both: tls picks corral's node:tls transport");
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new TypeError("tls.cert and tls.key go together: give both (a client certificate) or neither");
  let loaded: Promise<Transport> | null = null;
  return () => {
    loaded ??= import("../transport/node_tls.ts").then((module) => module.nodeTlsTransport({ client: tls }));
    return loaded;
  };
}

/**
 * TLS and plaintext on one port: ZooKeeper's client.portUnification, and its portUnification on the
 * quorum port (a rolling upgrade to sslQuorum). As ZooKeeper's UnifiedServerSocket, the first byte
 * a connection sends tells the two apart: a TLS connection opens with a handshake record (content
 * type 22); a ZooKeeper request with the high byte of its length (0 below 16 MiB), a four-letter
 * word with a letter, a peer hello with its length's high byte. Whoever connects speaks first here,
 * so a connection that says nothing is dropped after the handshake timeout, as a TLS one that does
 * not finish its handshake, and at most handshakesPendingMax wait at once.
 *
 * node:tls cannot replay bytes already read from a TCP socket into a TLS socket layered on it, so
 * the TLS side runs over a small stream that starts with the byte read and then relays the socket.
 */
import type { Buffer } from "node:buffer";
import { createServer as createNetServer, type Socket as NetSocket } from "node:net";
import { Duplex } from "node:stream";
import { type SecureContext, TLSSocket } from "node:tls";
import { listenOn, NodeSocket } from "./node.ts";
import { handshakeErrorText, hasPeerCertificate, type TlsServerOptions, verifiedCertificate } from "./node_tls.ts";
import type { Listener, ListenOptions, Socket, SocketHandler } from "./transport.ts";

/** The first byte of a TLS connection: a record of type handshake (RFC 8446 section 5.1). */
const TLS_HANDSHAKE_RECORD = 22;

/** Listens on one port for both; `context` is the current key material (a reload replaces it). */
export function listenUnified(
  options: TlsServerOptions,
  context: () => SecureContext,
  listen: ListenOptions,
  accept: (socket: Socket) => SocketHandler,
): Promise<Listener> {
  // Connections not yet past their first bytes or handshake: counted, and closed with the listener.
  const pending = new Set<NetSocket>();
  const pendingFrom = new Map<string, number>();
  const settleOf = new WeakMap<NetSocket, () => void>();
  const server = createNetServer({ allowHalfOpen: false }, (raw: NetSocket) => {
    const remote = { address: raw.remoteAddress ?? "", port: raw.remotePort ?? 0 };
    raw.on("error", () => {}); // reported through close; a reset before the first byte is routine
    const fromThere = pendingFrom.get(remote.address) ?? 0;
    const perAddressMax = options.handshakesPendingPerAddressMax;
    if (perAddressMax !== undefined && fromThere >= perAddressMax) {
      options.onHandshakeError?.(`more than ${perAddressMax} connections from this address have not finished their first bytes or TLS handshake; connection closed`, remote.address);
      raw.destroy();
      return;
    }
    if (pending.size >= options.handshakesPendingMax) {
      // The oldest goes, not the newcomer: whoever holds idle connections open cannot keep a real
      // client (or member), which speaks at once, from getting through.
      const oldest = pending.values().next().value!;
      options.onHandshakeError?.(`more than ${options.handshakesPendingMax} connections have not finished their first bytes or TLS handshake; the oldest closed`, oldest.remoteAddress ?? "");
      settleOf.get(oldest)?.();
      oldest.destroy();
    }
    pending.add(raw);
    pendingFrom.set(remote.address, fromThere + 1);
    let waiting = true;
    const settle = () => {
      if (!waiting) return;
      waiting = false;
      pending.delete(raw);
      const left = pendingFrom.get(remote.address)! - 1;
      if (left === 0) pendingFrom.delete(remote.address);
      else pendingFrom.set(remote.address, left);
      clearTimeout(timer);
    };
    const timer = setTimeout(() => {
      options.onHandshakeError?.(`no request and no TLS handshake within ${options.handshakeTimeoutMs} ms; connection closed`, remote.address);
      raw.destroy();
    }, options.handshakeTimeoutMs);
    raw.once("close", settle);
    settleOf.set(raw, settle);
    raw.setNoDelay(true);
    raw.once("data", (first: Buffer) => {
      raw.pause();
      if (first[0] !== TLS_HANDSHAKE_RECORD) {
        settle();
        raw.unshift(first);
        const socket = new NodeSocket(raw);
        socket.attach(accept(socket));
        raw.resume();
        return;
      }
      startTls(raw, first, remote, options, context(), settle, accept);
    });
  });
  return listenOn(server, listen, () => {
    for (const socket of pending) socket.destroy();
  });
}

function startTls(
  raw: NetSocket,
  first: Buffer,
  remote: { address: string; port: number },
  options: TlsServerOptions,
  secureContext: SecureContext,
  settle: () => void,
  accept: (socket: Socket) => SocketHandler,
): void {
  const tls = new TLSSocket(relay(raw, first), {
    isServer: true,
    secureContext,
    requestCert: options.clientAuth !== "none",
    rejectUnauthorized: options.clientAuth === "need",
  });
  const refuse = (why: string) => {
    options.onHandshakeError?.(why, remote.address);
    tls.destroy();
    raw.destroy();
  };
  const onError = (error: Error) => refuse(`TLS handshake failed: ${handshakeErrorText(error)}`);
  tls.on("error", onError);
  tls.once("secure", () => {
    settle();
    tls.off("error", onError);
    // Outside a tls.Server, node:tls reports errors after the handshake (a damaged record) only
    // under this internal name: the connection must not live on past them.
    tls.on("_tlsError", () => {
      tls.destroy();
      raw.destroy();
    });
    const presented = hasPeerCertificate(tls);
    const verdict = presented ? certificateVerdict(tls) : null;
    if (options.clientAuth === "need" && verdict !== "trusted") {
      refuse(`client certificate ${verdict === null ? "missing (ssl.clientAuth=need)" : `refused: ${verdict}`}`);
      return;
    }
    if (options.clientAuth === "want" && verdict !== null && verdict !== "trusted") {
      refuse(`client certificate refused: ${verdict}`);
      return;
    }
    const socket = new NodeSocket(tls as unknown as NetSocket, { certificate: verdict === "trusted" ? verifiedCertificate(tls) : undefined }, remote);
    socket.attach(accept(socket));
  });
}

/**
 * "trusted", or why the client's certificate is not. A TLS socket made outside a tls.Server is not
 * given a verdict by Node (Bun gives one): its OpenSSL handle's verify result is read then. A
 * runtime offering neither gets no trust (fail closed).
 */
function certificateVerdict(tls: TLSSocket): string {
  if (tls.authorized) return "trusted";
  const handle = (tls as unknown as { ssl?: { verifyError?: () => (Error & { code?: string }) | null } }).ssl;
  if (typeof handle?.verifyError !== "function") return "this runtime does not report whether it verified the certificate";
  const error = handle.verifyError();
  return error === null ? "trusted" : error.code ?? error.message;
}

/** A stream that yields `first` and then what `raw` reads, and writes to `raw`; backpressure both ways. */
function relay(raw: NetSocket, first: Buffer): Duplex {
  const stream = new Duplex({
    // A TLS socket takes this from the stream it wraps: the client's close_notify ends the connection.
    allowHalfOpen: false,
    read: () => {
      raw.resume();
    },
    write: (chunk: Buffer, _encoding, done) => {
      raw.write(chunk, (error) => done(error ?? null));
    },
    final: (done) => {
      raw.end();
      done();
    },
    destroy: (error, done) => {
      raw.destroy();
      done(error);
    },
  });
  stream.push(first);
  raw.on("data", (chunk: Buffer) => {
    if (!stream.push(chunk)) raw.pause();
  });
  raw.once("end", () => stream.push(null));
  raw.once("close", () => stream.destroy());
  return stream;
}

/**
 * Transport over node:tls: TLS toward clients (ZooKeeper's secureClientPort) and our client's TLS
 * connections. Node runs it natively; Deno and Bun run node:tls through their Node compatibility.
 * Deno's node:tls server cannot request and verify client certificates, so a listener asking for
 * them refuses to start there (tlsServerSupport) rather than silently accepting anyone.
 */
import { constants as cryptoConstants } from "node:crypto";
import {
  checkServerIdentity,
  connect as tlsConnect,
  createSecureContext,
  createServer,
  type PeerCertificate,
  type SecureContext,
  type TLSSocket,
} from "node:tls";
import type { Socket as NetSocket } from "node:net";
import { Buffer } from "node:buffer";
import { listenOn, NodeSocket, type VerifiedCertificate } from "./node.ts";
import { listenUnified } from "./port_unification.ts";
import type { ConnectOptions, Listener, ListenOptions, Socket, SocketHandler, Transport } from "./transport.ts";

export type TlsVersion = "TLSv1.2" | "TLSv1.3";
/** ZooKeeper's ssl.clientAuth: none (no client certificate), want (checked if sent), need (required). */
export type ClientAuth = "none" | "want" | "need";
/** PEM text or its bytes. */
export type Pem = string | Uint8Array;

/** What a TLS listener presents and demands. */
export interface TlsServerOptions {
  /** Private key and certificate chain (PEM); or `pfx` (PKCS#12) instead. */
  key?: Pem;
  cert?: Pem;
  pfx?: Uint8Array;
  /** Decrypts an encrypted PEM key or the PKCS#12 file. */
  passphrase?: string;
  /** CA certificates client certificates must chain to (the trust store); default: the system's. */
  ca?: Pem[];
  clientAuth: ClientAuth;
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  /** OpenSSL cipher list (TLS 1.2 names and TLS 1.3 suites); undefined: the runtime's defaults. */
  ciphers?: string;
  /** A connection that has not finished its handshake by then is dropped. */
  handshakeTimeoutMs: number;
  /** Connections still handshaking at once; more are closed at accept (each costs a TLS state). */
  handshakesPendingMax: number;
  /**
   * On a unified port (port_unification.ts), the same per client address; undefined: no such
   * bound. Set it to maxClientCnxns, so that one host cannot shut plaintext clients out before the
   * driver's per-address limit ever sees them.
   */
  handshakesPendingPerAddressMax?: number;
  /** Told once per connection whose handshake failed (bad bytes, bad certificate, timeout). */
  onHandshakeError?(message: string, remoteAddress: string): void;
}

/** How our client checks the server and who it says it is. */
export interface TlsClientOptions {
  /** CA certificates the server's certificate must chain to; default: the system's. */
  ca?: Pem | Pem[];
  /** A client certificate and its key, for servers with ssl.clientAuth=need (or want); or `pfx` (PKCS#12). */
  cert?: Pem;
  key?: Pem;
  pfx?: Uint8Array;
  passphrase?: string;
  /** The name the server's certificate must carry; default: the host connected to. */
  servername?: string;
  /** Default true. False accepts any server certificate: for experiments only. */
  rejectUnauthorized?: boolean;
  /**
   * Default true: the server's certificate must name the host connected to (or `servername`).
   * False checks only that it chains to `ca` (ZooKeeper's ssl.quorum.hostnameVerification=false).
   */
  hostnameVerification?: boolean;
  /** Default: the runtime's. */
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  ciphers?: string;
}

export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
export const DEFAULT_TLS_HANDSHAKES_PENDING_MAX = 1024;

/**
 * A Transport whose listen() serves TLS with `server` and whose connect() speaks TLS with `client`.
 * `unified`: listen() serves TLS and plaintext on one port (port_unification.ts).
 */
export function nodeTlsTransport(options: { server?: TlsServerOptions; client?: TlsClientOptions; unified?: boolean }): TlsTransport {
  const servers = new Set<TlsServer>();
  let material = options.server;
  let client = options.client;
  let context: SecureContext | null = null;
  return {
    name: options.unified === true ? "node-tls+plaintext" : "node-tls",
    listen: (listen, accept) => {
      if (material === undefined) return Promise.reject(new Error("this TLS transport has no server key and certificate; it can only connect"));
      if (options.unified !== true) return listenTls(material, listen, accept, servers);
      const unsupported = tlsServerSupport(material);
      if (unsupported !== null) return Promise.reject(new Error(`cannot serve TLS on ${listen.host}:${listen.port}: ${unsupported}`));
      const served = material;
      try {
        context ??= createSecureContext(secureContextOptions(served));
      } catch (error) {
        return Promise.reject(new Error(`cannot serve TLS on ${listen.host}:${listen.port}: the key or certificate is not usable: ${errorText(error)}`));
      }
      return listenUnified(served, () => context!, listen, accept);
    },
    connect: (connect, handler) => connectTls(client ?? {}, connect, handler),
    reload(next: TlsMaterial): void {
      if (material === undefined && client === undefined) throw new Error("this TLS transport has no key material to reload");
      // Checked before anything changes: a bad key leaves every listener and dialer as it was.
      const contextOptions = secureContextOptions({ ...material, ...next });
      const loaded = createSecureContext(contextOptions);
      if (client !== undefined) client = { ...client, ...next };
      if (material === undefined) return;
      material = { ...material, ...next };
      if (options.unified === true) context = loaded;
      for (const server of servers) server.setSecureContext(contextOptions);
    },
  };
}

/** The key, certificate and trust store of a TLS listener: what a certificate reload replaces. */
export type TlsMaterial = Pick<TlsServerOptions, "key" | "cert" | "pfx" | "passphrase" | "ca">;

/**
 * A TLS transport whose listeners can take new key and trust material without a restart (ZooKeeper
 * 3.9's client.certReload): connections made from then on use it, open ones keep theirs.
 * Throws, changing nothing, when the new material does not load.
 */
export interface TlsTransport extends Transport {
  /**
   * New key, certificates and CAs for connections made from now on, accepted and dialed alike;
   * open ones keep theirs. Throws, changing nothing, when they do not load.
   */
  reload(material: TlsMaterial): void;
}

type TlsServer = ReturnType<typeof createServer>;

/**
 * node:tls's secure context options for `options` (shared by the listeners and reloads). The session
 * id context lets clients resume sessions when certificates are verified (OpenSSL refuses to resume
 * without one, and only tls.Server sets it itself); renegotiation, which a client could otherwise
 * ask for without end, is off.
 */
function secureContextOptions(options: TlsMaterial & Partial<Pick<TlsServerOptions, "ciphers" | "minVersion" | "maxVersion">>) {
  return {
    sessionIdContext: "corral",
    secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION ?? 0,
    ...(options.key === undefined ? {} : { key: pemText(options.key) }),
    ...(options.cert === undefined ? {} : { cert: pemText(options.cert) }),
    ...(options.pfx === undefined ? {} : { pfx: Buffer.from(options.pfx.buffer, options.pfx.byteOffset, options.pfx.byteLength) }),
    ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
    ...(options.ca === undefined ? {} : { ca: options.ca.map(pemText) }),
    ...(options.ciphers === undefined ? {} : { ciphers: options.ciphers }),
    ...(options.minVersion === undefined ? {} : { minVersion: options.minVersion }),
    ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
  };
}

/** Null when this runtime can serve `options`; otherwise why not, for the operator. */
export function tlsServerSupport(options: Pick<TlsServerOptions, "clientAuth">): string | null {
  const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
  if (isDeno && options.clientAuth !== "none") {
    return `ssl.clientAuth=${options.clientAuth} needs client certificates verified, which Deno's node:tls server cannot do ` +
      `(it never asks for them); run corral under Node or Bun, or set ssl.clientAuth=none`;
  }
  return null;
}

function listenTls(options: TlsServerOptions, listen: ListenOptions, accept: (socket: Socket) => SocketHandler, servers: Set<TlsServer>): Promise<Listener> {
  const unsupported = tlsServerSupport(options);
  if (unsupported !== null) return Promise.reject(new Error(`cannot serve TLS on ${listen.host}:${listen.port}: ${unsupported}`));
  let open = 0;
  let established = 0;
  let server: ReturnType<typeof createServer>;
  try {
    server = createServer({
      ...secureContextOptions(options),
      requestCert: options.clientAuth !== "none",
      // "want" lets a client without a certificate in; one that sends a bad certificate is refused below.
      rejectUnauthorized: options.clientAuth === "need",
      handshakeTimeout: options.handshakeTimeoutMs,
      allowHalfOpen: false,
    }, (raw: TLSSocket) => {
      if (options.clientAuth === "want" && !raw.authorized && hasPeerCertificate(raw)) {
        options.onHandshakeError?.(`client certificate refused: ${String(raw.authorizationError)}`, peerAddress(raw));
        raw.destroy();
        return;
      }
      established++;
      raw.once("close", () => established--);
      // A TLS error after the handshake (a damaged record) leaves node:tls's socket open: close it.
      raw.on("error", () => raw.destroy());
      const socket = new NodeSocket(raw, { certificate: raw.authorized ? verifiedCertificate(raw) : undefined });
      socket.attach(accept(socket));
    });
  } catch (error) {
    return Promise.reject(new Error(`cannot serve TLS on ${listen.host}:${listen.port}: the key or certificate is not usable: ${errorText(error)}`));
  }
  // Handshakes in progress = TCP connections open - TLS sessions established: clients that open
  // connections and never finish a handshake cannot hold more than handshakesPendingMax of them.
  server.on("connection", (raw: NetSocket) => {
    if (open - established >= options.handshakesPendingMax) {
      options.onHandshakeError?.(`more than ${options.handshakesPendingMax} TLS handshakes in progress; connection closed`, raw.remoteAddress ?? "");
      raw.destroy();
      return;
    }
    open++;
    raw.once("close", () => open--);
  });
  // Before the handshake ends node:tls only reports errors here and leaves the socket open (a
  // handshake timeout included): close it, and say why once.
  server.on("tlsClientError", (error: Error, tls: TLSSocket) => {
    options.onHandshakeError?.(`TLS handshake failed: ${handshakeErrorText(error)}`, peerAddress(tls));
    tls.destroy();
  });
  const listening = listenOn(server, listen, () => servers.delete(server));
  return listening.then((listener) => {
    servers.add(server);
    return listener;
  });
}

/** One line: OpenSSL's messages carry a source path and a trailing newline. */
export function handshakeErrorText(error: Error): string {
  const code = (error as { code?: unknown }).code;
  const text = error.message.replace(/\s+/g, " ").replace(/:\.\.\/[^ ]*/g, "").trim().slice(0, 300);
  return typeof code === "string" && !text.includes(code) ? `${code} (${text})` : text;
}

/** The client's address; a socket the peer already closed may have forgotten it, its TCP socket not. */
function peerAddress(tls: TLSSocket): string {
  const parent = (tls as TLSSocket & { _parent?: { remoteAddress?: string } })._parent;
  return tls.remoteAddress ?? parent?.remoteAddress ?? "(closed)";
}

/**
 * The verified client certificate's subject in RFC 2253 form, as ZooKeeper's x509 scheme names a
 * client (X500Principal.getName()): the most specific attribute first, RFC 2253's escapes.
 * node:tls gives the attributes in certificate order; a multi-valued one comes as an array.
 */
function peerSubjectOf(socket: TLSSocket): string | undefined {
  const subject = socket.getPeerCertificate()?.subject as unknown as Record<string, string | string[]> | undefined;
  if (subject === undefined || subject === null || Object.keys(subject).length === 0) return undefined;
  const parts = Object.entries(subject).flatMap(([type, value]) => (Array.isArray(value) ? value : [value]).map((one) => `${type}=${escapeRdnValue(one)}`));
  return parts.reverse().join(",");
}

/** The verified peer certificate of `socket`: its subject, and whether it names a given host. */
export function verifiedCertificate(socket: TLSSocket): VerifiedCertificate | undefined {
  const certificate = socket.getPeerCertificate();
  if (certificate === null || typeof certificate !== "object" || Object.keys(certificate).length === 0) return undefined;
  return {
    subject: peerSubjectOf(socket),
    checkHost: (host) => hostMismatch(host, certificate),
  };
}

/** Why `certificate` does not name `host` (node:tls's hostname rules), or null when it does. */
function hostMismatch(host: string, certificate: PeerCertificate): string | null {
  return checkServerIdentity(host, certificate)?.message ?? null;
}

/** RFC 2253 section 2.4: a backslash before , + " \ < > ; anywhere, # or space first, space last. */
function escapeRdnValue(value: string): string {
  return value.replace(/[,+"\\<>;]/g, (char) => `\\${char}`).replace(/^[ #]/, (char) => `\\${char}`).replace(/ $/, "\\ ");
}

export function hasPeerCertificate(socket: TLSSocket): boolean {
  const certificate = socket.getPeerCertificate();
  return certificate !== null && typeof certificate === "object" && Object.keys(certificate).length > 0;
}

function connectTls(options: TlsClientOptions, connect: ConnectOptions, handler: SocketHandler): Promise<Socket> {
  const where = `${connect.host}:${connect.port}`;
  const ca = options.ca === undefined ? undefined : (Array.isArray(options.ca) ? options.ca : [options.ca]).map(pemText);
  const servername = options.servername ?? (isIpAddress(connect.host) ? undefined : connect.host);
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let raw: TLSSocket;
    const fail = (message: string) => {
      clearTimeout(timer);
      raw?.destroy();
      reject(new Error(message));
    };
    try {
      raw = tlsConnect({
        host: connect.host,
        port: connect.port,
        ...(ca === undefined ? {} : { ca }),
        ...(options.cert === undefined ? {} : { cert: pemText(options.cert) }),
        ...(options.key === undefined ? {} : { key: pemText(options.key) }),
        ...(options.pfx === undefined ? {} : { pfx: Buffer.from(options.pfx.buffer, options.pfx.byteOffset, options.pfx.byteLength) }),
        ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
        ...(servername === undefined ? {} : { servername }),
        ...(options.minVersion === undefined ? {} : { minVersion: options.minVersion }),
        ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
        ...(options.ciphers === undefined ? {} : { ciphers: options.ciphers }),
        ...(options.hostnameVerification === false ? { checkServerIdentity: () => undefined } : {}),
        rejectUnauthorized: options.rejectUnauthorized ?? true,
      });
    } catch (error) {
      reject(new Error(`cannot connect to ${where} over TLS: ${errorText(error)}`));
      return;
    }
    const onError = (error: Error) => fail(`cannot connect to ${where} over TLS: ${error.message}`);
    raw.once("error", onError);
    if (connect.timeoutMs !== undefined) {
      timer = setTimeout(() => fail(`cannot connect to ${where} over TLS: no handshake within ${connect.timeoutMs} ms`), connect.timeoutMs);
    }
    raw.once("secureConnect", () => {
      clearTimeout(timer);
      raw.off("error", onError);
      const socket = new NodeSocket(raw, { certificate: raw.authorized ? verifiedCertificate(raw) : undefined });
      socket.attach(handler);
      resolve(socket);
    });
  });
}

function pemText(pem: Pem): string {
  return typeof pem === "string" ? pem : new TextDecoder().decode(pem);
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

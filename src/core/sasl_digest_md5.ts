/**
 * The server side of SASL DIGEST-MD5 (RFC 2831), authentication only (qop=auth), as ZooKeeper's
 * Java SASL server runs it for clients: the client opens with an empty token, the server answers
 * with a challenge (realm, nonce, qop, charset, algorithm), the client answers with a
 * digest-response, and the server checks it and proves it knows the password too (rspauth).
 *
 * Pure: the nonce comes in from outside (the driver draws it from a CSPRNG when the connection
 * opens), so the same inputs give the same tokens. Every input is bounded: the response token by
 * RFC 2831's 4096 bytes, the exchange by its two steps (a third is a failure).
 */
import { hex, md5 } from "./md5.ts";

/** RFC 2831 §2.1.2: "The size of a digest-response is less than 4096 bytes." */
export const DIGEST_RESPONSE_BYTES_MAX = 4096;

export interface DigestMd5ServerOptions {
  /** The password of a user, or null for an unknown user. */
  passwordOf(username: string): string | null;
  /** The server nonce: at least 64 bits of fresh randomness, as printable ASCII without `"` or `\`. */
  nonce: string;
  /** The realm offered in the challenge (ZooKeeper: "zk-sasl-md5"). */
  realm: string;
  /** The digest-uri the client must name: "<service>/<server name>" (ZooKeeper: "zookeeper/zk-sasl-md5"). */
  digestUri: string;
}

export type DigestMd5Step =
  | { kind: "challenge"; token: Uint8Array }
  /** Authenticated: `token` (rspauth) goes back to the client; `username` is the authentication id. */
  | { kind: "success"; token: Uint8Array; username: string; authzid: string | null }
  /** Refused; `reason` is for the server log only (the client just gets AUTHFAILED). */
  | { kind: "failure"; reason: string };

const latin1 = new TextDecoder("latin1");
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8 = new TextEncoder();

export class DigestMd5Server {
  readonly #options: DigestMd5ServerOptions;
  #stage: "start" | "challenged" | "done" = "start";

  constructor(options: DigestMd5ServerOptions) {
    if (!/^[\x21-\x7e]{8,}$/.test(options.nonce) || /["\\,]/.test(options.nonce)) {
      throw new Error("DIGEST-MD5 nonce must be at least 8 printable ASCII characters without quotes, backslashes or commas");
    }
    this.#options = options;
  }

  /** True once the exchange ended, either way; every later token is a failure. */
  get done(): boolean {
    return this.#stage === "done";
  }

  step(token: Uint8Array): DigestMd5Step {
    const stage = this.#stage;
    this.#stage = "done"; // any failure below ends the exchange; success paths set the next stage
    if (stage === "start") {
      if (token.length !== 0) {
        return {
          kind: "failure",
          reason: `the client opened with a ${token.length}-byte token, but DIGEST-MD5 starts with an empty one ` +
            "(a GSSAPI/Kerberos client? only DIGEST-MD5 is supported)",
        };
      }
      this.#stage = "challenged";
      const { realm, nonce } = this.#options;
      return { kind: "challenge", token: utf8.encode(`realm="${quote(realm)}",nonce="${nonce}",qop="auth",charset=utf-8,algorithm=md5-sess`) };
    }
    if (stage === "done") return { kind: "failure", reason: "a SASL token after the DIGEST-MD5 exchange ended" };
    return this.#verify(token);
  }

  #verify(token: Uint8Array): DigestMd5Step {
    if (token.length >= DIGEST_RESPONSE_BYTES_MAX) {
      return { kind: "failure", reason: `digest-response of ${token.length} bytes (RFC 2831 allows under ${DIGEST_RESPONSE_BYTES_MAX})` };
    }
    const parsed = parseDirectives(latin1.decode(token));
    if (typeof parsed === "string") return { kind: "failure", reason: `malformed digest-response: ${parsed}` };
    const fail = (reason: string): DigestMd5Step => ({ kind: "failure", reason });
    const charset = parsed.get("charset");
    if (charset !== undefined && charset.toLowerCase() !== "utf-8") return fail(`charset ${JSON.stringify(charset)} (only utf-8 is allowed)`);
    // Values were read byte for byte; with charset=utf-8 the names are UTF-8 text.
    const text = (raw: string | undefined): string | undefined | null => {
      if (raw === undefined || charset === undefined) return raw;
      try {
        return utf8Decoder.decode(Uint8Array.from(raw, (c) => c.charCodeAt(0)));
      } catch {
        return null;
      }
    };
    const username = text(parsed.get("username"));
    const realm = text(parsed.get("realm")) ?? "";
    const authzid = text(parsed.get("authzid"));
    if (username === null || realm === null || authzid === null) return fail("username, realm or authzid is not valid UTF-8");
    if (username === undefined) return fail("no username");
    const { nonce, cnonce, nc, response } = Object.fromEntries(["nonce", "cnonce", "nc", "response"].map((k) => [k, parsed.get(k)]));
    const qop = parsed.get("qop") ?? "auth";
    const digestUri = parsed.get("digest-uri");
    if (nonce !== this.#options.nonce) return fail("the nonce is not the one this server sent");
    if (cnonce === undefined || cnonce.length === 0) return fail("no cnonce");
    // One exchange per nonce, so the nonce count must be 1 (a replayed response is refused too).
    if (nc === undefined || !/^[0-9a-fA-F]{8}$/.test(nc) || parseInt(nc, 16) !== 1) return fail(`nonce-count ${JSON.stringify(nc)} (expected 00000001)`);
    if (qop !== "auth") return fail(`qop ${JSON.stringify(qop)} (only auth was offered)`);
    if (realm !== "" && realm !== this.#options.realm) return fail(`realm ${JSON.stringify(realm)} was not offered`);
    if (digestUri !== this.#options.digestUri) return fail(`digest-uri ${JSON.stringify(digestUri)} (expected ${this.#options.digestUri})`);
    if (response === undefined || !/^[0-9a-fA-F]{32}$/.test(response)) return fail("response is not 32 hex digits");
    const password = this.#options.passwordOf(username);
    if (password === null) return fail(`unknown user ${JSON.stringify(username)}`);
    // authzid enters A1 as the bytes the client sent (raw), names as RFC 2831 says (hashText).
    const fields = { username, realm, password, nonce, cnonce, nc, authzid: parsed.get("authzid") ?? null, digestUri };
    if (!constantTimeEqual(response.toLowerCase(), digestResponse(fields, "AUTHENTICATE"))) {
      return fail(`wrong password for user ${JSON.stringify(username)}`);
    }
    return { kind: "success", token: utf8.encode(`rspauth=${digestResponse(fields, "")}`), username, authzid: authzid ?? null };
  }
}

export interface DigestFields {
  username: string;
  realm: string;
  password: string;
  nonce: string;
  cnonce: string;
  nc: string;
  /** As sent: each character one byte (the bytes of the client's token). */
  authzid: string | null;
  digestUri: string;
}

/**
 * RFC 2831 §2.1.2.1 with qop=auth: the client's `response` (method "AUTHENTICATE") or the server's
 * `rspauth` (method ""), as lower-case hex.
 */
export function digestResponse(fields: DigestFields, method: "AUTHENTICATE" | ""): string {
  const userRealmPass = concat(hashText(fields.username), utf8.encode(":"), hashText(fields.realm), utf8.encode(":"), hashText(fields.password));
  const a1 = concat(
    md5(userRealmPass),
    hashText(`:${fields.nonce}:${fields.cnonce}`),
    fields.authzid === null ? new Uint8Array(0) : hashText(`:${fields.authzid}`),
  );
  const a2 = hashText(`${method}:${fields.digestUri}`);
  const kd = `${hex(md5(a1))}:${fields.nonce}:${fields.nc}:${fields.cnonce}:auth:${hex(md5(a2))}`;
  return hex(md5(hashText(kd)));
}

/**
 * RFC 2831: names and passwords are hashed as ISO 8859-1 when they fit in it, else as UTF-8. Values
 * read from a token are byte-per-character strings, so this also gives back their exact bytes.
 */
function hashText(value: string): Uint8Array {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return utf8.encode(value);
  return Uint8Array.from(value, (c) => c.charCodeAt(0));
}

/**
 * `1#( token "=" ( token | quoted-string ) )` with optional whitespace, empty list elements allowed
 * (RFC 2831 §7.1). Returns the directives, or why the text is malformed. Directives that must appear
 * at most once and repeat are an error (RFC 2831 §2.1.2); the text is bounded by the caller.
 */
export function parseDirectives(text: string): Map<string, string> | string {
  const directives = new Map<string, string>();
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\r" || text[i] === "\n")) i++;
  };
  while (i < text.length) {
    skipSpace();
    if (text[i] === ",") {
      i++;
      continue;
    }
    if (i >= text.length) break;
    const nameStart = i;
    while (i < text.length && /[A-Za-z0-9_-]/.test(text[i]!)) i++;
    const name = text.slice(nameStart, i).toLowerCase();
    if (name.length === 0) return `unexpected ${JSON.stringify(text[i])} at offset ${i}`;
    skipSpace();
    if (text[i] !== "=") return `directive ${name} has no "="`;
    i++;
    skipSpace();
    let value = "";
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i++]!;
        if (c === "\\" && i < text.length) value += text[i++];
        else if (c === '"') {
          closed = true;
          break;
        } else value += c;
      }
      if (!closed) return `unterminated quoted value of ${name}`;
    } else {
      const valueStart = i;
      while (i < text.length && text[i] !== "," && !/\s/.test(text[i]!)) i++;
      value = text.slice(valueStart, i);
    }
    if (directives.has(name)) return `directive ${name} appears twice`;
    directives.set(name, value);
    skipSpace();
    if (i < text.length && text[i] !== ",") return `expected "," after ${name} at offset ${i}`;
  }
  return directives;
}

function quote(value: string): string {
  return value.replace(/["\\]/g, (c) => `\\${c}`);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Compares two hex strings without an early exit, so timing says nothing about where they differ. */
function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

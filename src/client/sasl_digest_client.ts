/**
 * The client side of SASL DIGEST-MD5 (RFC 2831), authentication only (qop=auth), as ZooKeeper's
 * Java client runs it: open with an empty token, answer the server's challenge with a
 * digest-response, then check the server's rspauth, which proves the server knows the password too.
 *
 * Pure: the client nonce comes in from outside (the shell draws it from a CSPRNG per connection), so
 * the session machine stays a function of its inputs. The hashing (digestResponse) and the directive
 * parser are the server's own (src/core/sasl_digest_md5.ts): both sides compute the same RFC 2831
 * formula from one piece of code. Every input is bounded: the challenge by RFC 2831's 2048 bytes,
 * the exchange by its two steps.
 */
import { digestResponse, type DigestFields, parseDirectives } from "../core/sasl_digest_md5.ts";
import { SASL_DIGEST_URI } from "../core/sasl_exchange.ts";

/** RFC 2831 §2.1.1: "The size of a digest-challenge MUST be less than 2048 bytes." */
export const DIGEST_CHALLENGE_BYTES_MAX = 2048;

export interface SaslCredentials {
  username: string;
  password: string;
}

export type DigestClientStep =
  /** Send `token` to the server and wait for its next one. */
  | { kind: "send"; token: Uint8Array }
  /** The server proved it knows the password: the exchange succeeded. */
  | { kind: "authenticated" }
  | { kind: "failure"; reason: string };

const latin1 = new TextDecoder("latin1");
const utf8 = new TextEncoder();

export class DigestMd5Client {
  readonly #credentials: SaslCredentials;
  readonly #cnonce: string;
  readonly #digestUri: string;
  #stage: "start" | "responded" | "done" = "start";
  /** The fields of our digest-response, kept to compute the rspauth we expect. */
  #fields: DigestFields | null = null;

  /**
   * `cnonce`: fresh randomness (at least 64 bits) as printable ASCII without `"`, `\` or `,`.
   * `digestUri`: "<service>/<server name>", ZooKeeper's client one by default (members use another).
   */
  constructor(credentials: SaslCredentials, cnonce: string, digestUri = SASL_DIGEST_URI) {
    if (!/^[\x21-\x7e]{8,}$/.test(cnonce) || /["\\,]/.test(cnonce)) {
      throw new Error("DIGEST-MD5 cnonce must be at least 8 printable ASCII characters without quotes, backslashes or commas");
    }
    this.#credentials = credentials;
    this.#cnonce = cnonce;
    this.#digestUri = digestUri;
  }

  /** The first token: DIGEST-MD5 has no initial response, so the client opens with an empty one. */
  start(): Uint8Array {
    return new Uint8Array(0);
  }

  /** The server's next token: the challenge, then the rspauth. A third token is a failure. */
  step(token: Uint8Array | null): DigestClientStep {
    const stage = this.#stage;
    this.#stage = "done"; // a failure below ends the exchange; the success path sets the next stage
    if (stage === "start") {
      const step = this.#respond(token);
      if (step.kind === "send") this.#stage = "responded";
      return step;
    }
    if (stage === "responded") return this.#verify(token);
    return { kind: "failure", reason: "the server sent a SASL token after the DIGEST-MD5 exchange ended" };
  }

  #respond(token: Uint8Array | null): DigestClientStep {
    const fail = (reason: string): DigestClientStep => ({ kind: "failure", reason: `bad DIGEST-MD5 challenge: ${reason}` });
    if (token === null || token.length === 0) return fail("the server sent no challenge");
    if (token.length >= DIGEST_CHALLENGE_BYTES_MAX) {
      return fail(`${token.length} bytes (RFC 2831 allows under ${DIGEST_CHALLENGE_BYTES_MAX})`);
    }
    const directives = parseDirectives(latin1.decode(token));
    if (typeof directives === "string") return fail(directives);
    const nonce = directives.get("nonce");
    if (nonce === undefined || nonce.length === 0) return fail("no nonce");
    if (/["\\]/.test(nonce)) return fail("the nonce holds a quote or backslash");
    const qops = (directives.get("qop") ?? "auth").split(",").map((qop) => qop.trim());
    if (!qops.includes("auth")) return fail(`qop ${JSON.stringify(directives.get("qop"))} does not offer auth`);
    if (directives.get("algorithm") !== "md5-sess") return fail(`algorithm ${JSON.stringify(directives.get("algorithm"))} (expected md5-sess)`);
    const utf8Offered = directives.get("charset")?.toLowerCase() === "utf-8";
    // A challenge value is bytes (one per character here); with charset=utf-8 the realm is UTF-8 text.
    const realmBytes = directives.get("realm");
    let realm = realmBytes ?? "";
    if (utf8Offered && realmBytes !== undefined) {
      try {
        realm = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(realmBytes, (c) => c.charCodeAt(0)));
      } catch {
        return fail("the realm is not valid UTF-8");
      }
    }
    const { username, password } = this.#credentials;
    if (!utf8Offered && /[^\x00-\xff]/.test(username + realm)) {
      return fail("the server did not offer charset=utf-8, and the user name does not fit ISO 8859-1");
    }
    const fields: DigestFields = {
      username,
      realm,
      password,
      nonce,
      cnonce: this.#cnonce,
      nc: "00000001",
      authzid: null,
      digestUri: this.#digestUri,
    };
    this.#fields = fields;
    const parts = [
      ...(utf8Offered ? ["charset=utf-8"] : []),
      `username="${quote(username)}"`,
      ...(realmBytes === undefined ? [] : [`realm="${quote(realm)}"`]),
      `nonce="${nonce}"`,
      `nc=${fields.nc}`,
      `cnonce="${fields.cnonce}"`,
      `digest-uri="${fields.digestUri}"`,
      `response=${digestResponse(fields, "AUTHENTICATE")}`,
      "qop=auth",
    ];
    const text = parts.join(",");
    return { kind: "send", token: utf8Offered ? utf8.encode(text) : Uint8Array.from(text, (c) => c.charCodeAt(0)) };
  }

  #verify(token: Uint8Array | null): DigestClientStep {
    const fail = (reason: string): DigestClientStep => ({ kind: "failure", reason: `the server's DIGEST-MD5 proof is wrong: ${reason}` });
    if (token === null || token.length === 0) return fail("no rspauth (the server may not know the password)");
    if (token.length >= DIGEST_CHALLENGE_BYTES_MAX) return fail(`a final token of ${token.length} bytes`);
    const directives = parseDirectives(latin1.decode(token));
    if (typeof directives === "string") return fail(directives);
    const rspauth = directives.get("rspauth");
    if (rspauth === undefined) return fail("no rspauth directive");
    if (rspauth.toLowerCase() !== digestResponse(this.#fields!, "")) {
      return fail("rspauth does not match: the server does not know this user's password (or the reply was altered)");
    }
    return { kind: "authenticated" };
  }
}

function quote(value: string): string {
  return value.replace(/["\\]/g, (c) => `\\${c}`);
}

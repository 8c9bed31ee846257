/**
 * The DIGEST-MD5 server nonce: the core is pure and has no randomness, so the driver draws one per
 * connection from the runtime's CSPRNG (Web Crypto, present in Deno, Bun and Node) and hands it in
 * through ConnectionInfo.saslNonce.
 */

/** 18 random bytes: 144 bits, well past RFC 2831's "at least 64 bits of entropy". */
const NONCE_BYTES = 18;

/** A fresh nonce as base64url text (printable, no quotes, backslashes or commas). */
export function saslNonce(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_");
}

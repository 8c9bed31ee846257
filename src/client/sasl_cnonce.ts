/**
 * The DIGEST-MD5 client nonce, drawn once per connection by the shell (the session machine is pure
 * and takes it as an input): 16 bytes from the runtime's CSPRNG (Web Crypto, present in Deno, Bun
 * and Node), 128 bits, well past RFC 2831's "at least 64 bits of entropy", written as hex.
 */
import { hex } from "../core/md5.ts";

const CNONCE_BYTES = 16;

export function saslCnonce(): string {
  return hex(globalThis.crypto.getRandomValues(new Uint8Array(CNONCE_BYTES)));
}

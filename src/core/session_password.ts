/**
 * Session passwords as a pure function of the session id, so that any ensemble member can check one.
 * This reproduces ZooKeeper's choice (java.util.Random seeded with id XOR 0xB3415C00, 16 bytes), which
 * makes our passwords identical to the reference's; clients treat them as opaque either way.
 */
const MULTIPLIER = 0x5deece66dn;
const MASK_48 = (1n << 48n) - 1n;
const SUPER_SECRET = 0xb3415c00n;

export const PASSWORD_BYTES = 16;

export function sessionPassword(sessionId: bigint): Uint8Array {
  let state = (BigInt.asIntN(64, sessionId ^ SUPER_SECRET) ^ MULTIPLIER) & MASK_48;
  const password = new Uint8Array(PASSWORD_BYTES);
  for (let i = 0; i < PASSWORD_BYTES;) {
    state = (state * MULTIPLIER + 0xbn) & MASK_48;
    let value = Number(BigInt.asIntN(32, state >> 16n));
    for (let n = Math.min(PASSWORD_BYTES - i, 4); n > 0; n--) {
      password[i++] = value & 0xff;
      value >>= 8;
    }
  }
  return password;
}

export function passwordMatches(sessionId: bigint, password: Uint8Array): boolean {
  const expected = sessionPassword(sessionId);
  if (password.length !== expected.length) return false;
  let difference = 0;
  for (let i = 0; i < expected.length; i++) difference |= expected[i]! ^ password[i]!;
  return difference === 0;
}

/**
 * A small seeded PRNG (mulberry32) for tests, fuzzing and the simulator: one seed reproduces a run.
 * Not for anything secret.
 */

export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, maxExclusive); maxExclusive must be a positive integer ≤ 2^32. */
  int(maxExclusive: number): number;
  /** `count` random bytes. */
  bytes(count: number): Uint8Array;
}

/** A PRNG whose whole sequence is fixed by `seed` (any number; only its low 32 bits matter). */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  function nextUint32(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  return {
    next: () => nextUint32() / 4294967296,
    int(maxExclusive: number): number {
      if (!(maxExclusive > 0 && maxExclusive <= 4294967296 && Number.isInteger(maxExclusive))) {
        throw new RangeError(`int(maxExclusive) needs an integer in [1, 2^32], got ${maxExclusive}`);
      }
      return Math.floor((nextUint32() / 4294967296) * maxExclusive);
    },
    bytes(count: number): Uint8Array {
      const out = new Uint8Array(count);
      for (let index = 0; index < count; index += 4) {
        let word = nextUint32();
        for (let byte = index; byte < Math.min(index + 4, count); byte++) {
          out[byte] = word & 0xff;
          word >>>= 8;
        }
      }
      return out;
    },
  };
}

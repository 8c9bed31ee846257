/**
 * Small helpers over a seeded Prng for the simulator. Every component gets its own child PRNG
 * (`forkPrng`), so adding a draw in one component does not shift the sequence another one sees.
 */
import { createPrng, type Prng } from "./prng.ts";

/** A new PRNG seeded from `parent` (one draw), independent of the parent's later draws. */
export function forkPrng(parent: Prng): Prng {
  return createPrng(parent.int(4294967296));
}

/** True with probability `probability` (0 never, 1 always). */
export function chance(prng: Prng, probability: number): boolean {
  if (probability <= 0) return false;
  if (probability >= 1) return true;
  return prng.next() < probability;
}

/** A number uniformly in [min, max). */
export function between(prng: Prng, min: number, max: number): number {
  if (!(max >= min)) throw new RangeError(`between(min, max) needs max >= min, got ${min} and ${max}`);
  return min + prng.next() * (max - min);
}

/** An integer uniformly in [min, max] (both included). */
export function intBetween(prng: Prng, min: number, max: number): number {
  if (!(max >= min) || !Number.isInteger(min) || !Number.isInteger(max)) {
    throw new RangeError(`intBetween(min, max) needs integers with max >= min, got ${min} and ${max}`);
  }
  return min + prng.int(max - min + 1);
}

/** One element of a non-empty array. */
export function pick<T>(prng: Prng, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError("pick() needs a non-empty array");
  return items[prng.int(items.length)]!;
}

/** `count` distinct elements (or all of them if fewer), in a random order. */
export function sample<T>(prng: Prng, items: readonly T[], count: number): T[] {
  const copy = [...items];
  const taken: T[] = [];
  for (let i = 0; i < count && copy.length > 0; i++) taken.push(copy.splice(prng.int(copy.length), 1)[0]!);
  return taken;
}

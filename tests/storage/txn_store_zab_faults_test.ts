/**
 * Write errors (EIO, ENOSPC) during what Zab adds: the same seeded stores and operations as the
 * crash test, with the k-th file system operation of a truncateAfter, installSnapshot or writeEpochs
 * failing, for every k. The store stays usable: the failed call rejects, a retry succeeds, the
 * state is then exactly the one after the operation, and appends continue where the files end
 * (also across a power loss).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { errorCodeOf } from "../../src/storage/file_system.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { randomEntries } from "./support/entries.ts";
import { buildBase, capture, planOperation, references } from "./support/zab_scenarios.ts";
import type { Expected, OperationKind } from "./support/zab_scenarios.ts";

async function failAndRetry(
  seed: number,
  kind: OperationKind,
  options: { failAt: number; expected: Expected },
): Promise<void> {
  const fs = new MemoryFileSystem({ seed: seed * 31 + options.failAt, tearLastWrite: true });
  const base = await buildBase(fs, seed);
  const operation = await planOperation(fs, base, { seed, kind });
  const code = options.failAt % 2 === 0 ? "EIO" : "ENOSPC";
  let operations = 0;
  fs.failWhen(() => (++operations === options.failAt ? code : undefined));
  const failed = await operation(base.store).then(() => null, (error: unknown) => error);
  fs.failWhen(null);
  const at = `seed ${seed}, ${kind}, ${code} at operation ${options.failAt}`;
  assert.equal(errorCodeOf(failed), code, `${at}: the call rejects with the error`);
  await operation(base.store);
  const { after } = options.expected;
  // Appends continue after the new end: the writer agrees with the files.
  const more = randomEntries(createPrng(seed), after.result.lastZxid + 1, 3);
  await base.store.append(more);
  await base.store.sync();
  fs.crash();
  assert.deepStrictEqual(
    await capture(fs, seed),
    {
      ...after,
      txns: [...after.txns, ...more],
      result: { ...after.result, lastZxid: more.at(-1)!.header.zxid },
    },
    at,
  );
}

describe("Zab storage operations under a write error at every file system operation", () => {
  for (const kind of ["truncate", "install", "epochs"] as const) {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      test(`${kind}, seed ${seed}`, async () => {
        const expected = await references(seed, kind);
        for (let failAt = 1; failAt <= expected.operations; failAt++) {
          await failAndRetry(seed, kind, { failAt, expected });
        }
      });
    }
  }
});

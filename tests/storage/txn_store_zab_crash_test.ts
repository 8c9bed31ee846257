/**
 * Crash points for what Zab adds: a seeded store (several segments, snapshots, epochs, sometimes an
 * unsynced tail) runs one truncateAfter, installSnapshot or writeEpochs, cut by a power loss (torn
 * unsynced writes on odd seeds) or a killed process before its k-th file system operation, for every
 * k; sometimes recovery itself is cut by a second power loss. Recovery must then yield exactly the
 * state before the operation (its unsynced tail may be cut anywhere, as without the operation) or
 * exactly the state after it, and "after" whenever the operation had resolved. The recovered store
 * then takes appends that survive the next power loss.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { randomEntries } from "./support/entries.ts";
import { openRecovered } from "./support/store_helpers.ts";
import {
  beforeOrAfter,
  buildBase,
  capture,
  isDeepStrictEqual,
  planOperation,
  references,
  storeOptions,
} from "./support/zab_scenarios.ts";
import type { Expected, OperationKind } from "./support/zab_scenarios.ts";

type CrashKind = "power" | "process";

/** Recovery, possibly cut by a power loss before its `crashAt`-th operation and then run again. */
async function recoverAfterCrash(fs: MemoryFileSystem, options: { seed: number; crashAt: number }) {
  const store = storeOptions(options.seed);
  if (options.crashAt > 0) {
    let operations = 0;
    fs.failWhen(() => (++operations === options.crashAt ? (fs.crash(), "EIO") : undefined));
    await openRecovered(fs, store).then((opened) => opened.store.close(), () => {});
    fs.failWhen(null);
  }
  return openRecovered(fs, store);
}

async function crashAndCheck(
  seed: number,
  kind: OperationKind,
  crashAt: number,
  expected: Expected,
): Promise<"before" | "after"> {
  const fs = new MemoryFileSystem({ seed: seed * 7919 + crashAt, tearLastWrite: seed % 2 === 1 });
  const crashKind: CrashKind = crashAt % 4 === 1 ? "process" : "power";
  const crash = () => (crashKind === "power" ? fs.crash() : fs.killProcess());
  const base = await buildBase(fs, seed);
  const { store } = base;
  const operation = await planOperation(fs, base, { seed, kind });
  let operations = 0;
  fs.failWhen(() => (++operations === crashAt ? (crash(), "EIO") : undefined));
  const resolved = await operation(store).then(() => true, () => false);
  fs.failWhen(null);
  if (resolved) crash();
  const at = `seed ${seed}, ${kind}, ${crashKind} crash at operation ${crashAt}`;
  const secondCrash = crashAt % 3 === 0 ? 1 + (crashAt % 7) : 0;
  const opened = await recoverAfterCrash(fs, { seed, crashAt: secondCrash });
  const recovered = {
    header: opened.state.header,
    nodes: opened.state.nodes,
    txns: opened.state.txns,
    result: opened.result,
  };
  const outcome = beforeOrAfter(recovered, expected, resolved, at);
  // The recovered store keeps working: appends continue after its end and survive a power loss.
  const more = randomEntries(createPrng(seed + crashAt), opened.result.lastZxid + 1, 3);
  await opened.store.append(more);
  await opened.store.sync();
  fs.crash();
  const again = await capture(fs, seed);
  assert.deepStrictEqual(
    again,
    {
      ...recovered,
      txns: [...recovered.txns, ...more],
      result: { ...recovered.result, lastZxid: more.at(-1)!.header.zxid },
    },
    `${at}, after appending and another power loss`,
  );
  return outcome;
}

describe("Zab storage operations under a crash at every file system operation", () => {
  for (const kind of ["truncate", "install", "epochs"] as const) {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
      test(`${kind}, seed ${seed}${seed % 2 === 1 ? " (torn last writes)" : ""}`, async () => {
        const expected = await references(seed, kind);
        const seen = new Set<string>();
        for (let crashAt = 1; crashAt <= expected.operations + 1; crashAt++) {
          seen.add(await crashAndCheck(seed, kind, crashAt, expected));
        }
        assert.ok(seen.has("after"), "some crash points come after the operation");
        if (!isDeepStrictEqual(expected.before, expected.after)) {
          assert.ok(
            seen.has("before"),
            `some crash points come before the operation (${expected.operations} operations)`,
          );
        }
      });
    }
  }
});

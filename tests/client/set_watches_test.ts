import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setWatchesRequests } from "../../src/client/set_watches.ts";

const none = { data: [], exist: [], child: [], persistent: [], persistentRecursive: [] };

describe("setWatchesRequests", () => {
  test("nothing to send without watches", () => {
    assert.deepEqual(setWatchesRequests(none, 5), []);
  });

  test("setWatches (101) without persistent watches, setWatches2 (105) with them", () => {
    const [plain] = setWatchesRequests({ ...none, data: ["/a"], exist: ["/b"], child: ["/c"] }, 7);
    assert.deepEqual(plain, {
      kind: "setWatches",
      relativeZxid: 7,
      dataWatches: ["/a"],
      existWatches: ["/b"],
      childWatches: ["/c"],
      persistentWatches: [],
      persistentRecursiveWatches: [],
    });
    const [withPersistent] = setWatchesRequests({ ...none, data: ["/a"], persistentRecursive: ["/r"] }, 7);
    assert.equal(withPersistent!.kind, "setWatches2");
  });

  test("splits so each packet's summed path bytes stay within the budget, keeping order", () => {
    const paths = Array.from({ length: 10 }, (_, i) => `/${i}-${"x".repeat(7)}`); // 10 bytes each
    const packets = setWatchesRequests(
      { ...none, data: paths.slice(0, 5), persistent: paths.slice(5) },
      1,
      35,
    );
    assert.deepEqual(packets.map((p) => [p.kind, p.dataWatches.length, p.persistentWatches.length]), [
      ["setWatches", 3, 0],
      ["setWatches2", 2, 1],
      ["setWatches2", 0, 3],
      ["setWatches2", 0, 1],
    ]);
    assert.deepEqual(packets.flatMap((p) => [...p.dataWatches, ...p.persistentWatches]), paths);
  });

  test("a path longer than the budget gets a packet of its own", () => {
    const packets = setWatchesRequests({ ...none, child: ["/" + "y".repeat(50), "/z"] }, 1, 10);
    assert.deepEqual(packets.map((p) => p.childWatches.length), [1, 1]);
  });
});

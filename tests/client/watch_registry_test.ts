import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EventType } from "../../src/core/records.ts";
import { WatchRegistry } from "../../src/client/watch_registry.ts";
import type { WatchListener } from "../../src/client/types.ts";

function listener(): WatchListener {
  return () => {};
}

describe("WatchRegistry dispatch (wire protocol §6.7)", () => {
  test("NodeDataChanged reaches data, exist, persistent at the path and recursive at ancestors; one-shots clear", () => {
    const registry = new WatchRegistry();
    const [data, exist, child, persistent, recursiveRoot, recursiveOther] = Array.from(
      { length: 6 },
      listener,
    );
    registry.add("data", "/a/b", data!);
    registry.add("exist", "/a/b", exist!);
    registry.add("child", "/a/b", child!);
    registry.add("persistent", "/a/b", persistent!);
    registry.add("persistentRecursive", "/", recursiveRoot!);
    registry.add("persistentRecursive", "/x", recursiveOther!);
    assert.deepEqual(registry.take(EventType.NodeDataChanged, "/a/b"), [
      data,
      exist,
      persistent,
      recursiveRoot,
    ]);
    assert.equal(registry.has("data", "/a/b"), false);
    assert.equal(registry.has("exist", "/a/b"), false);
    assert.equal(registry.has("child", "/a/b", child), true);
    assert.equal(registry.has("persistent", "/a/b", persistent), true);
  });

  test("NodeChildrenChanged reaches child and persistent watches only, never recursive ones", () => {
    const registry = new WatchRegistry();
    const [data, child, persistent, recursive] = Array.from({ length: 4 }, listener);
    registry.add("data", "/p", data!);
    registry.add("child", "/p", child!);
    registry.add("persistent", "/p", persistent!);
    registry.add("persistentRecursive", "/p", recursive!);
    assert.deepEqual(registry.take(EventType.NodeChildrenChanged, "/p"), [child, persistent]);
    assert.equal(registry.has("data", "/p", data), true);
  });

  test("NodeDeleted clears data, exist and child one-shots and reaches each listener once", () => {
    const registry = new WatchRegistry();
    const shared = listener();
    registry.add("data", "/n", shared);
    registry.add("child", "/n", shared);
    registry.add("persistentRecursive", "/n", shared);
    assert.deepEqual(registry.take(EventType.NodeDeleted, "/n"), [shared]);
    assert.equal(registry.size, 1, "the recursive watch stays");
  });

  test("persistent watches at ancestors do not fire; listeners() dedupes for state events", () => {
    const registry = new WatchRegistry();
    const shared = listener();
    registry.add("persistent", "/a", shared);
    registry.add("data", "/a/b", shared);
    assert.deepEqual(registry.take(EventType.NodeCreated, "/a/b/c"), []);
    assert.deepEqual(registry.listeners(), [shared]);
    assert.deepEqual(registry.paths("data"), ["/a/b"]);
  });
});

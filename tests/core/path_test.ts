import { test } from "node:test";
import assert from "node:assert/strict";
import { parentOf, pathProblem, sequenceSuffix } from "../../src/core/path.ts";

test("pathProblem accepts ZooKeeper's valid paths", () => {
  for (const path of ["/", "/a", "/a/b", "/.x", "/x.", "/...", "/a/.b/c.", "/ünïcødé", "/a b"]) {
    assert.equal(pathProblem(path), null, path);
  }
});

test("pathProblem rejects what PathUtils.validatePath rejects", () => {
  for (const path of ["", "a", "/a/", "//", "/a//b", "/.", "/..", "/a/./b", "/a/../b", "/a\u0000", "/\u0001", "/\u007f", "/\u009f", "/\ud83d\ude00", "/\ue000", "/\ufff0"]) {
    assert.notEqual(pathProblem(path), null, JSON.stringify(path));
  }
  assert.notEqual(pathProblem(null), null);
});

test("parentOf maps top-level nodes to /", () => {
  assert.equal(parentOf("/a"), "/");
  assert.equal(parentOf("/a/b"), "/a");
  assert.equal(parentOf("/a//b"), "/a/");
});

test("sequenceSuffix pads like Java's %010d, sign included", () => {
  assert.equal(sequenceSuffix(0), "0000000000");
  assert.equal(sequenceSuffix(42), "0000000042");
  assert.equal(sequenceSuffix(2147483647), "2147483647");
  assert.equal(sequenceSuffix(-1), "-000000001");
  assert.equal(sequenceSuffix(-2147483648), "-2147483648");
});

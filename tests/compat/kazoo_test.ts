/**
 * kazoo (Python, Debian's python3-kazoo) as a judge: tests/compat/kazoo_script.py drives each target
 * through create/get/set/delete, children, watches, ephemerals, sequentials, transactions and ACLs
 * and prints one JSON line of observations. EXPECTED is what Apache ZooKeeper 3.8.0 gives; the
 * zookeeper target re-checks that on every run, so EXPECTED cannot drift from the reference.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { assertCompat, kazooPython } from "../support/compat_availability.ts";
import { repoRoot } from "../support/runtime.ts";
import { CLIENT_JUDGE_TARGETS, targetSkip } from "./targets.ts";

/** Explicit because Bun otherwise stops a test after 5 s. */
const testTimeoutMs = 120_000;

const root = "/kazoo";
const scriptTimeoutMs = 90_000;

const plainStat = { aversion: 0, cversion: 0, dataLength: 0, ephemeral: false, numChildren: 0, version: 0 };

const EXPECTED = {
  acl: {
    after_add_auth_get: "ok",
    anonymous_get: "NoAuthError",
    anonymous_get_acls: "NoAuthError",
    anonymous_set: "NoAuthError",
    get_after_set_acls: "ok",
    invalid_world_id: "InvalidACLError",
    masked_acls_without_admin: [[1, "world", "anyone"], [31, "digest", "alice:x"]],
    owner_acl_stat: { ...plainStat, dataLength: 1 },
    owner_acls: [[31, "digest", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="]],
    owner_get: "ok",
    readonly_create_child: "NoAuthError",
    readonly_get: "ok",
    readonly_set: "NoAuthError",
    set_acls_stale_version: "BadVersionError",
    set_acls_stat: { ...plainStat, aversion: 1, dataLength: 1 },
  },
  basic: {
    children_after: ["empty"],
    create_existing: "NodeExistsError",
    create_without_parent: "NoNodeError",
    created: true,
    delete: "ok",
    delete_bad_version: "BadVersionError",
    delete_not_empty: "NotEmptyError",
    delete_recursive: "ok",
    empty_data: { data: "", dataLength: 0 },
    exists_after_delete: null,
    get: { data: "hello", stat: { ...plainStat, dataLength: 5 } },
    get_missing: "NoNodeError",
    makepath: `${root}/basic/deep/er/node`,
    set: { ...plainStat, dataLength: 5, version: 1 },
    set_moves_mzxid_only: true,
    set_stale_version: "BadVersionError",
    zxids_at_create: true,
  },
  children: {
    children: ["x", "y", "z"],
    children_after_delete: ["x", "z"],
    children_of_missing: "NoNodeError",
    parent: { ...plainStat, cversion: 3, numChildren: 3 },
    parent_after_delete: { ...plainStat, cversion: 4, numChildren: 2 },
  },
  ephemerals: {
    child_of_ephemeral: "NoChildrenForEphemeralsError",
    children_after_close: [],
    ephemeral: `${root}/ephemerals/eph`,
    ephemeral_sequential: `${root}/ephemerals/seq-0000000001`,
    events_after_close: [
      ["child", "CHILD", `${root}/ephemerals`],
      ["exists", "DELETED", `${root}/ephemerals/eph`],
    ],
    exists_after_close: null,
    owner_is_session: true,
  },
  sequentials: {
    children: ["m-0000000005", "n-0000000000", "n-0000000002", "n-0000000003", "plain"],
    names: ["n-0000000000", "n-0000000001", "n-0000000002", "n-0000000003", "m-0000000005"],
    parent: { ...plainStat, cversion: 7, numChildren: 5 },
  },
  transaction: {
    after_commit: { data: "y", stat: { ...plainStat, cversion: 2, dataLength: 1, version: 1 } },
    committed: [
      "/a",
      "/a/b",
      { stat: { ...plainStat, cversion: 1, dataLength: 1, numChildren: 1, version: 1 } },
      true,
      true,
    ],
    failed: ["RolledBackError", "BadVersionError", "RuntimeInconsistency"],
    failed_is_atomic: true,
  },
  watches: {
    events: [
      ["data", "CHANGED", `${root}/watches`],
      ["exists", "CREATED", `${root}/watches/new`],
      ["child", "CHILD", `${root}/watches`],
      ["deleted", "DELETED", `${root}/watches/new`],
      ["child2", "CHILD", `${root}/watches`],
      ["fence", "CREATED", `${root}/watches/fence`],
    ],
  },
};

for (const target of CLIENT_JUDGE_TARGETS) {
  test(`kazoo sees the same behaviour from ${target.name}`, {
    skip: targetSkip(target, ["kazoo"]),
    timeout: testTimeoutMs,
  }, async () => {
    assertCompat([...target.needs, "kazoo"]);
    const server = await target.start();
    try {
      const observed = await runKazooScript(server.connectString);
      assert.deepEqual(
        observed,
        EXPECTED,
        `kazoo observed something else from ${target.name} (actual first, expected second)`,
      );
    } catch (error) {
      if (error instanceof Error) error.message += `\n--- ${target.name} log tail ---\n${server.logTail()}`;
      throw error;
    } finally {
      await server.stop();
    }
  });
}

function runKazooScript(connectString: string): Promise<unknown> {
  const script = join(repoRoot(), "tests", "compat", "kazoo_script.py");
  return new Promise((resolve, reject) => {
    execFile(
      kazooPython(),
      [script, connectString, root],
      { timeout: scriptTimeoutMs, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(
            new Error(
              `kazoo_script.py failed (${error.message}).\n--- stderr ---\n${stderr}\n--- stdout ---\n${stdout}`,
            ),
          );
          return;
        }
        const lastLine = stdout.trim().split("\n").pop() ?? "";
        try {
          resolve(JSON.parse(lastLine));
        } catch {
          reject(
            new Error(
              `kazoo_script.py printed no JSON line.\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`,
            ),
          );
        }
      },
    );
  });
}

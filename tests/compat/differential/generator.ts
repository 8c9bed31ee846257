/**
 * Seeded random operation sequences for the differential test. Paths come from a tiny alphabet under
 * one root so that operations collide and errors (NONODE, NODEEXISTS, NOTEMPTY, BADVERSION, NOAUTH,
 * NOCHILDRENFOREPHEMERALS, INVALIDACL) happen often. The sequence depends only on the seed, never on
 * server replies, so two servers receive exactly the same requests.
 */
import { Prng } from "./prng.ts";

export type SessionName = "s1" | "s2" | "s3";

/**
 * Named ACL lists (expanded in acls.ts). Every valid list grants world READ: Apache ZooKeeper 3.8.0
 * and 3.8.4+ disagree on `exists` and watch delivery without READ, and the judge is 3.8.0.
 */
export type AclName = "open" | "read" | "readCreate" | "alice" | "bob" | "authAll" | "badWorld" | "empty";

export type MultiStep =
  | { type: "create"; path: string; data: string | null; acl: AclName; flags: number }
  | { type: "delete"; path: string; version: number }
  | { type: "setData"; path: string; data: string | null; version: number }
  | { type: "check"; path: string; version: number };

export type Step =
  | {
    kind: "create";
    session: SessionName;
    path: string;
    data: string | null;
    acl: AclName;
    flags: number;
    opcode: 1 | 15 | 19;
  }
  | { kind: "delete"; session: SessionName; path: string; version: number }
  | { kind: "setData"; session: SessionName; path: string; data: string | null; version: number }
  | { kind: "exists"; session: SessionName; path: string; watch: boolean }
  | { kind: "getData"; session: SessionName; path: string; watch: boolean }
  | { kind: "getChildren"; session: SessionName; path: string; watch: boolean; withStat: boolean }
  | { kind: "getACL"; session: SessionName; path: string }
  | { kind: "setACL"; session: SessionName; path: string; acl: AclName; version: number }
  | { kind: "sync"; session: SessionName; path: string }
  | { kind: "multi"; session: SessionName; ops: MultiStep[] }
  | { kind: "closeSession"; session: SessionName };

export const sessionNames: readonly SessionName[] = ["s1", "s2", "s3"];

const segments = ["a", "b", "c"] as const;
const sequentialPrefix = "q";

/** `count` steps for `seed`, all under `root` (which the runner creates first). */
export function generateSteps(input: { seed: number; count: number; root: string }): Step[] {
  const prng = new Prng(input.seed);
  const steps: Step[] = [];
  for (let i = 0; i < input.count; i++) steps.push(randomStep(prng, input.root));
  return steps;
}

function randomStep(prng: Prng, root: string): Step {
  const session = prng.pick(sessionNames);
  const kind = prng.weighted({
    create: 30,
    delete: 12,
    setData: 12,
    exists: 8,
    getData: 8,
    getChildren: 8,
    getACL: 4,
    setACL: 5,
    sync: 2,
    multi: 9,
    closeSession: 2,
  });
  switch (kind) {
    case "create": {
      const opcode = randomCreateOpcode(prng);
      const create = randomCreate(prng, root);
      // Clients send containers as opcode 19 with flags 4; other flags there are rare oddities.
      if (opcode === 19 && prng.chance(0.8)) create.flags = 4;
      return { kind, session, ...create, opcode };
    }
    case "delete":
      return { kind, session, path: randomPath(prng, root), version: randomVersion(prng) };
    case "setData":
      return {
        kind,
        session,
        path: randomPath(prng, root),
        data: randomData(prng),
        version: randomVersion(prng),
      };
    case "exists":
    case "getData":
      return { kind, session, path: randomPath(prng, root), watch: prng.chance(0.6) };
    case "getChildren":
      return {
        kind,
        session,
        path: randomPath(prng, root),
        watch: prng.chance(0.6),
        withStat: prng.chance(0.5),
      };
    case "getACL":
      return { kind, session, path: randomPath(prng, root) };
    case "setACL":
      return {
        kind,
        session,
        path: randomPath(prng, root),
        acl: randomAcl(prng),
        version: randomVersion(prng),
      };
    case "sync":
      return { kind, session, path: randomPath(prng, root) };
    case "multi":
      return { kind, session, ops: randomMultiOps(prng, root) };
    case "closeSession":
      return { kind, session };
  }
}

function randomCreate(
  prng: Prng,
  root: string,
): { path: string; data: string | null; acl: AclName; flags: number } {
  const flags = prng.weighted({
    persistent: 48,
    ephemeral: 20,
    persistentSequential: 15,
    ephemeralSequential: 15,
    containerFlag: 1, // flag 4 outside opcode 19: an ordinary persistent node
    invalid: 1, // flag 7: BADARGUMENTS
  });
  const flagValue = {
    persistent: 0,
    ephemeral: 1,
    persistentSequential: 2,
    ephemeralSequential: 3,
    containerFlag: 4,
    invalid: 7,
  }[flags];
  const sequential = flagValue === 2 || flagValue === 3;
  const path = sequential ? randomParent(prng, root) + "/" + sequentialPrefix : randomPath(prng, root);
  return { path, data: randomData(prng), acl: prng.chance(0.8) ? "open" : randomAcl(prng), flags: flagValue };
}

/** create (1) and create2 (15) mostly; createContainer (19) rarely (the reaper is slowed down by the test). */
function randomCreateOpcode(prng: Prng): 1 | 15 | 19 {
  const choice = prng.weighted({ create: 45, create2: 45, container: 10 });
  return choice === "create" ? 1 : choice === "create2" ? 15 : 19;
}

function randomMultiOps(prng: Prng, root: string): MultiStep[] {
  // An empty multi is valid and still consumes a zxid; keep it rare.
  const count = prng.chance(0.08) ? 0 : 1 + prng.below(4);
  const ops: MultiStep[] = [];
  for (let i = 0; i < count; i++) {
    const type = prng.weighted({ create: 40, delete: 20, setData: 20, check: 20 });
    if (type === "create") {
      // Only opcode 1 inside multi: 3.8.0 answers create2 (15) in a multi with a type-1 result,
      // a bug fixed in 3.8.2 that Corral should not copy.
      ops.push({ type, ...randomCreate(prng, root) });
    } else if (type === "setData") {
      ops.push({ type, path: randomPath(prng, root), data: randomData(prng), version: randomVersion(prng) });
    } else {
      ops.push({ type, path: randomPath(prng, root), version: randomVersion(prng) });
    }
  }
  return ops;
}

/** A node path: depth 1-3 from the alphabet, sometimes a guessed sequential name, rarely the root. */
function randomPath(prng: Prng, root: string): string {
  const roll = prng.next();
  if (roll < 0.04) return root;
  if (roll < 0.25) {
    return randomParent(prng, root) + "/" + sequentialPrefix + String(prng.below(6)).padStart(10, "0");
  }
  let path = root;
  const depth = Number(prng.weighted({ "1": 50, "2": 35, "3": 15 }));
  for (let i = 0; i < depth; i++) path += "/" + prng.pick(segments);
  return path;
}

/** A parent for sequential children: the root or a depth 1-2 node. */
function randomParent(prng: Prng, root: string): string {
  let path = root;
  const depth = Number(prng.weighted({ "0": 40, "1": 45, "2": 15 }));
  for (let i = 0; i < depth; i++) path += "/" + prng.pick(segments);
  return path;
}

function randomData(prng: Prng): string | null {
  const roll = prng.next();
  if (roll < 0.1) return null;
  if (roll < 0.2) return "";
  return "v" + prng.below(1000);
}

function randomVersion(prng: Prng): number {
  return prng.chance(0.45) ? -1 : prng.below(4);
}

function randomAcl(prng: Prng): AclName {
  return prng.pick(["open", "read", "readCreate", "alice", "bob", "authAll", "badWorld", "empty"] as const);
}

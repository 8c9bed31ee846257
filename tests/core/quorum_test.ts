import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { QuorumVerifier } from "../../src/core/quorum.ts";

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

describe("QuorumVerifier", () => {
  test("quorumSize is a strict majority of the voters, for 1 to 13 voters", () => {
    const expected = [1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7];
    for (let count = 1; count <= 13; count++) {
      assert.equal(
        new QuorumVerifier({ voters: range(1, count) }).quorumSize,
        expected[count - 1],
        `${count} voters`,
      );
    }
  });

  test("containsQuorum counts distinct voters only: observers, strangers and repeats do not count", () => {
    const quorum = new QuorumVerifier({ voters: [1, 2, 3, 4, 5], observers: [6, 7] });
    assert.equal(quorum.quorumSize, 3);
    assert.ok(!quorum.containsQuorum([]));
    assert.ok(!quorum.containsQuorum([1, 2]));
    assert.ok(quorum.containsQuorum([1, 2, 3]));
    assert.ok(quorum.containsQuorum(new Set([5, 3, 4])));
    assert.ok(!quorum.containsQuorum([1, 2, 6, 7]), "observers never count");
    assert.ok(!quorum.containsQuorum([1, 2, 99, 0]), "non-members never count");
    assert.ok(!quorum.containsQuorum([1, 1, 2, 2, 2]), "a voter counts once");
    assert.ok(quorum.containsQuorum(new Map([[1, "a"], [2, "b"], [4, "c"]]).keys()));
  });

  test("containsQuorum refuses an unbounded iterable instead of spinning", () => {
    const quorum = new QuorumVerifier({ voters: [1, 2, 3] });
    function* forever(): Generator<number> {
      for (;;) yield 1;
    }
    assert.throws(() => quorum.containsQuorum(forever()), /more than 4096 sids/);
    function* quorumFirst(): Generator<number> {
      yield 1;
      yield 2;
      for (;;) yield 9;
    }
    assert.ok(quorum.containsQuorum(quorumFirst()), "stops as soon as a quorum is seen");
  });

  test("membership: voters and observers sorted, isVoter / isObserver / isMember", () => {
    const quorum = new QuorumVerifier({ voters: [3, 1, 2], observers: [9, 4] });
    assert.deepEqual(quorum.voters, [1, 2, 3]);
    assert.deepEqual(quorum.observers, [4, 9]);
    assert.deepEqual(quorum.members, [1, 2, 3, 4, 9]);
    assert.ok(quorum.isVoter(2) && !quorum.isObserver(2) && quorum.isMember(2));
    assert.ok(!quorum.isVoter(4) && quorum.isObserver(4) && quorum.isMember(4));
    assert.ok(!quorum.isMember(5) && !quorum.isVoter(0));
    assert.ok(Object.isFrozen(quorum.voters), "the lists cannot be changed behind the verifier's back");
  });

  test("validation: clear errors for bad sids, repeats, overlap and no voters", () => {
    assert.throws(() => new QuorumVerifier({ voters: [] }), /at least one voter/);
    assert.throws(
      () => new QuorumVerifier({ voters: [0, 1] }),
      /voter sid 0 is not an integer in \[1, 9007199254740991\]/,
    );
    assert.throws(() => new QuorumVerifier({ voters: [1, 2 ** 53] }), /voter sid 9007199254740992 is not an integer/);
    assert.throws(() => new QuorumVerifier({ voters: Array.from({ length: 256 }, (_, i) => i + 1) }), /256 voters is more than 255 members/);
    assert.throws(() => new QuorumVerifier({ voters: [1, 2.5] }), /voter sid 2.5 is not an integer/);
    assert.throws(() => new QuorumVerifier({ voters: [1, 2, 2] }), /voter sid 2 is listed twice/);
    assert.throws(
      () => new QuorumVerifier({ voters: [1], observers: [7, 7] }),
      /observer sid 7 is listed twice/,
    );
    assert.throws(
      () => new QuorumVerifier({ voters: [1, 2], observers: [2] }),
      /both as a voter and as an observer/,
    );
    assert.throws(() => new QuorumVerifier({ voters: [1], observers: [-1] }), /observer sid -1/);
  });

  test("allows 1 to 255 voters but warns outside 3 to 13 and for even counts", () => {
    assert.deepEqual(new QuorumVerifier({ voters: [1, 2, 3] }).warnings, []);
    assert.deepEqual(new QuorumVerifier({ voters: range(1, 13) }).warnings, []);
    assert.match(new QuorumVerifier({ voters: [1] }).warnings.join(), /tolerate no failure/);
    assert.match(new QuorumVerifier({ voters: range(1, 4) }).warnings.join(), /odd number/);
    const all = new QuorumVerifier({ voters: range(1, 255) });
    assert.equal(all.quorumSize, 128);
    assert.match(all.warnings.join(), /13 or fewer/);
  });
});

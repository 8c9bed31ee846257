import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type {
  ConnectRequest,
  ConnectResponse,
  MultiRequest,
  Reply,
  Request,
} from "../../src/core/records.ts";
import {
  decodeConnectRequest,
  decodeConnectResponse,
  decodeNotification,
  decodeReplyHeader,
  decodeRequest,
  decodeResponse,
  encodeConnectRequest,
  encodeConnectResponse,
  encodeNotification,
  encodeReply,
  encodeRequest,
  WireError,
} from "../../src/wire/client_protocol.ts";
import { hex, sampleReplies, sampleRequests, sampleStat, toHex } from "./samples.ts";

function payload(frame: Uint8Array): Uint8Array {
  assert.equal(new DataView(frame.buffer, frame.byteOffset).getInt32(0), frame.length - 4, "length prefix");
  return frame.subarray(4);
}

function withTrailing(bytes: Uint8Array, extra: number[]): Uint8Array {
  const out = new Uint8Array(bytes.length + extra.length);
  out.set(bytes);
  out.set(extra, bytes.length);
  return out;
}

describe("handshake", () => {
  const request: ConnectRequest = {
    protocolVersion: 0,
    lastZxidSeen: 0,
    timeOut: 30000,
    sessionId: 0n,
    passwd: new Uint8Array(16),
    readOnly: false,
  };

  test("ConnectRequest with the readOnly byte is 45 bytes (§1.3)", () => {
    const frame = encodeConnectRequest(request);
    assert.equal(
      toHex(frame),
      toHex(hex("00 00 00 2d | 00 00 00 00 | 00×8 | 00 00 75 30 | 00×8 | 00 00 00 10 | 00×16 | 00")),
    );
    assert.deepEqual(decodeConnectRequest(payload(frame)), request);
  });

  test("ConnectRequest without the readOnly byte is 44 bytes and decodes readOnly undefined", () => {
    const old = { ...request, readOnly: undefined };
    const frame = encodeConnectRequest(old);
    assert.equal(frame.length, 48);
    assert.deepEqual(frame.subarray(0, 4), hex("00 00 00 2c"));
    assert.deepEqual(decodeConnectRequest(payload(frame)), old);
  });

  test("ConnectRequest round-trips a resumed session and ignores bytes after readOnly", () => {
    const resumed: ConnectRequest = {
      protocolVersion: 0,
      lastZxidSeen: 0x300000007,
      timeOut: 4000,
      sessionId: 0x0100000997c60000n,
      passwd: Uint8Array.from({ length: 16 }, (_, i) => i * 7),
      readOnly: true,
    };
    const bytes = withTrailing(payload(encodeConnectRequest(resumed)), [0, 1, 2]);
    assert.deepEqual(decodeConnectRequest(bytes), resumed);
  });

  test("a readOnly byte of 0x07 reads as true", () => {
    const bytes = payload(encodeConnectRequest(request));
    bytes[44] = 7;
    assert.equal(decodeConnectRequest(bytes).readOnly, true);
  });

  test("a ConnectRequest shorter than its five fields throws WireError", () => {
    const full = payload(encodeConnectRequest({ ...request, readOnly: undefined }));
    for (let length = 0; length < full.length; length++) {
      assert.throws(() => decodeConnectRequest(full.subarray(0, length)), WireError, `length ${length}`);
    }
  });

  test("a null password decodes as empty", () => {
    const bytes = hex("00×4 | 00×8 | 00 00 75 30 | 00×8 | ff ff ff ff");
    assert.deepEqual(decodeConnectRequest(bytes).passwd, new Uint8Array(0));
  });

  test("ConnectResponse example of Appendix B, with and without the readOnly byte", () => {
    const password = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
    const response: ConnectResponse = {
      protocolVersion: 0,
      timeOut: 30000,
      sessionId: 0x0100000997c60000n,
      passwd: password,
      readOnly: false,
    };
    const frame = encodeConnectResponse(response);
    const expected = "00 00 00 25 | 00 00 00 00 | 00 00 75 30 | 01 00 00 09 97 c6 00 00 | 00 00 00 10 | " +
      toHex(password) + " | 00";
    assert.equal(toHex(frame), toHex(hex(expected)));
    assert.deepEqual(decodeConnectResponse(payload(frame)), response);
    const old = { ...response, readOnly: undefined };
    const oldFrame = encodeConnectResponse(old);
    assert.equal(oldFrame.length - 4, 36);
    assert.deepEqual(decodeConnectResponse(payload(oldFrame)), old);
  });

  test("the invalid-session ConnectResponse round-trips", () => {
    const invalid: ConnectResponse = {
      protocolVersion: 0,
      timeOut: 0,
      sessionId: 0n,
      passwd: new Uint8Array(16),
      readOnly: true,
    };
    assert.deepEqual(decodeConnectResponse(payload(encodeConnectResponse(invalid))), invalid);
    assert.throws(() => decodeConnectResponse(hex("00 00 00 00 00 00")), WireError);
  });
});

describe("requests", () => {
  test("every request kind round-trips", () => {
    for (const [index, request] of sampleRequests.entries()) {
      if (request.kind === "check") continue;
      const decoded = decodeRequest(payload(encodeRequest(index + 1, request)));
      assert.equal(decoded.error, null, `${request.kind}: ${decoded.error}`);
      assert.deepEqual(decoded.header, { xid: index + 1, type: decoded.header.type });
      assert.deepEqual(decoded.request, request, request.kind);
    }
  });

  test('getData("/a", watch) with xid 1 matches Appendix B', () => {
    const frame = encodeRequest(1, { kind: "getData", path: "/a", watch: true });
    assert.equal(
      toHex(frame),
      toHex(hex("00 00 00 0f | 00 00 00 01 | 00 00 00 04 | 00 00 00 02 2f 61 | 01")),
    );
  });

  test("ping matches Appendix B", () => {
    const frame = encodeRequest(-2, { kind: "ping" });
    assert.equal(toHex(frame), toHex(hex("00 00 00 08 | ff ff ff fe | 00 00 00 0b")));
    assert.deepEqual(decodeRequest(payload(frame)), {
      header: { xid: -2, type: 11 },
      request: { kind: "ping" },
      error: null,
    });
  });

  test("opcodes map as ZooDefs.OpCode", () => {
    const expected: Record<string, number> = {
      create: 1,
      create2: 15,
      createContainer: 19,
      createTTL: 21,
      delete: 2,
      setData: 5,
      setACL: 7,
      exists: 3,
      getData: 4,
      getChildren: 8,
      getChildren2: 12,
      getACL: 6,
      sync: 9,
      getAllChildrenNumber: 104,
      deleteContainer: 20,
      getEphemerals: 103,
      checkWatches: 17,
      removeWatches: 18,
      addWatch: 106,
      setWatches: 101,
      setWatches2: 105,
      multi: 14,
      multiRead: 22,
      reconfig: 16,
      auth: 100,
      sasl: 102,
      ping: 11,
      closeSession: -11,
      whoAmI: 107,
      check: 13,
    };
    for (const request of sampleRequests) {
      const frame = encodeRequest(1, request);
      assert.equal(
        new DataView(frame.buffer, frame.byteOffset).getInt32(8),
        expected[request.kind],
        request.kind,
      );
    }
  });

  test("setWatches (101) writes only three lists; setWatches2 (105) five", () => {
    const request: Request = {
      kind: "setWatches",
      relativeZxid: 0x25,
      dataWatches: ["/a"],
      existWatches: [],
      childWatches: [],
      persistentWatches: ["/ignored"],
      persistentRecursiveWatches: ["/ignored"],
    };
    const frame = encodeRequest(-8, request);
    assert.equal(
      toHex(frame),
      toHex(
        hex(
          "00 00 00 22 | ff ff ff f8 | 00 00 00 65 | 00×7 25 | 00 00 00 01 00 00 00 02 2f 61 | 00×4 | 00×4",
        ),
      ),
    );
    const decoded = decodeRequest(payload(frame)).request;
    assert.deepEqual(decoded, { ...request, persistentWatches: [], persistentRecursiveWatches: [] });
    const frame2 = encodeRequest(3, { ...request, kind: "setWatches2" });
    assert.equal(frame2.length, frame.length + 2 * 16);
  });

  test("deleteContainer's body is the path's UTF-8 bytes as a buffer", () => {
    const frame = encodeRequest(1, { kind: "deleteContainer", path: "/ü" });
    assert.equal(toHex(frame.subarray(12)), "00 00 00 03 2f c3 bc");
  });

  test("multi encodes MultiHeader{type, false, -1} per op and the terminator (Appendix B)", () => {
    const empty = encodeRequest(1, { kind: "multi", ops: [] });
    assert.equal(
      toHex(empty),
      toHex(hex("00 00 00 11 | 00 00 00 01 | 00 00 00 0e | ff ff ff ff | 01 | ff ff ff ff")),
    );
    const one = encodeRequest(1, {
      kind: "multi",
      ops: [{ kind: "create", path: "/a", data: null, acl: null, flags: 0, ttl: 0n }],
    });
    assert.equal(
      toHex(one.subarray(12)),
      toHex(
        hex(
          "00 00 00 01 | 00 | ff ff ff ff | 00 00 00 02 2f 61 | ff ff ff ff | ff ff ff ff | 00 00 00 00 | ff ff ff ff 01 ff ff ff ff",
        ),
      ),
    );
  });

  test("a payload shorter than the RequestHeader throws WireError", () => {
    for (const length of [0, 3, 7]) {
      assert.throws(() => decodeRequest(new Uint8Array(length)), WireError);
    }
  });

  test('invalid opcodes give "unknown opcode N"', () => {
    for (const type of [0, -1, 10, 13, 23, 50, 99, 108, -10, -12, 0x7fffffff]) {
      const bytes = hex(
        `00 00 00 05 ${toHex(Uint8Array.of(type >>> 24, type >>> 16, type >>> 8, type))} 00 00 00 02 2f 61`,
      );
      assert.deepEqual(decodeRequest(bytes), {
        header: { xid: 5, type },
        request: null,
        error: `unknown opcode ${type}`,
      });
    }
  });

  test("a truncated body gives request null and an error naming the field", () => {
    const full = payload(
      encodeRequest(9, { kind: "setData", path: "/a", data: new Uint8Array(10), version: 3 }),
    );
    for (let length = 8; length < full.length; length++) {
      const decoded = decodeRequest(full.subarray(0, length));
      assert.equal(decoded.request, null);
      assert.deepEqual(decoded.header, { xid: 9, type: 5 });
      assert.match(decoded.error!, /setData \(opcode 5\) body does not parse: .*"(path|data|version)"/);
    }
  });

  test("trailing bytes after a body are ignored", () => {
    const request: Request = { kind: "exists", path: "/a", watch: false };
    const bytes = withTrailing(payload(encodeRequest(1, request)), [1, 2, 3, 4, 5]);
    assert.deepEqual(decodeRequest(bytes).request, request);
  });

  test("a watch byte of 0x07 is true", () => {
    const bytes = payload(encodeRequest(1, { kind: "getData", path: "/a", watch: false }));
    bytes[bytes.length - 1] = 7;
    assert.deepEqual(decodeRequest(bytes).request, { kind: "getData", path: "/a", watch: true });
  });

  test("null and empty data, strings and ACL vectors are kept apart", () => {
    const nullish: Request = { kind: "create", path: "/n", data: null, acl: null, flags: 0, ttl: 0n };
    const empty: Request = {
      kind: "create",
      path: "/n",
      data: new Uint8Array(0),
      acl: [],
      flags: 0,
      ttl: 0n,
    };
    assert.deepEqual(decodeRequest(payload(encodeRequest(1, nullish))).request, nullish);
    assert.deepEqual(decodeRequest(payload(encodeRequest(1, empty))).request, empty);
    const prefixNull =
      decodeRequest(payload(encodeRequest(1, { kind: "getEphemerals", prefixPath: null }))).request;
    const prefixEmpty =
      decodeRequest(payload(encodeRequest(1, { kind: "getEphemerals", prefixPath: "" }))).request;
    assert.deepEqual([prefixNull, prefixEmpty], [{ kind: "getEphemerals", prefixPath: null }, {
      kind: "getEphemerals",
      prefixPath: "",
    }]);
  });

  test('an ACL count below −1 is an empty list; an id of length −1 is ""', () => {
    const negative = hex(
      "00 00 00 01 00 00 00 01 | 00 00 00 02 2f 61 | ff ff ff ff | ff ff ff f0 | 00 00 00 00",
    );
    assert.deepEqual(decodeRequest(negative).request, {
      kind: "create",
      path: "/a",
      data: null,
      acl: [],
      flags: 0,
      ttl: 0n,
    });
    const nullId = hex(
      "00 00 00 01 00 00 00 01 | 00 00 00 02 2f 61 | ff ff ff ff | 00 00 00 01 00 00 00 1f 00 00 00 04 61 75 74 68 ff ff ff ff | 00 00 00 00",
    );
    assert.deepEqual((decodeRequest(nullId).request as { acl: unknown }).acl, [{
      perms: 31,
      id: { scheme: "auth", id: "" },
    }]);
  });

  test("an ACL count too large for the payload is a parse error, not an allocation", () => {
    const huge = hex("00 00 00 01 00 00 00 01 | 00 00 00 02 2f 61 | ff ff ff ff | 7f ff ff ff | 00 00 00 00");
    const decoded = decodeRequest(huge);
    assert.equal(decoded.request, null);
    assert.match(decoded.error!, /"acl"/);
  });

  test("decoded data does not alias the payload", () => {
    const bytes = payload(
      encodeRequest(1, { kind: "setData", path: "/a", data: new Uint8Array([1, 2, 3]), version: 0 }),
    );
    const request = decodeRequest(bytes).request as { data: Uint8Array };
    bytes.fill(0);
    assert.deepEqual(request.data, new Uint8Array([1, 2, 3]));
  });

  test("multi allows only write ops and multiRead only reads", () => {
    const writeOp = { kind: "delete", path: "/a", version: 0 } as const;
    const readOp = { kind: "getData", path: "/a", watch: false } as const;
    const multiWithRead = payload(
      encodeRequest(1, { kind: "multi", ops: [writeOp, readOp] } as unknown as MultiRequest),
    );
    const decoded = decodeRequest(multiWithRead);
    assert.equal(decoded.request, null);
    assert.match(decoded.error!, /op #1 has type 4, which is not allowed in multi/);
    const readWithWrite = payload(
      encodeRequest(1, { kind: "multiRead", ops: [readOp, writeOp] } as unknown as Request),
    );
    assert.match(decodeRequest(readWithWrite).error!, /op #1 has type 2, which is not allowed in multiRead/);
    for (const type of [0, 3, 6, 7, 9, 11, 12, 14, 16, 20, 22, 101]) {
      const bytes = hex(
        `00 00 00 01 00 00 00 0e ${
          toHex(Uint8Array.of(0, 0, 0, type))
        } 00 ff ff ff ff 00 00 00 02 2f 61 00 00 00 00 ff ff ff ff 01 ff ff ff ff`,
      );
      assert.match(
        decodeRequest(bytes).error!,
        new RegExp(`type ${type}, which is not allowed in multi`),
        `type ${type}`,
      );
    }
  });

  test("a multi without its terminator does not parse; a done byte of 0x07 terminates", () => {
    const full = payload(
      encodeRequest(1, { kind: "multi", ops: [{ kind: "delete", path: "/a", version: 0 }] }),
    );
    assert.match(
      decodeRequest(full.subarray(0, full.length - 9)).error!,
      /multi \(opcode 14\) body does not parse/,
    );
    const sevens = full.slice();
    sevens[full.length - 5] = 7;
    assert.deepEqual(decodeRequest(sevens).request, {
      kind: "multi",
      ops: [{ kind: "delete", path: "/a", version: 0 }],
    });
  });
});

describe("replies", () => {
  test("every response kind and OpResult type round-trips", () => {
    for (const { requestKind, reply } of sampleReplies) {
      const bytes = payload(encodeReply(reply));
      assert.deepEqual(decodeReplyHeader(bytes), reply.header);
      assert.deepEqual(decodeResponse(requestKind, bytes), reply.body, requestKind);
    }
  });

  test("ping reply and error reply match Appendix B", () => {
    const ping = encodeReply({ header: { xid: -2, zxid: 0x25, err: 0 }, body: null });
    assert.equal(
      toHex(ping),
      toHex(hex("00 00 00 10 | ff ff ff fe | 00 00 00 00 00 00 00 25 | 00 00 00 00")),
    );
    const error = encodeReply({ header: { xid: 1, zxid: 0x26, err: -101 }, body: null });
    assert.equal(
      toHex(error),
      toHex(hex("00 00 00 10 | 00 00 00 01 | 00 00 00 00 00 00 00 26 | ff ff ff 9b")),
    );
    assert.deepEqual(decodeReplyHeader(payload(error)), { xid: 1, zxid: 0x26, err: -101 });
    assert.equal(decodeResponse("getData", payload(error)), null);
  });

  test("a failed multi op result is MultiHeader{-1, false, err} + ErrorResponse (Appendix B)", () => {
    const frame = encodeReply({
      header: { xid: 4, zxid: 0x30, err: 0 },
      body: { kind: "multi", results: [{ type: "error", err: -110 }] },
    });
    assert.equal(
      toHex(frame.subarray(20)),
      toHex(hex("ff ff ff ff | 00 | ff ff ff 92 | ff ff ff 92 | ff ff ff ff 01 ff ff ff ff")),
    );
  });

  test("the multi result code is the ErrorResponse's; type-1 and type-15 creates are both accepted", () => {
    const bytes = hex(
      "00 00 00 01 00×8 00×4 | ff ff ff ff 00 00 00 00 00 ff ff ff 92 | 00 00 00 01 00 00 00 00 00 00 00 00 02 2f 61 | ff ff ff ff 01 ff ff ff ff",
    );
    assert.deepEqual(decodeResponse("multi", bytes), {
      kind: "multi",
      results: [{ type: "error", err: -110 }, { type: "create", path: "/a" }],
    });
  });

  test("an unknown multi result type throws WireError", () => {
    const bytes = hex("00 00 00 01 00×8 00×4 | 00 00 00 63 00 00 00 00 00 | ff ff ff ff 01 ff ff ff ff");
    assert.throws(
      () => decodeResponse("multi", bytes),
      (e: unknown) => e instanceof WireError && /unknown type 99/.test(e.message),
    );
  });

  test("kinds without a body decode to null; addWatch's body is four zero bytes", () => {
    for (
      const kind of [
        "delete",
        "setWatches",
        "setWatches2",
        "checkWatches",
        "removeWatches",
        "ping",
        "closeSession",
        "auth",
        "deleteContainer",
        "check",
      ] as const
    ) {
      assert.equal(
        decodeResponse(kind, payload(encodeReply({ header: { xid: 1, zxid: 2, err: 0 }, body: null }))),
        null,
        kind,
      );
    }
    const addWatch = encodeReply({
      header: { xid: 1, zxid: 2, err: 0 },
      body: { kind: "errorResponse", err: 0 },
    });
    assert.equal(toHex(addWatch.subarray(20)), "00 00 00 00");
  });

  test("a failed sasl reply still carries its null token; without one it is null", () => {
    const failed: Reply = { header: { xid: 3, zxid: 0, err: -115 }, body: { kind: "sasl", token: null } };
    assert.deepEqual(decodeResponse("sasl", payload(encodeReply(failed))), { kind: "sasl", token: null });
    assert.equal(decodeResponse("sasl", payload(encodeReply({ ...failed, body: null }))), null);
  });

  test("null getData data and empty data are kept apart; null child lists read as []", () => {
    const nullData = encodeReply({
      header: { xid: 1, zxid: 1, err: 0 },
      body: { kind: "getData", data: null, stat: sampleStat },
    });
    assert.equal(toHex(nullData.subarray(20, 24)), "ff ff ff ff");
    const nullChildren = hex("00 00 00 01 00×8 00×4 ff ff ff ff");
    assert.deepEqual(decodeResponse("getChildren", nullChildren), { kind: "getChildren", children: [] });
  });

  test("the Stat is 68 bytes in declaration order", () => {
    const frame = encodeReply({
      header: { xid: 1, zxid: 1, err: 0 },
      body: { kind: "stat", stat: sampleStat },
    });
    assert.equal(frame.length, 4 + 16 + 68);
    assert.equal(
      toHex(frame.subarray(20)),
      toHex(
        hex(
          "00 00 00 01 00 00 00 01 | 00 00 00 01 00 00 00 25 | 00 00 01 8b cf e5 68 7b | 00 00 01 8b cf e5 69 c8 | " +
            "00 00 00 03 | ff ff ff ff | 00 00 00 00 | 01 00 00 09 97 c6 00 00 | 00 00 00 05 | 00 00 00 02 | ff×8",
        ),
      ),
    );
  });

  test("truncated reply bodies throw WireError", () => {
    for (const { requestKind, reply } of sampleReplies) {
      const bytes = payload(encodeReply(reply));
      if (bytes.length === 16) continue;
      for (const length of [0, 15, bytes.length - 1]) {
        assert.throws(
          () => decodeResponse(requestKind, bytes.subarray(0, length)),
          WireError,
          `${requestKind} @${length}`,
        );
      }
    }
  });

  test("trailing bytes after a reply body are ignored", () => {
    const reply: Reply = { header: { xid: 1, zxid: 1, err: 0 }, body: { kind: "sync", path: "/x" } };
    assert.deepEqual(decodeResponse("sync", withTrailing(payload(encodeReply(reply)), [9, 9])), reply.body);
  });
});

describe("notifications", () => {
  test("NodeDataChanged on /a from txn 0x26 matches §2.4", () => {
    const frame = encodeNotification(0x26, { type: 3, state: 3, path: "/a" });
    assert.equal(
      toHex(frame),
      toHex(
        hex(
          "00 00 00 1e | ff ff ff ff | 00 00 00 00 00 00 00 26 | 00 00 00 00 | 00 00 00 03 | 00 00 00 03 | 00 00 00 02 2f 61",
        ),
      ),
    );
    assert.deepEqual(decodeNotification(payload(frame)), {
      zxid: 0x26,
      event: { type: 3, state: 3, path: "/a" },
    });
    assert.deepEqual(decodeReplyHeader(payload(frame)), { xid: -1, zxid: 0x26, err: 0 });
  });

  test("zxid −1 (3.8 servers) round-trips; truncation throws WireError", () => {
    const frame = encodeNotification(-1, { type: 4, state: 3, path: "/ü" });
    assert.deepEqual(decodeNotification(payload(frame)), {
      zxid: -1,
      event: { type: 4, state: 3, path: "/ü" },
    });
    assert.throws(() => decodeNotification(payload(frame).subarray(0, 25)), WireError);
  });
});

/** Sample records covering every request kind, response kind and OpResult type (shared by the wire tests). */
import type { ACL, Reply, Request, RequestKind, Response, Stat } from "../../src/core/records.ts";

/** "00 00 00 2d | 00×8 | ..." → bytes; `|` is ignored and `XX×N` repeats a byte. */
export function hex(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const token of text.replace(/\|/g, " ").split(/\s+/).filter((t) => t.length > 0)) {
    const [byte, repeat] = token.split("×");
    for (let i = 0; i < Number(repeat ?? 1); i++) bytes.push(parseInt(byte!, 16));
  }
  return Uint8Array.from(bytes);
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

export const sampleStat: Stat = {
  czxid: 0x100000001,
  mzxid: 0x100000025,
  ctime: 1700000000123,
  mtime: 1700000000456,
  version: 3,
  cversion: -1,
  aversion: 0,
  ephemeralOwner: 0x0100000997c60000n,
  dataLength: 5,
  numChildren: 2,
  pzxid: -1,
};

const openAcl: ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const mixedAcl: ACL[] = [
  { perms: 1, id: { scheme: "digest", id: "bob:abc=" } },
  { perms: 16, id: { scheme: "ip", id: "127.0.0.1" } },
];
const data = new TextEncoder().encode("hello");

/** One or more requests of every kind (including `check`, valid only inside multi). */
export const sampleRequests: Request[] = [
  { kind: "create", path: "/a", data, acl: openAcl, flags: 0, ttl: 0n },
  { kind: "create", path: "/null-data", data: null, acl: null, flags: 1, ttl: 0n },
  { kind: "create2", path: "/b", data: new Uint8Array(0), acl: [], flags: 2, ttl: 0n },
  { kind: "createContainer", path: "/c", data, acl: mixedAcl, flags: 4, ttl: 0n },
  { kind: "createTTL", path: "/t", data, acl: openAcl, flags: 5, ttl: 60000n },
  { kind: "delete", path: "/a", version: -1 },
  { kind: "setData", path: "/a", data, version: 7 },
  { kind: "setData", path: "/a", data: null, version: -1 },
  { kind: "setACL", path: "/a", acl: mixedAcl, version: 0 },
  { kind: "exists", path: "/a", watch: true },
  { kind: "getData", path: "/a", watch: false },
  { kind: "getChildren", path: "/", watch: true },
  { kind: "getChildren2", path: "/zookeeper", watch: false },
  { kind: "getACL", path: "/a" },
  { kind: "sync", path: "/" },
  { kind: "getAllChildrenNumber", path: "/" },
  { kind: "deleteContainer", path: "/c" },
  { kind: "getEphemerals", prefixPath: "/e" },
  { kind: "getEphemerals", prefixPath: null },
  { kind: "checkWatches", path: "/a", type: 3 },
  { kind: "removeWatches", path: "/a", type: 1 },
  { kind: "addWatch", path: "/p", mode: 1 },
  {
    kind: "setWatches",
    relativeZxid: 0x200000003,
    dataWatches: ["/a", "/b"],
    existWatches: [],
    childWatches: ["/"],
    persistentWatches: [],
    persistentRecursiveWatches: [],
  },
  {
    kind: "setWatches2",
    relativeZxid: 5,
    dataWatches: [],
    existWatches: ["/x"],
    childWatches: [],
    persistentWatches: ["/p"],
    persistentRecursiveWatches: ["/r", "/s"],
  },
  {
    kind: "multi",
    ops: [
      { kind: "create", path: "/m", data, acl: openAcl, flags: 0, ttl: 0n },
      { kind: "create2", path: "/m/2", data: null, acl: openAcl, flags: 0, ttl: 0n },
      { kind: "createContainer", path: "/m/c", data, acl: openAcl, flags: 4, ttl: 0n },
      { kind: "createTTL", path: "/m/t", data, acl: openAcl, flags: 6, ttl: 1000n },
      { kind: "delete", path: "/m/x", version: 1 },
      { kind: "setData", path: "/m", data, version: -1 },
      { kind: "check", path: "/m", version: 2 },
    ],
  },
  { kind: "multi", ops: [] },
  {
    kind: "multiRead",
    ops: [
      { kind: "getData", path: "/a", watch: false },
      { kind: "getChildren", path: "/", watch: false },
    ],
  },
  {
    kind: "reconfig",
    joiningServers: "server.4=h:2888:3888;2181",
    leavingServers: null,
    newMembers: null,
    curConfigId: -1n,
  },
  { kind: "auth", type: 0, scheme: "digest", auth: new TextEncoder().encode("bob:secret") },
  { kind: "auth", type: 0, scheme: "super", auth: null },
  { kind: "sasl", token: new Uint8Array([1, 2, 3]) },
  { kind: "ping" },
  { kind: "closeSession" },
  { kind: "whoAmI" },
  { kind: "check", path: "/a", version: 1 },
];

/** A reply with every Response kind, each paired with a request kind that expects it. */
export const sampleReplies: { requestKind: RequestKind; reply: Reply }[] = [
  ...(
    [
      ["create", { kind: "create", path: "/a0000000001" }],
      ["create2", { kind: "create2", path: "/b", stat: sampleStat }],
      ["createContainer", { kind: "create2", path: "/c", stat: sampleStat }],
      ["createTTL", { kind: "create2", path: "/t", stat: sampleStat }],
      ["exists", { kind: "stat", stat: sampleStat }],
      ["setData", { kind: "stat", stat: sampleStat }],
      ["setACL", { kind: "stat", stat: sampleStat }],
      ["getData", { kind: "getData", data, stat: sampleStat }],
      ["getData", { kind: "getData", data: null, stat: sampleStat }],
      ["reconfig", {
        kind: "getData",
        data: new TextEncoder().encode("server.1=h:1:2:participant\nversion=1"),
        stat: sampleStat,
      }],
      ["getACL", { kind: "getACL", acl: mixedAcl, stat: sampleStat }],
      ["getChildren", { kind: "getChildren", children: ["a", "b", "zookeeper"] }],
      ["getChildren", { kind: "getChildren", children: [] }],
      ["getChildren2", { kind: "getChildren2", children: ["x"], stat: sampleStat }],
      ["sync", { kind: "sync", path: "/" }],
      ["getEphemerals", { kind: "getEphemerals", ephemerals: ["/e/1", "/e/2"] }],
      ["getAllChildrenNumber", { kind: "getAllChildrenNumber", totalNumber: 3 }],
      ["addWatch", { kind: "errorResponse", err: 0 }],
      ["whoAmI", {
        kind: "whoAmI",
        clientInfo: [{ authScheme: "ip", user: "127.0.0.1" }, { authScheme: "super", user: "" }],
      }],
      ["sasl", { kind: "sasl", token: new Uint8Array([9, 8, 7]) }],
      ["sasl", { kind: "sasl", token: null }],
      [
        "multi",
        {
          kind: "multi",
          results: [
            { type: "create", path: "/m" },
            { type: "create2", path: "/m/2", stat: sampleStat },
            { type: "delete" },
            { type: "setData", stat: sampleStat },
            { type: "check" },
            { type: "error", err: -110 },
          ],
        },
      ],
      ["multi", { kind: "multi", results: [] }],
      [
        "multiRead",
        {
          kind: "multi",
          results: [
            { type: "getChildren", children: ["a"] },
            { type: "getData", data, stat: sampleStat },
            { type: "getData", data: null, stat: sampleStat },
            { type: "error", err: -101 },
          ],
        },
      ],
    ] as [RequestKind, Response][]
  ).map(([requestKind, body], index) => ({
    requestKind,
    reply: { header: { xid: index + 1, zxid: 0x100000000 + index, err: 0 }, body },
  })),
];

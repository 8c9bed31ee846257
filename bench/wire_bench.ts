/**
 * Jute codec throughput: encode + decode of the frames that dominate a ZooKeeper workload.
 * Run: node --import tsx bench/wire_bench.ts | deno run -A bench/wire_bench.ts | bun bench/wire_bench.ts
 */
import { Bench } from "tinybench";
import type { Stat } from "../src/core/records.ts";
import { decodeRequest, decodeResponse, encodeReply, encodeRequest } from "../src/wire/client_protocol.ts";

const stat: Stat = {
  czxid: 0x100000001,
  mzxid: 0x100000025,
  ctime: 1700000000123,
  mtime: 1700000000456,
  version: 3,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0n,
  dataLength: 1024,
  numChildren: 0,
  pzxid: 0x100000001,
};
const data = new Uint8Array(1024).fill(0x61);
const path = "/corral/bench/node-0000000042";

const bench = new Bench({ time: 500 });
let sink = 0;

bench.add("getData request: encode + decode", () => {
  const frame = encodeRequest(42, { kind: "getData", path, watch: true });
  const decoded = decodeRequest(frame.subarray(4));
  sink += decoded.header.xid;
});

bench.add("getData reply (1 KiB + Stat): encode + decode", () => {
  const frame = encodeReply({
    header: { xid: 42, zxid: 0x100000025, err: 0 },
    body: { kind: "getData", data, stat },
  });
  const response = decodeResponse("getData", frame.subarray(4));
  sink += response === null ? 0 : 1;
});

bench.add("setData request (1 KiB): encode + decode", () => {
  const frame = encodeRequest(42, { kind: "setData", path, data, version: -1 });
  const decoded = decodeRequest(frame.subarray(4));
  sink += decoded.header.type;
});

await bench.run();
console.table(bench.table());
if (sink === 0) console.log("(sink)");

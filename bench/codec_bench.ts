/**
 * Jute codec: encode + decode of the frames that dominate a ZooKeeper workload, batched and
 * returned as a table (`--only=codec`).
 */
import type { Stat } from "../src/core/records.ts";
import { decodeRequest, decodeResponse, encodeReply, encodeRequest } from "../src/wire/client_protocol.ts";
import type { Table } from "./markdown_table.ts";
import { type BenchTiming, MICRO_COLUMNS, runBatched } from "./tinybench_rows.ts";

const BATCH = 100;

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

export async function codecTable(timing: BenchTiming): Promise<Table> {
  let sink = 0;
  const rows = await runBatched([
    {
      name: "getData request: encode + decode",
      operationsPerCall: BATCH,
      run: () => {
        for (let i = 0; i < BATCH; i++) {
          const frame = encodeRequest(42, { kind: "getData", path, watch: true });
          sink += decodeRequest(frame.subarray(4)).header.xid;
        }
      },
    },
    {
      name: "getData reply (1 KiB + Stat): encode + decode",
      operationsPerCall: BATCH,
      run: () => {
        for (let i = 0; i < BATCH; i++) {
          const frame = encodeReply({
            header: { xid: 42, zxid: 0x100000025, err: 0 },
            body: { kind: "getData", data, stat },
          });
          sink += decodeResponse("getData", frame.subarray(4)) === null ? 0 : 1;
        }
      },
    },
    {
      name: "setData request (1 KiB): encode + decode",
      operationsPerCall: BATCH,
      run: () => {
        for (let i = 0; i < BATCH; i++) {
          const frame = encodeRequest(42, { kind: "setData", path, data, version: -1 });
          sink += decodeRequest(frame.subarray(4)).header.type;
        }
      },
    },
  ], timing);
  // Uses the results so the work cannot be optimised away.
  if (sink === 0) throw new Error("codec bench: nothing was decoded");
  return { title: "Codec (jute encode + decode, no sockets)", columns: MICRO_COLUMNS, rows };
}

/**
 * Runs the ACL/opcode audit table (acl_opcodes_table.ts) against one server: builds every case's
 * fixture as the owner, snapshots it, sends each case's steps as its actor (pipelined per actor
 * connection; a case's steps stay in order), snapshots again, and reports every cell that differs
 * from the expected code and every refused request that nevertheless changed the tree.
 */
import { createHash } from "node:crypto";
import { JuteReader } from "../compat/differential/jute.ts";
import { AclWire, type WireReply } from "./acl_wire_client.ts";
import {
  type Cell,
  type Column,
  COLUMNS,
  type Fixture,
  type Identity,
  keptPerms,
  Perm,
  type Row,
  ROWS,
} from "./acl_opcodes_table.ts";

export const OWNER = "owner:pw-owner";
export const MALLORY = "mallory:pw-mallory";
export const SUPER = "super:pw-super";

/** ZooKeeper's digest id for "user:password": user:base64(sha1("user:password")). */
export function digestId(credential: string): string {
  const user = credential.split(":")[0];
  return `${user}:${createHash("sha1").update(credential).digest("base64")}`;
}

/** The zoo.cfg line value that makes SUPER the super user (both servers read the same key). */
export const SUPER_DIGEST = digestId(SUPER);

const ROOT = "/acl-audit";
/** Bounds the snapshot walk: a fixture has a handful of nodes; more means something went wrong. */
const SNAPSHOT_NODES_MAX = 64;

export interface AuditOptions {
  host: string;
  port: number;
  /** The expected cell of a row and column for this server (the table's, or an older release's). */
  expected?: (row: Row, column: Column) => Cell;
  /** Rows to leave out, with the reason (e.g. a judge release that cannot answer them). */
  skipRow?: (row: Row) => string | null;
}

export interface AuditReport {
  cases: number;
  /** Human-readable differences from the expected table. */
  mismatches: string[];
  /** Refused requests (or reads) after which the tree was not what it had been. */
  changed: string[];
  /** Rows skipped, with why. */
  skipped: string[];
}

interface Case {
  row: Row;
  identity: Identity;
  column: Column;
  fixture: Fixture;
  acl: { perms: number; scheme: string; id: string }[];
}

function fixtureAcl(identity: Identity, column: Column): Case["acl"] {
  const owner = { perms: Perm.ALL, scheme: "digest", id: digestId(OWNER) };
  const kept = keptPerms(column);
  if (identity === "world") return [{ perms: kept, scheme: "world", id: "anyone" }, owner];
  if (identity === "digest") return [{ perms: kept, scheme: "digest", id: digestId(MALLORY) }, owner];
  return [owner];
}

function casesOf(rows: readonly Row[]): Case[] {
  const cases: Case[] = [];
  rows.forEach((row, rowIndex) => {
    for (const identity of row.identities ?? (["world", "digest", "super"] as const)) {
      const columns = identity === "super" ? (["super"] as const) : COLUMNS.filter((c) => c !== "super");
      for (const column of columns) {
        const parent = `${ROOT}/r${rowIndex}-${identity}-${column.replace("-", "no")}`;
        cases.push({
          row,
          identity,
          column,
          fixture: { parent, child: `${parent}/c`, container: `${parent}/box` },
          acl: fixtureAcl(identity, column),
        });
      }
    }
  });
  return cases;
}

function tableCell(row: Row, column: Column): Cell {
  return row.cells[COLUMNS.indexOf(column)]!;
}

function credentialsOf(identity: Identity): string[] {
  if (identity === "digest") return [MALLORY];
  if (identity === "super") return [SUPER];
  return [];
}

export async function runAudit(options: AuditOptions): Promise<AuditReport> {
  const expected = options.expected ?? tableCell;
  const skipped: string[] = [];
  const rows = ROWS.filter((row) => {
    const why = options.skipRow?.(row) ?? null;
    if (why !== null) skipped.push(`${row.name}: ${why}`);
    return why === null;
  });
  const cases = casesOf(rows);
  const connect = (identity: Identity) =>
    AclWire.connect({ host: options.host, port: options.port, digests: credentialsOf(identity) });
  const owner = await AclWire.connect({ host: options.host, port: options.port, digests: [OWNER] });
  const actors = new Map<Identity, AclWire>();
  const extra: AclWire[] = [];
  try {
    for (const identity of ["world", "digest", "super"] as const) actors.set(identity, await connect(identity));
    await setUpFixtures(owner, cases);
    const before = await Promise.all(cases.map((c) => snapshot(owner, c.fixture.parent)));

    const answers = await Promise.all(cases.map(async (c) => {
      let wire = actors.get(c.identity)!;
      if (c.row.closesConnection) {
        wire = await connect(c.identity);
        extra.push(wire);
      }
      // Every step is sent at once: one connection answers in order, so the steps stay in sequence.
      const replies = c.row.steps.map((s) => wire.call(s.opcode, s.body(c.fixture)));
      const codes: number[] = [];
      for (const [index, reply] of replies.entries()) {
        const answer = await reply.catch((error: unknown) => new Error(String(error)));
        if (answer instanceof Error) return answer;
        codes.push(...codesOf(answer, c.row.steps[index]!.multiResponse === true));
      }
      return codes;
    }));

    await call(owner, 9, pathBody(ROOT), "sync");
    const after = await Promise.all(cases.map((c) => snapshot(owner, c.fixture.parent)));

    const mismatches: string[] = [];
    const changed: string[] = [];
    cases.forEach((c, index) => {
      const where = `${c.row.name} [${c.identity} ${c.column}]`;
      const answer = answers[index]!;
      const want = flat(expected(c.row, c.column));
      if (answer instanceof Error) {
        mismatches.push(`${where}: expected ${show(want)}, got no answer (${answer.message})`);
        return;
      }
      if (show(answer) !== show(want)) mismatches.push(`${where}: expected ${show(want)}, got ${show(answer)}`);
      const refused = answer.some((code) => code !== 0);
      if ((!c.row.writes || refused) && before[index] !== after[index]) {
        changed.push(`${where}: answered ${show(answer)} yet the tree changed:\n  before ${before[index]}\n  after  ${after[index]}`);
      }
    });
    return { cases: cases.length, mismatches, changed, skipped };
  } finally {
    const all = [owner, ...actors.values(), ...extra];
    await Promise.all(all.map((wire) => wire.close().catch(() => {})));
  }
}

function flat(cell: Cell): number[] {
  return typeof cell === "number" ? [cell] : [...cell];
}

function show(codes: readonly number[]): string {
  return codes.length === 1 ? String(codes[0]) : `[${codes.join(", ")}]`;
}

/** The reply's code; for a MultiResponse the header code followed by each op result's code. */
function codesOf(reply: WireReply, multiResponse: boolean): number[] {
  if (!multiResponse || reply.err !== 0) return [reply.err];
  const codes = [reply.err];
  const reader = new JuteReader(reply.body);
  for (let count = 0; count < 1000; count++) {
    const type = reader.int();
    const done = reader.bool();
    reader.int(); // the header's err (−1 for every op on the wire protocol's MultiHeader)
    if (done) return codes;
    if (type === -1) {
      codes.push(reader.int());
      continue;
    }
    codes.push(0);
    skipOpResult(reader, type);
  }
  throw new Error("a MultiResponse with more than 1000 results");
}

const STAT_BYTES = 68;

function skipBytes(reader: JuteReader, count: number): void {
  for (let i = 0; i < count; i++) reader.bool();
}

function skipOpResult(reader: JuteReader, type: number): void {
  switch (type) {
    case 1: // create
      reader.string();
      return;
    case 15: // create2 (and containers, TTL)
      reader.string();
      skipBytes(reader, STAT_BYTES);
      return;
    case 5: // setData
      skipBytes(reader, STAT_BYTES);
      return;
    case 2: // delete
    case 13: // check
      return;
    case 4: // getData
      reader.buffer();
      skipBytes(reader, STAT_BYTES);
      return;
    case 8: // getChildren
      readStrings(reader);
      return;
    default:
      throw new Error(`MultiResponse: unexpected op result type ${type}`);
  }
}

function readStrings(reader: JuteReader): string[] {
  const count = reader.int();
  if (count < 0 || count > 100_000) throw new Error(`bad vector length ${count}`);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(reader.string() ?? "");
  return out;
}

function pathBody(path: string): Uint8Array {
  const bytes = new TextEncoder().encode(path);
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setInt32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function int(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, value);
  return out;
}

function createBody(path: string, acl: Case["acl"], flags: number): Uint8Array {
  const parts = [pathBody(path), int(-1), int(acl.length)];
  for (const entry of acl) parts.push(int(entry.perms), pathBody(entry.scheme), pathBody(entry.id));
  parts.push(int(flags));
  return concat(...parts);
}

async function call(wire: AclWire, opcode: number, body: Uint8Array, what: string): Promise<WireReply> {
  const reply = await wire.call(opcode, body);
  if (reply.err !== 0) throw new Error(`${what} failed with err ${reply.err}`);
  return reply;
}

async function setUpFixtures(owner: AclWire, cases: readonly Case[]): Promise<void> {
  const open = [{ perms: Perm.ALL, scheme: "world", id: "anyone" }];
  const root = await owner.call(1, createBody(ROOT, open, 0));
  if (root.err !== 0 && root.err !== -110) throw new Error(`creating ${ROOT} failed with err ${root.err}`);
  const creates: Promise<WireReply>[] = [];
  for (const c of cases) {
    const { parent, child, container } = c.fixture;
    creates.push(call(owner, 1, createBody(parent, c.acl, 0), `creating ${parent}`));
    creates.push(call(owner, 1, createBody(child, c.acl, 0), `creating ${child}`));
    creates.push(call(owner, 19, createBody(container, c.acl, 4), `creating ${container}`));
  }
  await Promise.all(creates);
}

/** The subtree at `path` as text: each node's data, stat, ACL and sorted children, read as the owner. */
async function snapshot(owner: AclWire, path: string): Promise<string> {
  const nodes: string[] = [];
  const queue = [path];
  while (queue.length > 0) {
    if (nodes.length >= SNAPSHOT_NODES_MAX) throw new Error(`snapshot of ${path}: more than ${SNAPSHOT_NODES_MAX} nodes`);
    const node = queue.shift()!;
    const watchless = concat(pathBody(node), new Uint8Array([0]));
    const [data, acl, children] = await Promise.all([
      owner.call(4, watchless),
      owner.call(6, pathBody(node)),
      owner.call(8, watchless),
    ]);
    if (data.err !== 0) {
      nodes.push(`${node}: err ${data.err}`);
      continue;
    }
    const names = children.err === 0 ? readStrings(new JuteReader(children.body)).sort() : [];
    nodes.push(`${node}: data+stat ${hex(data.body)} acl+stat ${acl.err === 0 ? hex(acl.body) : `err ${acl.err}`} children ${names.join(",")}`);
    for (const name of names) queue.push(`${node}/${name}`);
  }
  return nodes.join("; ");
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

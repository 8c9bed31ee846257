/**
 * Watch events need READ too (CVE-2024-23944, fixed in ZooKeeper 3.8.4 and in Debian's 3.8.0): a
 * client with a persistent recursive watch on a node it may read must not learn, through events,
 * the paths of descendants it may not read. An unauthenticated client watches /acl-watch recursively;
 * the owner creates, changes and deletes a child only it may read, and a child anyone may read; the
 * watcher must see the public child's events and none of the secret one's.
 */
import { AclWire } from "./acl_wire_client.ts";
import { digestId, OWNER } from "./acl_opcodes_audit.ts";
import { Perm } from "./acl_opcodes_table.ts";

const ROOT = "/acl-watch";
const SECRET = `${ROOT}/secret`;
const PUBLIC = `${ROOT}/public`;
const EventType = { NodeCreated: 1, NodeDeleted: 2, NodeDataChanged: 3 } as const;

const utf8 = new TextEncoder();

function str(value: string): Uint8Array {
  return body((w) => w.string(value));
}

/** A tiny jute writer for the handful of requests below. */
function body(write: (w: { int(v: number): unknown; string(v: string): unknown }) => void): Uint8Array {
  const parts: Uint8Array[] = [];
  const w = {
    int(v: number) {
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setInt32(0, v);
      parts.push(bytes);
    },
    string(v: string) {
      const bytes = utf8.encode(v);
      w.int(bytes.length);
      parts.push(bytes);
    },
  };
  write(w);
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function create(path: string, acl: readonly { perms: number; scheme: string; id: string }[]): Uint8Array {
  return body((w) => {
    w.string(path);
    w.int(-1); // no data
    w.int(acl.length);
    for (const entry of acl) {
      w.int(entry.perms);
      w.string(entry.scheme);
      w.string(entry.id);
    }
    w.int(0);
  });
}

async function ok(wire: AclWire, opcode: number, request: Uint8Array, what: string): Promise<void> {
  const reply = await wire.call(opcode, request);
  if (reply.err !== 0) throw new Error(`${what} failed with err ${reply.err}`);
}

/** Returns what went wrong (empty when the events were filtered as ZooKeeper filters them). */
export async function runWatchEventAudit(options: { host: string; port: number }): Promise<string[]> {
  const owner = await AclWire.connect({ host: options.host, port: options.port, digests: [OWNER] });
  const watcher = await AclWire.connect({ host: options.host, port: options.port });
  try {
    const open = [{ perms: Perm.ALL, scheme: "world", id: "anyone" }];
    const ownerOnly = [{ perms: Perm.ALL, scheme: "digest", id: digestId(OWNER) }];
    await ok(owner, 1, create(ROOT, open), `create ${ROOT}`);
    await ok(watcher, 106, body((w) => {
      w.string(ROOT);
      w.int(1); // PERSISTENT_RECURSIVE
    }), `addWatch ${ROOT}`);
    for (const [path, acl] of [[SECRET, ownerOnly], [PUBLIC, open]] as const) {
      await ok(owner, 1, create(path, acl), `create ${path}`);
      await ok(owner, 5, setData(path), `setData ${path}`);
      await ok(owner, 2, body((w) => {
        w.string(path);
        w.int(-1);
      }), `delete ${path}`);
    }
    // A round trip on the watcher's own connection: every event queued before it has arrived.
    await ok(watcher, 9, str(ROOT), "sync");
    await ok(watcher, 3, existsBody(ROOT), "exists");
    const seen = watcher.notifications.map((n) => `${n.type} ${n.path}`);
    const problems: string[] = [];
    const leaked = seen.filter((line) => line.endsWith(SECRET));
    if (leaked.length > 0) problems.push(`events about ${SECRET} (no READ) reached the watcher: ${leaked.join("; ")}`);
    for (const type of [EventType.NodeCreated, EventType.NodeDataChanged, EventType.NodeDeleted]) {
      if (!seen.includes(`${type} ${PUBLIC}`)) problems.push(`event type ${type} on ${PUBLIC} never arrived (got: ${seen.join("; ")})`);
    }
    return problems;
  } finally {
    await Promise.all([owner.close(), watcher.close()]);
  }
}

function setData(path: string): Uint8Array {
  const data = utf8.encode("x");
  const head = str(path);
  const out = new Uint8Array(head.length + 4 + data.length + 4);
  out.set(head, 0);
  const view = new DataView(out.buffer);
  view.setInt32(head.length, data.length);
  out.set(data, head.length + 4);
  view.setInt32(head.length + 4 + data.length, -1);
  return out;
}

function existsBody(path: string): Uint8Array {
  const head = str(path);
  const out = new Uint8Array(head.length + 1);
  out.set(head, 0);
  return out;
}

/**
 * Workers electing a leader with the LeaderSelector recipe (Curator's znode layout), in one process
 * with an embedded Corral server. Only the leader takes the next work item; when it finishes it
 * hands leadership on (the next worker in line leads, the old leader queues up again). In the middle
 * of one term the leader "crashes" by closing its session: its `term.lost` signal fires, its znode
 * vanishes, and the next worker takes over and redoes the unfinished item.
 *
 * The leader records each item in a ledger znode together with its term's fencing token; the ledger
 * refuses a token lower than the last one it saw, so a deposed leader could not overwrite a newer
 * leader's work.
 *
 *   deno run -A examples/leader_workers.ts       (or: node --import tsx ..., bun ...)
 */
import process from "node:process";
import { type Client, createClient, CreateMode, startServer } from "../mod.ts";
import { ensurePath, LeaderSelector, type LeadershipTerm } from "../src/recipes/mod.ts";

const ROOT = "/examples/leader-workers";
const ELECTION = `${ROOT}/election`;
const LEDGER = `${ROOT}/ledger`;
const WORKERS = ["ada", "grace", "linus"];
const ITEMS = 5;
/** The leader working on this item crashes before finishing it. */
const CRASH_ON_ITEM = 3;
const TIMEOUT_MS = 30_000;

interface LedgerEntry {
  item: number;
  by: string;
  fencingToken: number;
}

const interrupted = new AbortController();
const onInterrupt = () => interrupted.abort();
process.once("SIGINT", onInterrupt);

const server = await startServer({ port: 0 });
const connectString = `127.0.0.1:${server.port}`;
console.log(
  `leader_workers: Corral on ${connectString}; ${WORKERS.join(", ")} elect a leader at ${ELECTION}`,
);
const admin = await createClient(connectString);
await ensurePath(admin, ELECTION, { mode: CreateMode.PERSISTENT });
await admin.create(LEDGER, JSON.stringify([]));

let terms = 0;
let crashed = false;
let allDone: () => void = () => {};
const finished = new Promise<void>((resolve) => {
  allDone = resolve;
});

const clients = await Promise.all(WORKERS.map(() => createClient(connectString)));
const selectors = WORKERS.map((name, index) =>
  new LeaderSelector(clients[index]!, ELECTION, {
    id: name,
    lead: (term) => lead(name, clients[index]!, term),
    onError: (error) => console.log(`${name}: ${error instanceof Error ? error.message : String(error)}`),
  })
);
for (const selector of selectors) selector.start();

let timer: ReturnType<typeof setTimeout> | undefined;
try {
  const outcome = await Promise.race([
    finished.then(() => "finished" as const),
    new Promise<"interrupted">((resolve) =>
      interrupted.signal.addEventListener("abort", () => resolve("interrupted"))
    ),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`leader_workers: not done after ${TIMEOUT_MS} ms`)),
        TIMEOUT_MS,
      );
    }),
  ]);
  if (outcome === "interrupted") {
    console.log("leader_workers: interrupted");
  } else {
    const ledger = await readLedger(admin);
    checkLedger(ledger.entries);
    const leaders = [...new Set(ledger.entries.map((entry) => entry.by))].join(", ");
    console.log(
      `leader_workers: ${ITEMS} items done in order over ${terms} terms by ${leaders}; ` +
        "fencing tokens increasing; one crash survived",
    );
  }
} finally {
  clearTimeout(timer);
  await Promise.all(selectors.map((selector) => selector.close()));
  await Promise.all(clients.map((client) => client.close()));
  await admin.close();
  await server.close();
  // Last: a Ctrl-C during the shutdown above must not kill the process half-way.
  process.off("SIGINT", onInterrupt);
}
console.log("leader_workers: stopped");

/** One term: take the next item, record it, hand leadership on by returning. */
async function lead(name: string, client: Client, term: LeadershipTerm): Promise<void> {
  terms++;
  const ledger = await readLedger(client);
  const item = ledger.entries.length + 1;
  if (item > ITEMS) return allDone();
  console.log(
    `${name}: leading (term ${terms}, fencing token ${term.fencingToken}); working on item ${item}`,
  );
  if (item === CRASH_ON_ITEM && !crashed) {
    crashed = true;
    console.log(`${name}: crashing before item ${item} is recorded (closing my session)`);
    await client.close();
    const reason = term.lost.reason;
    console.log(`${name}: ${reason instanceof Error ? reason.message : "leadership lost"}`);
    return;
  }
  await pause(30, term.lost); // the "work"
  await appendToLedger(client, { item, by: name, fencingToken: term.fencingToken });
  console.log(`${name}: item ${item} recorded; handing leadership on`);
  if (item === ITEMS) allDone();
}

async function readLedger(client: Client): Promise<{ entries: LedgerEntry[]; version: number }> {
  const { data, stat } = await client.getData(LEDGER);
  return { entries: JSON.parse(new TextDecoder().decode(data)) as LedgerEntry[], version: stat.version };
}

/** The fencing check a shared resource does: refuse a token lower than the last one accepted. */
async function appendToLedger(client: Client, entry: LedgerEntry): Promise<void> {
  const { entries, version } = await readLedger(client);
  const last = entries[entries.length - 1];
  if (last !== undefined && entry.fencingToken < last.fencingToken) {
    throw new Error(`ledger: refused fencing token ${entry.fencingToken} (already saw ${last.fencingToken})`);
  }
  // The version check makes the append atomic against any writer the fencing check let through.
  await client.setData(LEDGER, JSON.stringify([...entries, entry]), { version });
}

function checkLedger(entries: readonly LedgerEntry[]): void {
  entries.forEach((entry, index) => {
    if (entry.item !== index + 1) throw new Error(`ledger: item ${entry.item} at position ${index + 1}`);
    const before = entries[index - 1];
    if (before !== undefined && entry.fencingToken <= before.fencingToken) {
      throw new Error(`ledger: fencing token ${entry.fencingToken} after ${before.fencingToken}`);
    }
  });
  if (entries.length !== ITEMS) throw new Error(`ledger: ${entries.length} items, expected ${ITEMS}`);
}

/** Waits `ms`, or less if `signal` aborts (then rejects with its reason). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

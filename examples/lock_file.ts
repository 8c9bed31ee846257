/**
 * A distributed lock guarding a file. Four workers (each with its own Corral session, as separate
 * processes would have) append to one file with a read-modify-write — read it, think, write it
 * back — which loses updates when two run at once. A Mutex (Curator's InterProcessMutex layout)
 * makes them take turns, and every write carries the lock's fencing token: the file refuses a
 * token lower than the last one it accepted, so a worker that lost its lock without noticing (a
 * long pause, an expired session) cannot clobber a newer holder's write.
 *
 *   deno run -A examples/lock_file.ts       (or: node --import tsx ..., bun ...)
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type Client, createClient, startServer } from "../mod.ts";
import { Mutex } from "../src/recipes/mod.ts";

const LOCK_PATH = "/locks/shared-file";
const WORKERS = ["w1", "w2", "w3", "w4"];
const APPENDS_PER_WORKER = 5;
const TIMEOUT_MS = 30_000;

/** The guarded resource: a text file of lines "<fencing token> <worker> <n>". */
class FencedFile {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async lines(): Promise<string[]> {
    const text = await readFile(this.path, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return "";
      throw error;
    });
    return text.split("\n").filter((line) => line !== "");
  }

  /** Appends a line, refusing a fencing token lower than the last line's. Not atomic on purpose. */
  async append(fencingToken: number, text: string): Promise<void> {
    const lines = await this.lines();
    const lastToken = Number(lines[lines.length - 1]?.split(" ")[0] ?? -1);
    if (fencingToken < lastToken) {
      throw new Error(`${this.path}: refused fencing token ${fencingToken}; it already holds ${lastToken}`);
    }
    // The window where an unguarded writer would interleave: another append here is lost.
    await new Promise((resolve) => setTimeout(resolve, 2));
    await writeFile(this.path, [...lines, `${fencingToken} ${text}`].join("\n") + "\n");
  }
}

const interrupted = new AbortController();
const onInterrupt = () => interrupted.abort(new Error("interrupted (Ctrl-C)"));
process.once("SIGINT", onInterrupt);
const timer = setTimeout(
  () => interrupted.abort(new Error(`lock_file: not done after ${TIMEOUT_MS} ms`)),
  TIMEOUT_MS,
);

const directory = await mkdtemp(join(tmpdir(), "corral-lock-file-"));
const file = new FencedFile(join(directory, "shared.txt"));
const server = await startServer({ port: 0 });
const connectString = `127.0.0.1:${server.port}`;
console.log(`lock_file: Corral on ${connectString}; ${WORKERS.length} workers append to ${file.path}`);
const clients: Client[] = await Promise.all(WORKERS.map(() => createClient(connectString)));

try {
  await Promise.all(WORKERS.map((name, index) => work(name, clients[index]!)));
  const lines = await file.lines();
  checkConsistent(lines);
  console.log(
    `lock_file: ${lines.length} appends by ${WORKERS.length} workers, none lost, fencing tokens increasing`,
  );

  // A worker that lost its lock long ago (its token is the first one) tries to write: refused.
  const staleToken = Number(lines[0]!.split(" ")[0]);
  await file.append(staleToken, "zombie 1").then(
    () => {
      throw new Error("lock_file: a stale fencing token was accepted");
    },
    (error: Error) =>
      console.log(`lock_file: a late write with stale token ${staleToken} was refused (${error.message})`),
  );
  console.log(`lock_file: ${file.path} is consistent`);
} catch (error) {
  if (!interrupted.signal.aborted) throw error;
  const reason = interrupted.signal.reason;
  console.log(`lock_file: ${reason instanceof Error ? reason.message : String(reason)}`);
  if (!/Ctrl-C/.test(String(reason))) process.exitCode = 1;
} finally {
  clearTimeout(timer);
  await Promise.all(clients.map((client) => client.close()));
  await server.close();
  await rm(directory, { recursive: true, force: true });
  // Last: a Ctrl-C during the shutdown above must not kill the process half-way.
  process.off("SIGINT", onInterrupt);
}
console.log("lock_file: stopped");

/** One worker: appends its lines, each under the lock. */
async function work(name: string, client: Client): Promise<void> {
  const mutex = new Mutex(client, LOCK_PATH);
  for (let n = 1; n <= APPENDS_PER_WORKER; n++) {
    await mutex.run(async (lock) => {
      lock.lost.throwIfAborted(); // stop using the file once the lock is gone
      await file.append(lock.fencingToken, `${name} ${n}`);
      console.log(`${name}: appended line ${n} holding the lock (fencing token ${lock.fencingToken})`);
    }, { signal: interrupted.signal });
  }
}

/** Every append is there, each worker's in order, and the tokens only grow. */
function checkConsistent(lines: readonly string[]): void {
  const expected = WORKERS.length * APPENDS_PER_WORKER;
  if (lines.length !== expected) {
    throw new Error(`lock_file: ${lines.length} lines, expected ${expected}: updates were lost`);
  }
  const next = new Map(WORKERS.map((name) => [name, 1]));
  let lastToken = -1;
  for (const line of lines) {
    const [token, name, n] = line.split(" ");
    if (Number(token) <= lastToken) throw new Error(`lock_file: token ${token} after ${lastToken}`);
    if (Number(n) !== next.get(name!)) throw new Error(`lock_file: ${name}'s line ${n} out of order`);
    next.set(name!, Number(n) + 1);
    lastToken = Number(token);
  }
}

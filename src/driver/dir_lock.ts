/**
 * An exclusive lock on a data or log directory, so two servers never write one log: the file
 * `<dir>/corral.lock` names its holder (pid, the pid's start time, boot id, host, program, when).
 * Taken before the store opens anything and held until the server closes.
 *
 * Why a file and not flock: Node has no flock without native code, and the lock must work alike on
 * Deno, Node and Bun. Taking it is atomic: the holder's line is written to a private file, then
 * hard-linked to corral.lock, which fails if the name exists (and the content is complete before the
 * name appears). A lock whose holder is dead (killed with SIGKILL, crashed, a reused pid, an earlier
 * boot) is stale and is broken: renamed aside, checked to be the stale one, removed. A holder in
 * this same process counts as alive, so two embedded servers on one directory are refused too.
 *
 * Known limit: a third process taking the lock in the instant between a stale-lock break's rename
 * and its check could end up sharing it; that needs two processes racing over one stale lock.
 */
import { link, mkdir, readFile, realpath, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { currentProcess, liveness, type ProcessIdentity } from "./process_identity.ts";

export const LOCK_FILE = "corral.lock";

/** Which setting the directory is, for messages. */
export type DirRole = "dataDir" | "dataLogDir";

export interface DirLockOptions {
  /** What takes the lock, as the next one's refusal names it: "corral serve", "startReplica". */
  program: string;
  /** How the operator chooses another directory of each role (the end of a refusal); default "choose another <role>". */
  advice?: Partial<Record<DirRole, string>>;
}

/** What corral.lock records. */
export interface LockHolder extends ProcessIdentity {
  program: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** Tells this lock from any other taken by the same process. */
  token: string;
}

/** The directory is locked by a live process (or one that may be). The message is one line for the operator. */
export class DirInUseError extends Error {
  readonly holder: LockHolder;
  constructor(message: string, holder: LockHolder) {
    super(message);
    this.name = "DirInUseError";
    this.holder = holder;
  }
}

/** The directory cannot be created or written; the message names the setting. */
export class DirUnusableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DirUnusableError";
  }
}

export interface DirLock {
  readonly dir: string;
  /** Removes corral.lock if it is still ours. Idempotent; never throws. */
  release(): Promise<void>;
}

/** Attempts to take a lock that keeps turning stale under us before giving up. */
const ATTEMPTS_MAX = 5;

/**
 * Locks `dataDir` and, if it is another directory, `dataLogDir` (creating them). Throws
 * DirInUseError or DirUnusableError, holding nothing, when either cannot be taken.
 */
export async function lockDataDirs(dataDir: string, dataLogDir: string | undefined, options: DirLockOptions): Promise<DirLock> {
  const locks: DirLock[] = [];
  let releasing: Promise<void> | null = null;
  const release = () => {
    releasing ??= (async () => {
      for (const lock of [...locks].reverse()) await lock.release();
    })();
    return releasing;
  };
  try {
    const data = await lockDirectory(dataDir, "dataDir", options);
    locks.push(data);
    if (dataLogDir !== undefined) {
      await createDirectory(dataLogDir, "dataLogDir", options);
      if (await realpath(dataLogDir) !== await realpath(dataDir)) locks.push(await lockDirectory(dataLogDir, "dataLogDir", options));
    }
  } catch (error) {
    await release();
    throw error;
  }
  return { dir: dataDir, release };
}

/** Creates `dir` if needed and takes its lock; see the module comment. */
export async function lockDirectory(dir: string, role: DirRole, options: DirLockOptions): Promise<DirLock> {
  await createDirectory(dir, role, options);
  const me: LockHolder = { ...currentProcess(), program: options.program, startedAt: new Date().toISOString(), token: crypto.randomUUID() };
  const line = `${JSON.stringify(me)}\n`;
  const lockPath = join(dir, LOCK_FILE);
  const privatePath = join(dir, `${LOCK_FILE}.${me.pid}.${me.token}`);
  try {
    await writeFile(privatePath, line);
  } catch (error) {
    throw new DirUnusableError(`cannot write in ${role} ${dir}: ${describe(error)}; ${advice(role, options)}`);
  }
  try {
    for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
      try {
        await link(privatePath, lockPath);
        return ownLock(dir, lockPath, line);
      } catch (error) {
        if (codeOf(error) !== "EEXIST") throw new DirUnusableError(`cannot lock ${role} ${dir}: ${describe(error)}; ${advice(role, options)}`);
      }
      const text = await readFile(lockPath, "utf8").catch((error) => {
        if (codeOf(error) === "ENOENT") return null; // released meanwhile: try again
        throw error;
      });
      if (text === null) continue;
      const holder = parseHolder(text);
      if (holder !== null && liveness(holder) !== "dead") throw new DirInUseError(inUseMessage(dir, role, holder, options), holder);
      await breakStaleLock(lockPath, text, `${lockPath}.stale.${me.pid}.${me.token}`);
    }
    throw new DirUnusableError(`cannot lock ${role} ${dir}: ${lockPath} kept changing over ${ATTEMPTS_MAX} attempts; is something else starting on it?`);
  } finally {
    await unlink(privatePath).catch(() => {});
  }
}

async function createDirectory(dir: string, role: DirRole, options: DirLockOptions): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new DirUnusableError(`cannot create ${role} ${dir}: ${describe(error)}; ${advice(role, options)}`);
  }
}

function ownLock(dir: string, lockPath: string, line: string): DirLock {
  let releasing: Promise<void> | null = null;
  const release = async () => {
    try {
      // Only our own: a lock broken and retaken by another process (it judged us dead) stays.
      if (await readFile(lockPath, "utf8") === line) await unlink(lockPath);
    } catch {
      // Gone already, or the directory is: nothing is held.
    }
  };
  // Every caller waits for the one removal, so "released" means the file is gone.
  return { dir, release: () => (releasing ??= release()) };
}

/** Moves the stale lock aside; if what moved is not the stale one (it was retaken meanwhile), puts it back. */
async function breakStaleLock(lockPath: string, staleText: string, asidePath: string): Promise<void> {
  try {
    await rename(lockPath, asidePath);
  } catch (error) {
    if (codeOf(error) === "ENOENT") return; // someone else broke it
    throw error;
  }
  const moved = await readFile(asidePath, "utf8").catch(() => null);
  if (moved !== staleText) await link(asidePath, lockPath).catch(() => {});
  await unlink(asidePath).catch(() => {});
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid !== "number" || !Number.isSafeInteger(value.pid) || value.pid <= 0 || typeof value.host !== "string") return null;
    return {
      pid: value.pid,
      procStart: typeof value.procStart === "string" ? value.procStart : null,
      bootId: typeof value.bootId === "string" ? value.bootId : null,
      host: value.host,
      program: typeof value.program === "string" ? value.program.slice(0, 100) : "unknown program",
      startedAt: typeof value.startedAt === "string" ? value.startedAt.slice(0, 40) : "at an unknown time",
      token: typeof value.token === "string" ? value.token : "",
    };
  } catch {
    return null; // not written by us (or damaged): nobody we could ask, so it holds nothing
  }
}

function inUseMessage(dir: string, role: DirRole, holder: LockHolder, options: DirLockOptions): string {
  const me = currentProcess();
  const who = holder.pid === me.pid && holder.host === me.host
    ? `this process (pid ${holder.pid}`
    : holder.host === me.host ? `process ${holder.pid} (` : `process ${holder.pid} on host ${holder.host} (`;
  const sep = who.endsWith("(") ? "" : ", ";
  const remote = holder.host === me.host ? "" : ` (if that process is gone, delete ${join(dir, LOCK_FILE)})`;
  return `${role} ${dir} is in use by ${who}${sep}${holder.program}, started ${holder.startedAt}); stop it or ${advice(role, options)}${remote}`;
}

function advice(role: DirRole, options: DirLockOptions): string {
  return options.advice?.[role] ?? `choose another ${role}`;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

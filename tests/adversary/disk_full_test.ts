/**
 * An operator's bad day: the disk under a real `corral serve` fills up (issue 10 item 2). On a tiny
 * tmpfs, writes go on until the server answers NOTREADONLY (the kernel cut a log append part-way);
 * a filler file is deleted, writes are accepted again, the server is stopped and restarted with the
 * same flags (no --truncate-corrupt-log). Every acknowledged write must be there, none of the failed
 * ones, and recovery must have had nothing to repair. Under Deno this lost the log: its write throws
 * "no space" without saying how much it wrote, and the partial record stayed in front of later
 * writes. Runs the server under Node, Deno and Bun whichever runtime runs this file; needs root for
 * the mount (skips with the reason otherwise) and always unmounts.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type Client, createClient, KeeperError } from "../../src/client/mod.ts";
import { type CorralProcess, runtimeCommand, startCorralProcess } from "../support/corral_process.ts";
import type { RuntimeName } from "../support/runtime.ts";
import { waitFor } from "../support/wait_for.ts";
import { fillLeaving, mountTinyTmpfs, tmpfsUnavailable } from "../storage/support/tiny_tmpfs.ts";

const RUNTIMES: readonly RuntimeName[] = ["node", "deno", "bun"];
const TMPFS_BYTES = 2 * 1024 * 1024;
/** Free space left for the log once the filler is written: a few dozen writes. */
const FREE_BYTES = 256 * 1024;
const VALUE_BYTES = 4000;
/** Far more writes than FREE_BYTES holds: the loop ends at the first NOTREADONLY. */
const WRITES_UNTIL_FULL_MAX = 2000;
const WRITES_AFTER = 30;
/** The server retries the disk with a backoff of 1 s doubling to 10 s. */
const SPACE_RETURNS_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 60_000;

for (const which of RUNTIMES) {
  describe(`corral serve under ${which} when the disk fills up`, () => {
    test(
      "keeps every acknowledged write, drops the refused ones, and restarts without repairs",
      { skip: tmpfsUnavailable() || runtimeUnavailable(which), timeout: 240_000 },
      async () => {
        await diskFullRound(which);
      },
    );
  });
}

function runtimeUnavailable(which: RuntimeName): string | false {
  try {
    runtimeCommand(which);
    return false;
  } catch (error) {
    return `${which} is not available to run corral serve: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function diskFullRound(which: RuntimeName): Promise<void> {
  const tmpfs = mountTinyTmpfs(TMPFS_BYTES, `corral-disk-full-${which}-`);
  const dataDir = join(tmpfs.dir, "data");
  mkdirSync(dataDir);
  const start = () => startCorralProcess({ runtime: which, args: ["--data-dir", dataDir], startTimeoutMs: STEP_TIMEOUT_MS });
  let server: CorralProcess | null = null;
  let client: Client | null = null;
  const value = (path: string) => new TextEncoder().encode(path.padEnd(VALUE_BYTES, "."));
  const acknowledged: string[] = [];
  const refused: string[] = [];
  try {
    server = await start();
    client = await connect(server);
    const filler = join(tmpfs.dir, "filler");
    fillLeaving(filler, FREE_BYTES);

    // 1. Write until the disk is full.
    for (let index = 0; index < WRITES_UNTIL_FULL_MAX && refused.length === 0; index++) {
      const path = `/full-${index}`;
      const outcome = await createOutcome(client, path, value(path));
      (outcome === "acknowledged" ? acknowledged : refused).push(path);
    }
    assert.equal(refused.length, 1, `the disk never filled up after ${acknowledged.length} writes`);
    assert.ok(acknowledged.length > 0, "not even one write fitted");

    // 2. Space returns: writes are accepted again once the server's retry finds the disk working.
    rmSync(filler);
    let attempt = 0;
    await waitFor(async () => {
      const path = `/retry-${attempt++}`;
      const outcome = await createOutcome(client!, path, value(path));
      (outcome === "acknowledged" ? acknowledged : refused).push(path);
      return outcome === "acknowledged";
    }, { timeoutMs: SPACE_RETURNS_TIMEOUT_MS, intervalMs: 250, what: `corral serve under ${which} to accept writes after space returned` });
    for (let index = 0; index < WRITES_AFTER; index++) {
      const path = `/after-${index}`;
      assert.equal(await createOutcome(client, path, value(path)), "acknowledged", `${path} after space returned`);
      acknowledged.push(path);
    }
    await closeBounded(client);
    client = null;
    await server.stop();

    // 3. Restart on the same directory, without --truncate-corrupt-log.
    server = await start();
    client = await connect(server);
    for (const path of acknowledged) {
      const got: { data: Uint8Array } | Error = await client.getData(path).catch((error: unknown) =>
        error instanceof Error ? error : new Error(String(error))
      );
      assert.ok(!(got instanceof Error), `acknowledged ${path} was lost: ${String(got)}`);
      assert.deepStrictEqual(got.data, value(path), `${path} holds the wrong data`);
    }
    for (const path of refused) {
      assert.equal(await client.exists(path), null, `${path} was refused with NOTREADONLY but is in the store`);
    }
    assert.doesNotMatch(server.output(), /torn write|damaged|truncate/i, "recovery had to repair the log");
    console.log(`disk_full: ${which}: ${acknowledged.length} acknowledged writes kept, ${refused.length} refused writes absent`);
  } catch (error) {
    const output = server === null ? "" : `\n--- server output (tail) ---\n${server.output().slice(-4000)}`;
    throw new Error(`${error instanceof Error ? error.message : String(error)}${output}`, { cause: error });
  } finally {
    if (client !== null) await closeBounded(client);
    await server?.stop();
    tmpfs.unmount();
  }
}

/** Creates `path`; "refused" if the server answered NOTREADONLY (anything else is a test failure). */
async function createOutcome(client: Client, path: string, data: Uint8Array): Promise<"acknowledged" | "refused"> {
  try {
    await client.create(path, data);
    return "acknowledged";
  } catch (error) {
    if (error instanceof KeeperError && error.codeName === "NOTREADONLY") return "refused";
    throw error;
  }
}

async function connect(server: CorralProcess): Promise<Client> {
  return await createClient(server.connectString, { sessionTimeoutMs: 30_000, initialConnectTimeoutMs: STEP_TIMEOUT_MS });
}

async function closeBounded(client: Client): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    client.close().catch(() => {}),
    new Promise((resolve) => timer = setTimeout(resolve, 10_000)),
  ]);
  clearTimeout(timer);
}

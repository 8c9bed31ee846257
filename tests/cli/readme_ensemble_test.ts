/**
 * The README's ensemble recipe, literally: one zoo.cfg WITH a dataDir line, three `corral serve
 * zoo.cfg --data-dir <own> --port <own>` processes (each --data-dir holding its myid), acknowledged
 * writes, every member stopped (SIGTERM in one variant, SIGKILL in the other), every member
 * restarted, and every acknowledged znode read back on every member. Issue 10 item 1: the members
 * used to write their logs into the zoo.cfg's shared dataDir, one log.* file for all three, and no
 * member could restart. The members run under Node, Deno and Bun together, whichever runtime runs this.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createClient } from "../../src/client/mod.ts";
import { createAcknowledged } from "../support/acknowledged_create.ts";
import { fourLetterWord } from "../support/four_letter_word.ts";
import { freePort } from "../support/free_port.ts";
import type { RuntimeName } from "../support/runtime.ts";
import { waitFor } from "../support/wait_for.ts";
import { type CorralCli, runtimeUnavailable, startCorralCli } from "./support/corral_cli.ts";

const WRITES = 20;
const STEP_MS = 60_000;

interface Member {
  id: number;
  runtime: RuntimeName;
  dataDir: string;
  clientPort: number;
  cli: CorralCli | null;
}

const variants: { signal: "SIGTERM" | "SIGKILL"; runtimes: RuntimeName[] }[] = [
  { signal: "SIGTERM", runtimes: ["node", "deno", "bun"] },
  { signal: "SIGKILL", runtimes: ["bun", "node", "deno"] },
];

describe("the README's one-zoo.cfg ensemble (zoo.cfg with dataDir, per-process --data-dir and --port)", () => {
  for (const { signal, runtimes } of variants) {
    const skip = runtimes.map(runtimeUnavailable).find((reason) => reason !== false) ?? false;
    test(`keeps every acknowledged znode on every member across a stop (${signal}) and restart of all (${runtimes.join(", ")})`, {
      skip,
      timeout: 300_000,
    }, async () => {
      const dir = mkdtempSync(join(tmpdir(), "corral-readme-ensemble-"));
      const members: Member[] = [];
      try {
        const sharedDataDir = join(dir, "var-lib-corral");
        mkdirSync(sharedDataDir);
        const lines = ["tickTime=100", "initLimit=20", "syncLimit=10", `dataDir=${sharedDataDir}`, "clientPort=2181", "4lw.commands.whitelist=*"];
        for (const [index, which] of runtimes.entries()) {
          const id = index + 1;
          const dataDir = join(dir, `member${id}`);
          mkdirSync(dataDir);
          writeFileSync(join(dataDir, "myid"), `${id}\n`);
          lines.push(`server.${id}=127.0.0.1:${await freePort()}:${await freePort()}`);
          members.push({ id, runtime: which, dataDir, clientPort: await freePort(), cli: null });
        }
        const config = join(dir, "zoo.cfg");
        writeFileSync(config, lines.join("\n") + "\n");

        await startAll(members, config);
        const acknowledged = await writeSome(members);
        assert.equal(acknowledged.length, WRITES, "every create was acknowledged");

        await Promise.all(members.map(async (member) => {
          const cli = member.cli!;
          member.cli = null;
          if (signal === "SIGKILL") await cli.kill();
          else assert.equal((await cli.stop()).code, 0, `member ${member.id} exits 0 on SIGTERM:\n${cli.output()}`);
        }));
        assert.deepEqual(readdirSync(sharedDataDir).filter((name) => name.startsWith("log.")), [], "no member logs into the zoo.cfg's dataDir");
        for (const member of members) {
          assert.ok(readdirSync(member.dataDir).some((name) => name.startsWith("log.")), `member ${member.id} logs into its own --data-dir`);
        }

        await startAll(members, config);
        for (const member of members) await assertHolds(member, acknowledged);
      } finally {
        await Promise.all(members.map((member) => member.cli?.stop()));
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

async function startAll(members: Member[], config: string): Promise<void> {
  for (const member of members) {
    member.cli = startCorralCli(member.runtime, [
      "serve", config, "--data-dir", member.dataDir, "--port", String(member.clientPort), "--host", "127.0.0.1",
    ]);
  }
  await Promise.all(members.map((member) => member.cli!.waitForOutput(/corral: serving on /, STEP_MS)));
  await waitFor(async () => {
    const modes = await Promise.all(members.map(async (member) =>
      /Mode: (\w+)/.exec(await fourLetterWord("127.0.0.1", member.clientPort, "srvr").catch(() => ""))?.[1] ?? "-"
    ));
    return modes.filter((mode) => mode === "leader").length === 1 && modes.every((mode) => mode === "leader" || mode === "follower");
  }, { timeoutMs: STEP_MS, what: "one leader and two followers", intervalMs: 100 }).catch((error) => {
    throw new Error(`${error.message}\n${members.map((member) => `--- member ${member.id} (${member.runtime}) ---\n${member.cli?.output()}`).join("\n")}`);
  });
}

/** WRITES creates through the whole ensemble; returns the acknowledged paths. */
async function writeSome(members: Member[]): Promise<string[]> {
  const connectString = members.map((member) => `127.0.0.1:${member.clientPort}`).join(",");
  const client = await createClient(connectString, { sessionTimeoutMs: 10_000, initialConnectTimeoutMs: STEP_MS });
  const acknowledged: string[] = [];
  try {
    await createAcknowledged(client, "/readme", STEP_MS);
    for (let i = 0; i < WRITES; i++) {
      const path = `/readme/n${i}`;
      if (await createAcknowledged(client, path, STEP_MS) === "acked") acknowledged.push(path);
    }
  } finally {
    await client.close();
  }
  return acknowledged;
}

/** Reads through `member` alone (after a sync, retried while it settles) and finds every acknowledged znode. */
async function assertHolds(member: Member, acknowledged: string[]): Promise<void> {
  const client = await createClient(`127.0.0.1:${member.clientPort}`, { sessionTimeoutMs: 10_000, initialConnectTimeoutMs: STEP_MS });
  try {
    const children = await waitFor(async () => {
      await client.sync("/readme");
      const names = new Set(await client.getChildren("/readme"));
      return acknowledged.every((path) => names.has(path.slice("/readme/".length))) ? names : null;
    }, { timeoutMs: STEP_MS, what: `member ${member.id} (${member.runtime}) to hold all ${acknowledged.length} acknowledged znodes` });
    assert.equal(children.size, WRITES);
  } finally {
    await client.close();
  }
}

/**
 * `deno task start` (or `npm start`): a Corral server and three workers in this process. The workers
 * elect a leader the ZooKeeper way — ephemeral sequential znodes, each watching only its predecessor
 * (no herd effect) — and each leader in turn does some work, then "crashes" by closing its session.
 * Its ephemeral znode vanishes, the next worker's watch fires, and leadership moves on. Then it stops.
 */
import { type Client, createClient, CreateMode, KeeperError, startServer } from "../mod.ts";

const ELECTION = "/election";
const WORKERS = ["ada", "grace", "linus"];

const server = await startServer({ port: 0 });
console.log(`corral: serving on 127.0.0.1:${server.port} (standalone, in this process)`);

const admin = await createClient(`127.0.0.1:${server.port}`);
await admin.create(ELECTION, "").catch((error) => {
  if (!(error instanceof KeeperError && error.codeName === "NODEEXISTS")) throw error;
});

/** Joins the election; resolves when this worker is the leader. */
async function lead(name: string, client: Client): Promise<void> {
  const me = await client.create(`${ELECTION}/n-`, name, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
  const myName = me.substring(ELECTION.length + 1);
  console.log(`${name}: joined as ${myName}`);
  for (let attempt = 0; attempt < 100; attempt++) {
    const children = (await client.getChildren(ELECTION)).sort();
    const index = children.indexOf(myName);
    if (index === 0) return;
    const predecessor = `${ELECTION}/${children[index - 1]}`;
    const gone = new Promise<void>((resolve) => {
      client.exists(predecessor, { watch: () => resolve() }).then((stat) => {
        if (stat === null) resolve();
      });
    });
    console.log(`${name}: waiting behind ${children[index - 1]}`);
    await gone;
  }
  throw new Error(`${name}: gave up after 100 election rounds`);
}

await admin.create("/work-done", "0");
const clients = await Promise.all(WORKERS.map(() => createClient(`127.0.0.1:${server.port}`)));
const terms = WORKERS.map(async (name, i) => {
  const client = clients[i]!;
  await lead(name, client);
  const term = await admin.getChildren2(ELECTION);
  console.log(`${name}: I am the leader (${term.stat.numChildren} candidates left); working...`);
  // Only the leader writes, so a plain read-modify-write with a version check is enough.
  const { data, stat } = await admin.getData("/work-done");
  await admin.setData("/work-done", String(Number(new TextDecoder().decode(data)) + 1), { version: stat.version });
  console.log(`${name}: done, stepping down (closing my session)`);
  await client.close();
});
await Promise.all(terms);

const { data } = await admin.getData("/work-done");
console.log(`all ${WORKERS.length} leaders served; work done: ${new TextDecoder().decode(data)}`);
console.log(`srvr says:\n${server.fourLetterWord("srvr").trimEnd()}`);
await admin.close();
await server.close();
console.log("corral: stopped");

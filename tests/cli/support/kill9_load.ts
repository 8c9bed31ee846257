/**
 * The write load of the kill -9 test and the reading of a recovered store, over Corral's client.
 */
import { type Client, KeeperError } from "../../../src/client/mod.ts";
import type { Prng } from "../../../src/testing/prng.ts";
import { type ClientHistory, COUNTER_INITIAL, type RecoveredState } from "./kill9_history.ts";

export const CREATE_PARENT = "/k";
export const COUNTER_PARENT = "/c";

export interface LoadOptions {
  /** Writes in flight at once (pipelined on the session). */
  window: number;
  /** One write in `setEvery` is a setData of the counter; the rest are creates. */
  setEvery: number;
  /** Bound on writes this round, whatever the timing. */
  writesMax: number;
}

/** Set by the test: before `killed`, any failure is a bug; after it, connection failures are expected. */
export interface LoadControl {
  stop: boolean;
  killed: boolean;
  /** Failures that must not happen, as sentences. */
  unexpected: string[];
}

/** Errors a write may end with once the server is gone: the client was cut off or closed. */
const CUT_OFF = new Set(["CONNECTIONLOSS", "SESSIONEXPIRED", "OPERATIONTIMEOUT", "SESSIONMOVED"]);

export function createPath(name: string, seq: number): string {
  return `${CREATE_PARENT}/${name}-${seq}`;
}

export function counterPath(name: string): string {
  return `${COUNTER_PARENT}/${name}`;
}

/** Creates /k, /c and each client's counter (acknowledged before any load). */
export async function createLayout(client: Client, names: readonly string[]): Promise<void> {
  await client.create(CREATE_PARENT, "");
  await client.create(COUNTER_PARENT, "");
  for (const name of names) await client.create(counterPath(name), String(COUNTER_INITIAL));
}

/**
 * Sends writes in order until `control.stop` (or `writesMax`), `window` at a time, recording in
 * `history` which ones were acknowledged. Resolves when every write it sent has settled.
 */
export async function runLoad(client: Client, history: ClientHistory, prng: Prng, options: LoadOptions, control: LoadControl) {
  const inFlight: Promise<void>[] = [];
  for (let count = 0; count < options.writesMax && !control.stop; count++) {
    const write = history.next(prng.int(options.setEvery) === 0 ? "set" : "create");
    const sent = write.kind === "create"
      ? client.create(createPath(history.name, write.seq), String(write.seq))
      : client.setData(counterPath(history.name), String(write.seq));
    inFlight.push(sent.then(
      () => {
        write.acknowledged = true;
      },
      (error: unknown) => {
        const codeName = error instanceof KeeperError ? error.codeName : null;
        if (control.killed && codeName !== null && CUT_OFF.has(codeName)) return;
        const when = control.killed ? "after the kill" : "while the server was up";
        control.unexpected.push(`${history.name}: ${write.kind} ${write.seq} failed ${when}: ${describe(error)}`);
      },
    ));
    if (inFlight.length >= options.window) await inFlight.shift();
  }
  await Promise.all(inFlight);
}

/** Reads what the store holds for each client: its znodes under /k and its counter. */
export async function readRecovered(client: Client, names: readonly string[]): Promise<Map<string, RecoveredState>> {
  const creates = new Map(names.map((name) => [name, new Set<number>()]));
  const strays: string[] = [];
  for (const child of await client.getChildren(CREATE_PARENT)) {
    const dash = child.lastIndexOf("-");
    const set = creates.get(child.slice(0, dash));
    const seq = Number(child.slice(dash + 1));
    if (set === undefined || dash < 0 || !Number.isSafeInteger(seq)) strays.push(child);
    else set.add(seq);
  }
  if (strays.length > 0) throw new Error(`unexpected znodes under ${CREATE_PARENT}: ${strays.slice(0, 10).join(", ")}`);
  const states = new Map<string, RecoveredState>();
  for (const name of names) {
    const { data } = await client.getData(counterPath(name));
    const counter = Number(new TextDecoder().decode(data));
    if (!Number.isSafeInteger(counter)) throw new Error(`${counterPath(name)} holds ${JSON.stringify(new TextDecoder().decode(data))}, not a number`);
    states.set(name, { creates: creates.get(name)!, counter });
  }
  return states;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

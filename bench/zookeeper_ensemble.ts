/**
 * What a benchmark ensemble needs whichever server runs it: a layout (per member a data directory
 * holding myid, a client port, quorum and election ports, all on 127.0.0.1) and a bounded wait until
 * the ensemble has formed, judged from outside by `srvr`, as an operator would.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fourLetterWord } from "../tests/support/four_letter_word.ts";
import { freePort } from "../tests/support/free_port.ts";
import { sleep } from "../tests/support/wait_for.ts";
import type { EnsembleMemberPorts } from "./zookeeper_cfg.ts";

export interface EnsembleMemberLayout extends EnsembleMemberPorts {
  clientPort: number;
  /** <dir>/member<id>: holds myid, the member's zoo.cfg and its data. */
  dir: string;
  dataDir: string;
  configPath: string;
}

/**
 * Lays out `size` members under `dir`: creates each member's directories and myid, picks free ports
 * (free a moment ago: a start that loses a port race is retried by the caller). Writes no zoo.cfg.
 */
export async function layOutEnsemble(dir: string, size: number): Promise<EnsembleMemberLayout[]> {
  const members: EnsembleMemberLayout[] = [];
  const taken = new Set<number>();
  // freePort closes its socket at once, so one port can come back twice: draw until distinct.
  const distinctPort = async () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
    throw new Error("layOutEnsemble: 20 draws gave no new free port");
  };
  for (let id = 1; id <= size; id++) {
    const memberDir = join(dir, `member${id}`);
    const dataDir = join(memberDir, "data");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "myid"), `${id}\n`);
    members.push({
      id,
      clientPort: await distinctPort(),
      quorumPort: await distinctPort(),
      electionPort: await distinctPort(),
      dir: memberDir,
      dataDir,
      configPath: join(memberDir, "zoo.cfg"),
    });
  }
  return members;
}

/** `srvr`'s Mode ("leader", "follower", "standalone", ...), or null when the reply has none (not serving). */
export function modeOf(srvr: string): string | null {
  return /^Mode: (\w+)/m.exec(srvr)?.[1] ?? null;
}

/** Whether these modes (one per member) make a formed ensemble: exactly one leader, the rest followers. */
export function ensembleFormed(modes: readonly (string | null)[]): boolean {
  const leaders = modes.filter((mode) => mode === "leader").length;
  return leaders === 1 && modes.every((mode) => mode === "leader" || mode === "follower");
}

export interface FormationWait {
  clientPorts: readonly number[];
  timeoutMs: number;
  /** Called each poll; a string (why a member is gone, e.g. "member 2 exited") ends the wait at once. */
  failure: () => string | null;
  /** For the error message. */
  what: string;
  /** Appended to the time-out error: what the members logged (their own words for what went wrong). */
  diagnose?: () => string;
}

/** Resolves with each member's mode once `srvr` on every member shows a formed ensemble. */
export async function waitForEnsembleFormed(wait: FormationWait): Promise<string[]> {
  const deadline = Date.now() + wait.timeoutMs;
  let modes: (string | null)[] = [];
  for (let poll = 0; Date.now() < deadline; poll++) {
    const failure = wait.failure();
    if (failure !== null) throw new Error(`${wait.what} did not form: ${failure}`);
    modes = await Promise.all(wait.clientPorts.map(async (port) => {
      const text = await fourLetterWord("127.0.0.1", port, "srvr", 1000).catch(() => "");
      return modeOf(text);
    }));
    if (ensembleFormed(modes)) return modes as string[];
    await sleep(Math.min(200, Math.max(1, deadline - Date.now())));
  }
  throw new Error(
    `${wait.what} did not form within ${wait.timeoutMs} ms: srvr modes ${
      modes.map((mode) => mode ?? "none").join(", ")
    } (want one leader and the rest followers)${wait.diagnose === undefined ? "" : `\n${wait.diagnose()}`}`,
  );
}

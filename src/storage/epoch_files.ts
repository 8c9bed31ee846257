/**
 * Zab's two epochs, kept as ZooKeeper keeps them, one small file each in dataDir:
 * - `acceptedEpoch`: the newest epoch this replica agreed to in discovery (it promised to ignore
 *   leaders of older epochs);
 * - `currentEpoch`: the epoch of the leader whose history it last took in synchronisation.
 * Each holds one line "<epoch> crc32c:<8 hex digits of the CRC32C of the decimal>" and is replaced
 * with writeFileAtomic, so it is always the old value or the new one, and damage is detected.
 *
 * One call may set both. Two atomic writes alone could leave the new acceptedEpoch beside the old
 * currentEpoch after a crash, so such a call first writes an intent file `epochs.pending` holding
 * both values, then the two files, then removes the intent (and syncs the directory). Whoever finds
 * the intent (recovery, or the next write) rewrites both files from it first: a crash at any point
 * leaves both old or both new.
 */
import { EPOCH_MAX } from "../core/zxid.ts";
import { crc32c } from "./crc32c.ts";
import { errorCodeOf } from "./file_system.ts";
import type { FileSystem } from "./file_system.ts";
import { StorageError } from "./storage_error.ts";

export const ACCEPTED_EPOCH_NAME = "acceptedEpoch";
export const CURRENT_EPOCH_NAME = "currentEpoch";
export const EPOCHS_PENDING_NAME = "epochs.pending";

export interface Epochs {
  acceptedEpoch: number;
  currentEpoch: number;
}

/** What TxnStore.writeEpochs sets; an absent field keeps its file as it is. */
export interface EpochUpdate {
  acceptedEpoch?: number;
  currentEpoch?: number;
}

/** Throws RangeError unless every given epoch is an integer in [0, 2^21) (what a zxid can hold). */
export function checkEpochUpdate(update: EpochUpdate): void {
  for (const [name, value] of Object.entries(update)) {
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 0 || value >= EPOCH_MAX) {
      throw new RangeError(`${name} ${String(value)} is not an epoch (an integer in [0, 2^21))`);
    }
  }
}

function encodeLine(text: string): Uint8Array {
  const crc = crc32c(new TextEncoder().encode(text)).toString(16).padStart(8, "0");
  return new TextEncoder().encode(`${text} crc32c:${crc}\n`);
}

function damaged(path: string, what: string): StorageError {
  return new StorageError(
    `${path} is damaged (${what}): the Zab epoch it records cannot be trusted, so Corral will not ` +
      `start. Restore it from a backup, or discard this replica's data directory so that it joins ` +
      `the ensemble again as a new member and takes the leader's state.`,
    { file: path, offset: 0 },
  );
}

/** The text of a line written by encodeLine; throws StorageError if it is malformed or damaged. */
function decodeLine(bytes: Uint8Array, path: string): string {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw damaged(path, "not text");
  }
  const match = /^([^\n]*) crc32c:([0-9a-f]{8})\n$/.exec(text);
  if (match === null) throw damaged(path, `unexpected content ${JSON.stringify(text.slice(0, 40))}`);
  if (crc32c(new TextEncoder().encode(match[1]!)) !== parseInt(match[2]!, 16)) {
    throw damaged(path, "CRC mismatch");
  }
  return match[1]!;
}

function parseEpoch(text: string, path: string): number {
  if (!/^(0|[1-9][0-9]{0,6})$/.test(text) || Number(text) >= EPOCH_MAX) {
    throw damaged(path, `${JSON.stringify(text)} is not an epoch`);
  }
  return Number(text);
}

/** The file's bytes, or null when it does not exist. */
async function readIfPresent(fs: FileSystem, path: string): Promise<Uint8Array | null> {
  try {
    return await fs.readFile(path);
  } catch (error) {
    if (errorCodeOf(error) === "ENOENT") return null;
    throw error;
  }
}

async function writeEpochFile(fs: FileSystem, path: string, epoch: number): Promise<void> {
  await fs.writeFileAtomic(path, [encodeLine(String(epoch))]);
}

/**
 * Completes a write of both epochs cut short by a crash or an error: rewrites both files from
 * `epochs.pending`, then removes it. Nothing to do without the intent file.
 */
export async function finishPendingEpochs(fs: FileSystem, dir: string): Promise<void> {
  const path = fs.join(dir, EPOCHS_PENDING_NAME);
  const bytes = await readIfPresent(fs, path);
  if (bytes === null) return;
  const parts = decodeLine(bytes, path).split(" ");
  if (parts.length !== 2) throw damaged(path, "expected two epochs");
  await writeEpochFile(fs, fs.join(dir, ACCEPTED_EPOCH_NAME), parseEpoch(parts[0]!, path));
  await writeEpochFile(fs, fs.join(dir, CURRENT_EPOCH_NAME), parseEpoch(parts[1]!, path));
  await fs.remove(path);
  await fs.syncDir(dir);
}

/** Durably sets the epochs `update` names (see the module comment for how both change at once). */
export async function writeEpochFiles(fs: FileSystem, dir: string, update: EpochUpdate): Promise<void> {
  checkEpochUpdate(update);
  // A leftover intent would otherwise, at the next recovery, overwrite what this call writes.
  await finishPendingEpochs(fs, dir);
  const { acceptedEpoch, currentEpoch } = update;
  if (acceptedEpoch !== undefined && currentEpoch !== undefined) {
    const pending = fs.join(dir, EPOCHS_PENDING_NAME);
    await fs.writeFileAtomic(pending, [encodeLine(`${acceptedEpoch} ${currentEpoch}`)]);
    await finishPendingEpochs(fs, dir);
    return;
  }
  if (acceptedEpoch !== undefined) await writeEpochFile(fs, fs.join(dir, ACCEPTED_EPOCH_NAME), acceptedEpoch);
  if (currentEpoch !== undefined) await writeEpochFile(fs, fs.join(dir, CURRENT_EPOCH_NAME), currentEpoch);
}

/** Reads both epochs (0 for an absent file), first completing an interrupted write of both. */
export async function readEpochFiles(fs: FileSystem, dir: string): Promise<Epochs> {
  await finishPendingEpochs(fs, dir);
  const epochs: Epochs = { acceptedEpoch: 0, currentEpoch: 0 };
  for (
    const [key, name] of [["acceptedEpoch", ACCEPTED_EPOCH_NAME], [
      "currentEpoch",
      CURRENT_EPOCH_NAME,
    ]] as const
  ) {
    const path = fs.join(dir, name);
    const bytes = await readIfPresent(fs, path);
    if (bytes !== null) epochs[key] = parseEpoch(decodeLine(bytes, path), path);
  }
  return epochs;
}

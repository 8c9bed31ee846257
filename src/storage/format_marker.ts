/**
 * A small file naming the storage format version of a data directory, so a Corral refuses, before
 * touching anything, a directory a newer Corral has written (its files would be misread).
 */
import { errorCodeOf } from "./file_system.ts";
import type { FileSystem } from "./file_system.ts";
import { FORMAT_VERSION, newerVersionError } from "./record_framing.ts";
import { StorageError } from "./storage_error.ts";

export const FORMAT_MARKER_NAME = "corral_storage_format";

function markerText(version: number): string {
  return `corral storage format ${version}\n`;
}

/** Creates the marker in `dir`, or checks the one there; throws StorageError for a newer version. */
export async function ensureFormatMarker(fs: FileSystem, dir: string): Promise<void> {
  const path = fs.join(dir, FORMAT_MARKER_NAME);
  let text: string;
  try {
    text = new TextDecoder().decode(await fs.readFile(path));
  } catch (error) {
    if (errorCodeOf(error) !== "ENOENT") throw error;
    await fs.writeFileAtomic(path, [new TextEncoder().encode(markerText(FORMAT_VERSION))]);
    return;
  }
  const match = /^corral storage format (\d+)\s*$/.exec(text);
  if (match === null) {
    throw new StorageError(
      `${path} is not a Corral format marker (${JSON.stringify(text.slice(0, 40))}); remove it only if ` +
        `this directory holds no data of another program`,
      { file: path, offset: 0 },
    );
  }
  const version = Number(match[1]);
  if (version > FORMAT_VERSION) throw newerVersionError(path, version);
}

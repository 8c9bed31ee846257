/** File names that carry a zxid: `log.<16 hex digits>`, `snapshot.<16 hex digits>`. */
import type { FileSystem } from "./file_system.ts";

export interface ZxidFile {
  name: string;
  path: string;
  zxid: number;
}

/** 16 lower-case hex digits, so names sort like their zxids. */
export function zxidFileSuffix(zxid: number): string {
  return zxid.toString(16).padStart(16, "0");
}

export function zxidFileName(prefix: string, zxid: number): string {
  return `${prefix}.${zxidFileSuffix(zxid)}`;
}

/** The zxid a `<prefix>.<16 hex>` file name carries, or null if the name is not one. */
export function parseZxidFileName(name: string, prefix: string): number | null {
  const match = /^([a-z]+)\.([0-9a-f]{16})$/.exec(name);
  if (match === null || match[1] !== prefix) return null;
  const zxid = parseInt(match[2]!, 16);
  return Number.isSafeInteger(zxid) ? zxid : null;
}

/** The `<prefix>.<zxid>` files in `dir`, oldest (smallest zxid) first. */
export async function listZxidFiles(fs: FileSystem, dir: string, prefix: string): Promise<ZxidFile[]> {
  const files: ZxidFile[] = [];
  for (const name of await fs.list(dir)) {
    const zxid = parseZxidFileName(name, prefix);
    if (zxid !== null) files.push({ name, path: fs.join(dir, name), zxid });
  }
  return files.sort((a, b) => a.zxid - b.zxid);
}

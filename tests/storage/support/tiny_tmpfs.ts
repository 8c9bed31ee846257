/**
 * A tiny tmpfs, mounted for a test that needs a real disk to fill up (ENOSPC part-way through a
 * write, as only a real kernel does it). Needs root; tests skip with the reason otherwise. The
 * mount is always undone by the test (unmount() in a finally), lazily if something still holds it.
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { ftruncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TinyTmpfs {
  dir: string;
  /** Unmounts and removes the mount point; safe to call twice. */
  unmount(): void;
}

let probed: string | false | undefined;

/** Why tiny tmpfs tests cannot run here (not root, no mount), or false if they can. */
export function tmpfsUnavailable(): string | false {
  if (probed !== undefined) return probed;
  const uid = typeof process.getuid === "function" ? process.getuid() : -1;
  if (uid !== 0) {
    probed = `mounting a tiny tmpfs needs root (uid is ${uid})`;
    return probed;
  }
  try {
    mountTinyTmpfs(64 * 1024, "corral-tmpfs-probe-").unmount();
    probed = false;
  } catch (error) {
    probed = `cannot mount a tmpfs here: ${error instanceof Error ? error.message : String(error)}`;
  }
  return probed;
}

/** Mounts a tmpfs of `sizeBytes` on a new directory under the system's temporary directory. */
export function mountTinyTmpfs(sizeBytes: number, prefix: string): TinyTmpfs {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const mount = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes},mode=0700`, "tmpfs", dir], {
    encoding: "utf8",
    timeout: 10_000,
  });
  if (mount.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mount -t tmpfs failed (status ${mount.status}): ${(mount.stderr ?? "").trim() || mount.error}`);
  }
  let mounted = true;
  return {
    dir,
    unmount(): void {
      if (!mounted) return;
      mounted = false;
      const plain = spawnSync("umount", [dir], { encoding: "utf8", timeout: 10_000 });
      if (plain.status !== 0) spawnSync("umount", ["-l", dir], { encoding: "utf8", timeout: 10_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Fills the file system holding `path` with a filler file until it is full, then shrinks the
 * filler so that about `leaveBytes` stay free. Returns the filler's size. Bounded by `bytesMax`.
 */
export function fillLeaving(path: string, leaveBytes: number, bytesMax = 64 * 1024 * 1024): number {
  const chunk = new Uint8Array(64 * 1024).fill(0x5a);
  const fd = openSync(path, "w");
  try {
    let written = 0;
    while (written < bytesMax) {
      try {
        const count = writeSync(fd, chunk, 0, chunk.length);
        if (count <= 0) break;
        written += count;
      } catch (error) {
        if ((error as { code?: unknown }).code === "ENOSPC") break;
        throw error;
      }
    }
    // Whatever a failed write left counts too (Deno does not report it): ask the file.
    const size = statSync(path).size;
    const kept = Math.max(0, size - leaveBytes);
    ftruncateSync(fd, kept);
    return kept;
  } finally {
    closeSync(fd);
  }
}

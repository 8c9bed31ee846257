/**
 * Whether the compatibility judges (Java, Apache ZooKeeper's jars, Python kazoo) are installed, and
 * the skip-or-fail rule: a compat test skips with a reason when a judge is missing, unless
 * CORRAL_REQUIRE_COMPAT=1 (set by CI), in which case it runs and fails with install instructions.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";

export type CompatNeed = "java" | "zookeeper" | "kazoo";

export interface CompatAvailability {
  java: boolean;
  zookeeper: boolean;
  kazoo: boolean;
}

/** Directory of Debian's Java jars; zookeeper.jar's manifest names its dependencies there. */
export const debianJavaDir = "/usr/share/java";

/** kazoo comes from Debian's python3-kazoo, which installs for the system interpreter only. */
export function kazooPython(): string {
  return process.env.CORRAL_KAZOO_PYTHON ?? "/usr/bin/python3";
}

let cached: CompatAvailability | null = null;

/** Checks once per process (the kazoo check starts Python, about 100 ms). */
export function compatAvailability(): CompatAvailability {
  if (cached !== null) return cached;
  const java = findOnPath("java") !== null;
  const zookeeper = existsSync(join(debianJavaDir, "zookeeper.jar"));
  let kazoo = false;
  if (existsSync(kazooPython())) {
    const probe = spawnSync(kazooPython(), ["-c", "import kazoo.client"], {
      stdio: "ignore",
      timeout: 20_000,
    });
    kazoo = probe.status === 0;
  }
  cached = { java, zookeeper, kazoo };
  return cached;
}

/** True when CI demands that compat tests run (CORRAL_REQUIRE_COMPAT=1). */
export function compatRequired(): boolean {
  return process.env.CORRAL_REQUIRE_COMPAT === "1";
}

/**
 * The `skip` option for a compat test: a reason string when a needed judge is missing and compat is
 * not required, else false. Pair it with `assertCompat(needs)` as the test's first line.
 *
 *   test("kazoo against ZooKeeper", { skip: skipUnlessCompat(["java", "zookeeper", "kazoo"]) }, async () => {
 *     assertCompat(["java", "zookeeper", "kazoo"]);
 *     ...
 *   });
 */
export function skipUnlessCompat(needs: readonly CompatNeed[]): string | false {
  const missing = missingNeeds(needs);
  if (missing.length === 0 || compatRequired()) return false;
  return `compat judge missing: ${missing.join(", ")} (${
    installHint(missing)
  }; CORRAL_REQUIRE_COMPAT=1 turns this skip into a failure)`;
}

/** Throws a clear error if any need is missing (reached only when CORRAL_REQUIRE_COMPAT=1). */
export function assertCompat(needs: readonly CompatNeed[]): void {
  const missing = missingNeeds(needs);
  if (missing.length === 0) return;
  throw new Error(
    `CORRAL_REQUIRE_COMPAT=1 but compat judge missing: ${missing.join(", ")}; ${installHint(missing)}`,
  );
}

function missingNeeds(needs: readonly CompatNeed[]): CompatNeed[] {
  const available = compatAvailability();
  return needs.filter((need) => !available[need]);
}

function installHint(missing: readonly CompatNeed[]): string {
  const packages = new Set<string>();
  for (const need of missing) {
    if (need === "java") packages.add("default-jre-headless");
    if (need === "zookeeper") packages.add("zookeeper");
    if (need === "kazoo") packages.add("python3-kazoo");
  }
  return `install with: apt-get install -y ${[...packages].join(" ")}`;
}

/** Absolute path of an executable found on PATH, or null. */
export function findOnPath(name: string): string | null {
  for (const directory of (process.env.PATH ?? "").split(delimiter)) {
    if (directory === "") continue;
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return null;
}

/** The version string `srvr`, `mntr` and `envi` print (ZooKeeper's `<x.y.z>-<revision>, built on <date>`). */

/** The ZooKeeper release whose client protocol and behaviour Corral reproduces. */
export const ZOOKEEPER_COMPATIBLE_VERSION = "3.8.0";
/** Corral's own version; keep equal to package.json and deno.json. */
export const CORRAL_VERSION = "0.1.0";
/** There is no build step yet; release tooling should stamp this. */
export const BUILD_DATE = "2026-11-22 00:00 UTC";

/** `3.8.0-corral-0.1.0, built on 2026-11-22 00:00 UTC` */
export function versionString(): string {
  return `${ZOOKEEPER_COMPATIBLE_VERSION}-corral-${CORRAL_VERSION}, built on ${BUILD_DATE}`;
}

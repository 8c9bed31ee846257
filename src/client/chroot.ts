/**
 * The chroot of a connect string ("/app" in "zk:2181/app"): a client-side prefix added to every
 * outgoing path and removed from every path the server returns.
 */
import type { OpResult, Response } from "../core/records.ts";

export class Chroot {
  /** "" when there is none. */
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix === "/" ? "" : prefix;
  }

  /** The server path for a client path ("/x" → "/app/x", "/" → "/app"). */
  toServer(clientPath: string): string {
    if (this.prefix === "") return clientPath;
    return clientPath === "/" ? this.prefix : this.prefix + clientPath;
  }

  /** The client path for a server path ("/app/x" → "/x", "/app" → "/"); paths outside stay as they are. */
  toClient(serverPath: string): string {
    if (this.prefix === "") return serverPath;
    if (serverPath === this.prefix) return "/";
    if (serverPath.startsWith(this.prefix) && serverPath.charCodeAt(this.prefix.length) === 0x2f) {
      return serverPath.substring(this.prefix.length);
    }
    return serverPath;
  }

  /** True when the server path is the chroot or below it. */
  contains(serverPath: string): boolean {
    if (this.prefix === "") return true;
    return serverPath === this.prefix ||
      (serverPath.startsWith(this.prefix) && serverPath.charCodeAt(this.prefix.length) === 0x2f);
  }

  /** A response with every returned path made client-relative (created names, sync, ephemerals). */
  stripResponse(response: Response): Response {
    if (this.prefix === "") return response;
    switch (response.kind) {
      case "create":
      case "sync":
        return { ...response, path: this.toClient(response.path) };
      case "create2":
        return { ...response, path: this.toClient(response.path) };
      case "multi":
        return { ...response, results: response.results.map((result) => this.#stripResult(result)) };
      case "getEphemerals":
        // The server matches a raw string prefix, so "/app" also returns "/app2/..."; drop those.
        return {
          ...response,
          ephemerals: response.ephemerals.filter((path) => this.contains(path)).map((path) =>
            this.toClient(path)
          ),
        };
      default:
        return response;
    }
  }

  #stripResult(result: OpResult): OpResult {
    if (result.type === "create" || result.type === "create2") {
      return { ...result, path: this.toClient(result.path) };
    }
    return result;
  }
}

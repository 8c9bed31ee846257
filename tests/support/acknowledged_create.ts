/** Writing through an ensemble while members fail: a create retried across connection losses. */
import { type Client, Code, KeeperError } from "../../src/client/mod.ts";

/**
 * Creates `path`, retrying on CONNECTIONLOSS until `timeoutMs` has passed. "acked": this call's
 * create was acknowledged; "appliedEarlier": a retry found the node, so an earlier try was applied
 * although its reply was lost (it still must survive, but it was never acknowledged to the caller).
 */
export async function createAcknowledged(client: Client, path: string, timeoutMs: number): Promise<"acked" | "appliedEarlier"> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      await client.create(path, "v");
      return "acked";
    } catch (error) {
      if (error instanceof KeeperError && error.code === Code.NODEEXISTS && attempt > 0) return "appliedEarlier";
      if (!(error instanceof KeeperError) || error.code !== Code.CONNECTIONLOSS || Date.now() > deadline) throw error;
    }
  }
}

/** What the end of a session means for requests: the code they fail with and what to tell the caller. */
import { Code } from "../core/errors.ts";
import type { KeeperStateName, SessionState } from "./types.ts";

export type EndState = "expired" | "authFailed" | "closed";

export interface Refusal {
  code: number;
  detail: string;
}

/**
 * Why a request cannot be sent in `state`: SESSIONEXPIRED, AUTHFAILED, or CONNECTIONLOSS for a
 * closed (or closing) client.
 */
export function refusalOf(state: SessionState): Refusal {
  switch (state) {
    case "expired":
      return {
        code: Code.SESSIONEXPIRED,
        detail: "the session expired: its ephemerals and watches are gone; create a new client",
      };
    case "authFailed":
      return {
        code: Code.AUTHFAILED,
        detail: "the server rejected a credential and the client is closed; create a new client",
      };
    default:
      return { code: Code.CONNECTIONLOSS, detail: "the client is closed; create a new client" };
  }
}

/** The KeeperState watch listeners receive when the session ends this way. */
export function endKeeperState(state: EndState): KeeperStateName {
  switch (state) {
    case "expired":
      return "Expired";
    case "authFailed":
      return "AuthFailed";
    case "closed":
      return "Closed";
  }
}

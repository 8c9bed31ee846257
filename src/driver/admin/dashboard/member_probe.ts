/**
 * What the other ensemble members say about themselves: the dashboard sends each member's client
 * port the `srvr` four-letter word (whitelisted by default, in ZooKeeper and Corral alike) and reads
 * Mode, Zxid and Node count from the answer. Each probe is bounded in time and answer size; a member
 * that does not answer is shown as unreachable, never waited for.
 */
import { connect } from "node:net";

export const PROBE_TIMEOUT_MS = 1500;
/** srvr's answer is a dozen short lines; anything longer is cut off. */
export const PROBE_ANSWER_BYTES_MAX = 16 * 1024;

export interface MemberReport {
  /** "leader", "follower", "observer", "standalone", "read-only", or null when it did not say. */
  mode: string | null;
  /** The member's last zxid, null when unknown. */
  zxid: number | null;
  nodeCount: number | null;
  /** Why the member's state is unknown (unreachable, not serving, srvr not allowed). */
  problem: string | null;
}

/** Parses srvr's text (tolerant: any line may be missing). */
export function parseSrvr(text: string): MemberReport {
  const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(text)?.[1]?.trim() ?? null;
  const mode = field("Mode");
  const zxidText = field("Zxid");
  const count = field("Node count");
  const zxid = zxidText !== null && /^0x[0-9a-f]{1,16}$/i.test(zxidText) ? Number(BigInt(zxidText)) : null;
  let problem: string | null = null;
  if (mode === null) problem = text.trim() === "" ? "no answer to srvr" : text.trim().split("\n")[0]!.slice(0, 200);
  return { mode, zxid, nodeCount: count !== null && /^\d+$/.test(count) ? Number(count) : null, problem };
}

/** Sends `srvr` to host:port and parses the answer; never rejects. */
export function probeMember(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<MemberReport> {
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    let settled = false;
    const socket = connect({ host, port });
    const finish = (report: MemberReport) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(report);
    };
    const timer = setTimeout(() => finish(unknown(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on("connect", () => socket.write("srvr"));
    socket.on("data", (chunk: Uint8Array) => {
      if (bytes >= PROBE_ANSWER_BYTES_MAX) return;
      chunks.push(chunk.subarray(0, PROBE_ANSWER_BYTES_MAX - bytes));
      bytes += chunk.length;
      if (bytes >= PROBE_ANSWER_BYTES_MAX) finish(parseSrvr(decode(chunks)));
    });
    socket.on("end", () => finish(parseSrvr(decode(chunks))));
    socket.on("close", () => finish(parseSrvr(decode(chunks))));
    socket.on("error", (error) => finish(unknown(`unreachable: ${error.message}`)));
  });
}

function unknown(problem: string): MemberReport {
  return { mode: null, zxid: null, nodeCount: null, problem };
}

function decode(chunks: readonly Uint8Array[]): string {
  const decoder = new TextDecoder();
  return chunks.map((chunk) => decoder.decode(chunk, { stream: true })).join("") + decoder.decode();
}

/** "host:port" (or "[v6]:port") → its parts; null when it is not one. */
export function splitAddress(address: string): { host: string; port: number } | null {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(address);
  if (match === null) return null;
  const port = Number(match[2]);
  return port > 0 && port < 65536 ? { host: match[1]!, port } : null;
}

/**
 * One `isro` question on a connection of its own: does host:port serve the ensemble ("rw"), only
 * read-only clients ("ro"), or nobody ("null")? The client asks it while connected to a read-only
 * server (read_write_probe.ts). Bounded: a few bytes of answer, and `timeoutMs` for all of it.
 */
import type { Socket, Transport } from "../transport/transport.ts";
import type { Timers } from "./client_options.ts";

/** The longest answer read ("null\n" is the longest ZooKeeper gives). */
const ANSWER_BYTES_MAX = 16;
const ISRO = new TextEncoder().encode("isro");

/** Resolves with the answer's text, or null when none came in time (never rejects). */
export function askIsro(transport: Transport, host: string, port: number, timeoutMs: number, timers: Timers): Promise<string | null> {
  return new Promise((resolve) => {
    let answer = "";
    let socket: Socket | null = null;
    let settled = false;
    const finish = (text: string | null) => {
      if (settled) return;
      settled = true;
      timers.clearTimeout(timer);
      socket?.close();
      resolve(text);
    };
    const timer = timers.setTimeout(() => finish(null), timeoutMs);
    transport.connect({ host, port, timeoutMs }, {
      onData: (chunk) => {
        answer += new TextDecoder().decode(chunk.subarray(0, ANSWER_BYTES_MAX - answer.length));
        if (answer.length >= ANSWER_BYTES_MAX || answer.includes("\n")) finish(answer);
      },
      onClose: () => finish(answer === "" ? null : answer),
    }).then(
      (opened) => {
        socket = opened;
        if (settled) opened.close();
        else opened.write(ISRO);
      },
      () => finish(null),
    );
  });
}

/** A stranger on a member's quorum port: one hello, in plaintext or over TLS, and what comes of it. */
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { encodePeerFrame, PEER_PROTOCOL_VERSION } from "../../src/wire/peer_codec.ts";
import { bounded } from "./ensemble_processes.ts";

/** "At once": well inside the 5 s hello timeout, yet generous on a loaded machine. */
export const CLOSED_AT_ONCE_MS = 3000;

/** What a quorum port does with one hello claiming to be server `from`: answers it, or closes. */
export async function helloAnswered(port: number, from: number, to: number, tls: { keyStore: string; ca: string } | null): Promise<"answered" | "closed"> {
  const hello = encodePeerFrame({ kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from, to });
  const socket = tls === null ? netConnect({ host: "127.0.0.1", port }) : tlsConnect({
    host: "127.0.0.1",
    port,
    key: readFileSync(tls.keyStore, "utf8"),
    cert: readFileSync(tls.keyStore, "utf8"),
    ca: readFileSync(tls.ca, "utf8"),
    // The probe checks the member; the member's check of the probe is what is under test.
    rejectUnauthorized: false,
  });
  try {
    return await bounded(
      new Promise<"answered" | "closed">((resolve) => {
        socket.on("error", () => resolve("closed"));
        socket.once(tls === null ? "connect" : "secureConnect", () => socket.write(hello));
        // The member's hello in return, byte for byte (a TLS stack may send an alert first).
        const answer = encodePeerFrame({ kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: to, to: from });
        let received = Buffer.alloc(0);
        socket.on("data", (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]).subarray(0, 1 << 16);
          if (received.length >= answer.length && Buffer.from(answer).equals(received.subarray(0, answer.length))) resolve("answered");
        });
        socket.once("close", () => resolve("closed"));
      }),
      CLOSED_AT_ONCE_MS,
      () => `the quorum port on ${port} to answer or close a hello claiming server ${from}`,
    );
  } finally {
    socket.destroy();
  }
}

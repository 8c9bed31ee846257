/**
 * Ends someone else's session the way an operator tool would: a raw connection that resumes the
 * session (id + password) and pipelines closeSession behind the ConnectRequest in one write, so the
 * session is closed before its owner can reconnect.
 */
import { connect } from "node:net";
import {
  decodeConnectResponse,
  encodeConnectRequest,
  encodeRequest,
} from "../../../src/wire/client_protocol.ts";

export function killSession(
  host: string,
  port: number,
  sessionId: bigint,
  password: Uint8Array,
  timeoutMs = 10_000,
): Promise<void> {
  const hello = encodeConnectRequest({
    protocolVersion: 0,
    lastZxidSeen: 0,
    timeOut: 30_000,
    sessionId,
    passwd: password,
    readOnly: false,
  });
  const close = encodeRequest(1, { kind: "closeSession" });
  const both = new Uint8Array(hello.length + close.length);
  both.set(hello);
  both.set(close, hello.length);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = new Uint8Array(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`killSession: no closeSession reply within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => socket.write(both));
    socket.on("data", (chunk: Uint8Array) => {
      const joined = new Uint8Array(received.length + chunk.length);
      joined.set(received);
      joined.set(chunk, received.length);
      received = joined;
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once("close", () => {
      clearTimeout(timer);
      // The server closes after the closeSession reply; check that the resume was accepted.
      const length = received.length >= 4
        ? new DataView(received.buffer, received.byteOffset).getInt32(0)
        : -1;
      if (length < 0 || received.length < 4 + length) {
        return reject(new Error("killSession: no ConnectResponse"));
      }
      const response = decodeConnectResponse(received.subarray(4, 4 + length));
      if (response.timeOut <= 0) return reject(new Error("killSession: the session was already gone"));
      resolve();
    });
  });
}

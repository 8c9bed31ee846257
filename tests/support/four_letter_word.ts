/** Sends a ZooKeeper four-letter word ("ruok", "srvr", ...) and returns the unframed text reply. */
import { connect } from "node:net";

/** Connects to host:port, writes the 4 ASCII bytes, reads until the server closes. Rejects after `timeoutMs`. */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 2000): Promise<string> {
  if (word.length !== 4) {
    throw new Error(`four-letter word must have 4 characters, got ${JSON.stringify(word)}`);
  }
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Uint8Array[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${word} to ${host}:${port}: no complete reply within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => socket.write(word));
    socket.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    socket.once("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(new TextDecoder().decode(concat(chunks)));
    });
  });
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

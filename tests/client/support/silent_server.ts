/**
 * A TCP server on 127.0.0.1 that accepts connections and never answers: a host that makes a
 * client's connection attempt hang until its connect timeout.
 */
import { createServer, type Socket } from "node:net";

export interface SilentServer {
  port: number;
  close(): Promise<void>;
}

export function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("silent server: no port"));
      resolve({
        port: address.port,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

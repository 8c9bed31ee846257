/** Finding a free TCP port on 127.0.0.1 for servers that cannot bind port 0 themselves (ZooKeeper). */
import { createServer } from "node:net";

/**
 * A port that was free a moment ago: binds 127.0.0.1:0, reads the port, closes. Another process may
 * take it before the caller binds it, so callers retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error(`freePort: unexpected listen address ${String(address)}`));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

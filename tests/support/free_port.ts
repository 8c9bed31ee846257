/** Finding a free TCP port on 127.0.0.1 for servers that cannot bind port 0 themselves (ZooKeeper). */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** Random draws below the ephemeral range before falling back to one the OS picks. */
const DRAWS_MAX = 50;
const LOWEST_PORT = 10_000;

/**
 * A port that was free a moment ago: binds 127.0.0.1:<port>, closes, returns it. Ports are drawn at
 * random below the OS's ephemeral range, where no outgoing connection takes them in the meantime
 * (a port the OS hands out for port 0 can be given to any process's next connection, and was: the
 * CI run of a2c4133 lost an ensemble member to EADDRINUSE that way). Another process may still bind
 * it before the caller does, so callers retry on "address in use" where they can.
 */
export async function freePort(): Promise<number> {
  const below = ephemeralLow();
  if (below > LOWEST_PORT + 1000) {
    for (let draw = 0; draw < DRAWS_MAX; draw++) {
      const port = LOWEST_PORT + Math.floor(Math.random() * (below - LOWEST_PORT));
      if (await bindsAndCloses(port)) return port;
    }
  }
  return await osPickedPort();
}

/** The first port of the OS's ephemeral range (Linux), or 0 when unknown. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 0;
  } catch {
    return 0;
  }
}

function bindsAndCloses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function osPickedPort(): Promise<number> {
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

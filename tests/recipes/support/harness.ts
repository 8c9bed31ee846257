/**
 * A Corral server in this process plus the clients a recipe test needs, all stopped by close().
 * The server ticks fast (200 ms) so that sessions can be short (min 400 ms, max 4 s) while the
 * default 4 s session still rides out a busy CI machine's pauses.
 */
import {
  type Client,
  type ClientOptions,
  createClient,
  KeeperError,
  type ServerConfig,
  startServer,
} from "../../../mod.ts";
import { killSession } from "../../client/support/kill_session.ts";

export interface Harness {
  readonly port: number;
  readonly connectString: string;
  /**
   * A connected client, closed by close(). Default session timeout 4 s (the server's maximum).
   * `connectString` overrides the server's (to go through a proxy).
   */
  connect(options?: ClientOptions & { connectString?: string }): Promise<Client>;
  /** Ends `client`'s session from another connection, as an operator would; the client sees Expired. */
  expire(client: Client): Promise<void>;
  /** The server's data watches (getData/exists) per path: how many sessions watch each (wchp). */
  dataWatches(): Map<string, number>;
  /** Stops the server (clients then fail to reconnect). */
  stopServer(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Server settings; tickTimeMs defaults to 200 here. */
  config?: Partial<ServerConfig>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const server = await startServer({ port: 0, config: { tickTimeMs: 200, ...options.config } });
  const clients: Client[] = [];
  let serverStopped = false;
  const port = server.port;
  const connectString = `127.0.0.1:${port}`;
  return {
    port,
    connectString,
    async connect(clientOptions: ClientOptions & { connectString?: string } = {}) {
      const client = await createClient(clientOptions.connectString ?? connectString, {
        sessionTimeoutMs: 4_000,
        reconnectDelayMs: 50,
        ...clientOptions,
      });
      clients.push(client);
      return client;
    },
    expire(client: Client) {
      return killSession("127.0.0.1", port, client.sessionId, client.sessionPassword);
    },
    dataWatches() {
      const counts = new Map<string, number>();
      let path: string | null = null;
      for (const line of server.fourLetterWord("wchp").split("\n")) {
        if (line.startsWith("\t") && path !== null) counts.set(path, (counts.get(path) ?? 0) + 1);
        else if (line !== "") path = line;
      }
      return counts;
    },
    async stopServer() {
      if (serverStopped) return;
      serverStopped = true;
      await server.close();
    },
    async close() {
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
      if (!serverStopped) await server.close();
      serverStopped = true;
    },
  };
}

/** Runs `body` with a fresh harness, closing it afterwards whatever happens. */
export async function withHarness<T>(
  body: (harness: Harness) => Promise<T>,
  options: HarnessOptions = {},
): Promise<T> {
  const harness = await startHarness(options);
  try {
    return await body(harness);
  } finally {
    await harness.close();
  }
}

/** Resolves once `promise` settles or `ms` pass: true if it settled. For "has not happened yet" checks. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([
    promise.then(() => true, () => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return settled;
}

/** Pretends to work for `ms` inside a critical section (widens the window for overlap bugs). */
export function work(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Every path under `root` (root included) with its data as text, read directly from the server. */
export async function readTree(client: Client, root: string): Promise<Map<string, string>> {
  const tree = new Map<string, string>();
  const decoder = new TextDecoder();
  async function visit(path: string): Promise<void> {
    try {
      const [{ data }, children] = await Promise.all([client.getData(path), client.getChildren(path)]);
      tree.set(path, decoder.decode(data));
      await Promise.all(children.map((name) => visit(path === "/" ? `/${name}` : `${path}/${name}`)));
    } catch (error) {
      if (!KeeperError.is(error, "NONODE")) throw error;
    }
  }
  await visit(root);
  return tree;
}

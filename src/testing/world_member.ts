/**
 * One participant of a recipe run in a RecipeWorld, as an application would run it: it keeps a
 * connected Client, and replaces it with a new one (a new session) once the old one has ended
 * (session expired, refused, closed). Connection attempts that fail are retried after a pause.
 */
import type { Client } from "../client/client.ts";
import type { RecipeWorld } from "./recipe_world.ts";

/** Connection attempts per `client()` call before it gives up. */
const CONNECT_ATTEMPTS_MAX = 20;
const RETRY_PAUSE_MS = 200;

export class WorldMember {
  readonly name: string;
  readonly #world: RecipeWorld;
  readonly #sessionTimeoutMs: number;
  #client: Client | null = null;
  /** Sessions this member started (a new one after each end). */
  sessions = 0;
  /** How the member's sessions ended, e.g. "expired". */
  readonly endings: string[] = [];

  constructor(world: RecipeWorld, name: string, options: { sessionTimeoutMs: number }) {
    this.#world = world;
    this.name = name;
    this.#sessionTimeoutMs = options.sessionTimeoutMs;
  }

  /** The current client when its session still lives, else null. */
  get current(): Client | null {
    return this.#client !== null && !ended(this.#client) ? this.#client : null;
  }

  /**
   * A client with a live session: the current one (connected or reconnecting), or a new one,
   * connected. Rejects after CONNECT_ATTEMPTS_MAX failed connection attempts.
   */
  async client(): Promise<Client> {
    const current = this.current;
    if (current !== null) return current;
    if (this.#client !== null) {
      this.endings.push(this.#client.state);
      this.#world.note(`${this.name}: session ended (${this.#client.state}); starting a new one`);
      await this.#client.close().catch(() => undefined);
      this.#client = null;
    }
    let lastError: unknown = null;
    for (let attempt = 0; attempt < CONNECT_ATTEMPTS_MAX; attempt++) {
      const client = this.#world.newClient({ sessionTimeoutMs: this.#sessionTimeoutMs });
      try {
        await client.connect();
        this.#client = client;
        this.sessions++;
        this.#world.note(`${this.name}: session 0x${BigInt.asUintN(64, client.sessionId).toString(16)}`);
        return client;
      } catch (error) {
        lastError = error;
        await this.#world.sleep(RETRY_PAUSE_MS);
      }
    }
    throw new Error(`${this.name}: could not connect in ${CONNECT_ATTEMPTS_MAX} attempts: ${String(lastError)}`);
  }

  /** Closes the current client (the end of a run). */
  async close(): Promise<void> {
    await this.#client?.close().catch(() => undefined);
  }
}

function ended(client: Client): boolean {
  return client.state === "expired" || client.state === "closed" || client.state === "authFailed";
}

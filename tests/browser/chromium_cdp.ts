/**
 * Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: commands
 * on fd 3, replies on fd 4, each message NUL-terminated). A pipe needs no WebSocket client, so the
 * same code runs under Deno, Bun and Node 20. Bounded everywhere: each command has a deadline, the
 * reply buffer a size cap, the browser a lifetime after which it is killed by PID.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";

/** A screenshot of a tall page is a few MiB of base64. */
const MESSAGE_BYTES_MAX = 64 * 1024 * 1024;
const COMMAND_TIMEOUT_MS = 30_000;

export interface BrowserOptions {
  /** The chromium executable. */
  executable: string;
  /** Killed (SIGKILL, by PID) after this long whatever happens; default 120 s. */
  lifetimeMs?: number;
  width?: number;
  height?: number;
}

type Listener = (params: Record<string, unknown>, sessionId: string | undefined) => void;

export class HeadlessChromium {
  readonly #child: ChildProcess;
  readonly #input: Writable;
  readonly #profile: string;
  readonly #pending = new Map<number, { resolve: (value: Record<string, unknown>) => void; reject: (error: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  readonly #listeners = new Map<string, Listener[]>();
  readonly #lifetime: ReturnType<typeof setTimeout>;
  #nextId = 1;
  #buffer = "";
  #stderr = "";
  #exited = false;

  private constructor(child: ChildProcess, profile: string, lifetimeMs: number) {
    this.#child = child;
    this.#profile = profile;
    this.#input = child.stdio[3] as Writable;
    const output = child.stdio[4] as Readable;
    output.on("data", (chunk: Uint8Array) => this.#receive(new TextDecoder().decode(chunk)));
    child.stderr?.on("data", (chunk: Uint8Array) => {
      this.#stderr = (this.#stderr + new TextDecoder().decode(chunk)).slice(-8000);
    });
    child.on("exit", () => {
      this.#exited = true;
      for (const [, call] of this.#pending) call.reject(new Error(`chromium exited; its stderr:\n${this.#stderr}`));
      this.#pending.clear();
    });
    this.#lifetime = setTimeout(() => this.kill(), lifetimeMs);
  }

  static launch(options: BrowserOptions): HeadlessChromium {
    const profile = mkdtempSync(join(tmpdir(), "corral-chromium-"));
    const args = [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
      "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
      "--hide-scrollbars", "--mute-audio", `--user-data-dir=${profile}`,
      `--window-size=${options.width ?? 1400},${options.height ?? 1800}`, "--remote-debugging-pipe", "about:blank",
    ];
    const child = spawn(options.executable, args, { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
    return new HeadlessChromium(child, profile, options.lifetimeMs ?? 120_000);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Sends a command (to a page when `sessionId` is given) and resolves with its result. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    if (this.#exited) return Promise.reject(new Error(`chromium has exited; cannot send ${method}`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`chromium did not answer ${method} within ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      this.#input.write(`${JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) })}\0`);
    });
  }

  on(event: string, listener: Listener): void {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
  }

  /** Opens a page and attaches to it; returns the session id for page commands. */
  async newPage(): Promise<string> {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" }) as { targetId: string };
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true }) as { sessionId: string };
    return sessionId;
  }

  /** Evaluates `expression` in the page and returns its value (JSON-serialisable). */
  async evaluate(sessionId: string, expression: string): Promise<unknown> {
    const reply = await this.send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true }, sessionId);
    const details = reply["exceptionDetails"] as { text?: string; exception?: { description?: string } } | undefined;
    if (details !== undefined) throw new Error(`page script failed: ${details.exception?.description ?? details.text ?? "?"}`);
    return (reply["result"] as { value?: unknown }).value;
  }

  /** SIGKILL by PID, waits (bounded) for the exit, removes the profile directory. */
  async close(): Promise<void> {
    this.kill();
    await this.exited(10_000);
    try {
      rmSync(this.#profile, { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      console.error(`chromium's profile ${this.#profile} was not removed: ${String(error)}`);
    }
  }

  /** SIGKILL by PID, once. */
  kill(): void {
    clearTimeout(this.#lifetime);
    if (!this.#exited && this.#child.pid !== undefined) {
      try {
        process.kill(this.#child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    for (const [, call] of this.#pending) {
      clearTimeout(call.timer);
      call.reject(new Error("chromium was stopped"));
    }
    this.#pending.clear();
  }

  /** Resolves once the process has exited (bounded by `timeoutMs`). */
  async exited(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#exited && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    return this.#exited;
  }

  #receive(text: string): void {
    this.#buffer += text;
    if (this.#buffer.length > MESSAGE_BYTES_MAX) {
      this.#buffer = "";
      this.kill();
      return;
    }
    for (let end = this.#buffer.indexOf("\0"); end >= 0; end = this.#buffer.indexOf("\0")) {
      const message = JSON.parse(this.#buffer.slice(0, end)) as { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string };
      this.#buffer = this.#buffer.slice(end + 1);
      if (message.id !== undefined) {
        const call = this.#pending.get(message.id);
        if (call === undefined) continue;
        this.#pending.delete(message.id);
        clearTimeout(call.timer);
        if (message.error !== undefined) call.reject(new Error(`chromium: ${message.error.message}`));
        else call.resolve(message.result ?? {});
      } else if (message.method !== undefined) {
        for (const listener of this.#listeners.get(message.method) ?? []) listener(message.params ?? {}, message.sessionId);
      }
    }
  }
}

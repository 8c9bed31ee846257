/**
 * The shell's per-request objects: a call waiting for its reply, and a request waiting for a free
 * slot (maxOutstanding). Both are plain class instances with no closure of their own: a request is
 * made thousands of times a second, and every function allocated per request costs an allocation
 * (plus, under tsx/esbuild keepNames, a `__name` call). They listen to their AbortSignal as
 * EventListener objects (`handleEvent`), so an abortable request needs no closure either.
 */
import type { Request, Response } from "../core/records.ts";
import { KeeperError } from "./keeper_error.ts";
import type { WatchRemoval } from "./machine_io.ts";
import type { WatchListener } from "./types.ts";

export interface RequestOptions {
  signal?: AbortSignal | undefined;
  /** For error messages: "create", "getData", ... */
  operation: string;
  /** The client path, for error messages. */
  path?: string | undefined;
  watch?: { path: string; listener: WatchListener } | undefined;
  removeOnSuccess?: WatchRemoval | undefined;
}

type Resolve = (value: unknown) => void;
type Reject = (reason: unknown) => void;

/**
 * `new Promise(holdResolvers)` leaves the promise's resolvers here, to be picked up right after (the
 * executor runs synchronously). One shared executor instead of a closure per promise; Node 20 has no
 * Promise.withResolvers.
 */
let heldResolve: Resolve = ignore;
let heldReject: Reject = ignore;

function holdResolvers(resolve: (value: never) => void, reject: Reject): void {
  heldResolve = resolve as Resolve;
  heldReject = reject;
}

function ignore(): void {}

/** One request (or addAuth) waiting for the machine's reply output. */
export class PendingCall {
  readonly id: number;
  readonly promise: Promise<Response | null>;
  readonly #resolve: Resolve;
  readonly #reject: Reject;
  readonly #signal: AbortSignal | undefined;
  readonly #operation: string;
  readonly #path: string | undefined;
  readonly #onAbort: (call: PendingCall) => void;

  /** `onAbort` runs when the signal fires before the call settled; it then calls abort(). */
  constructor(
    id: number,
    context: { signal?: AbortSignal | undefined; operation: string; path?: string | undefined },
    onAbort: (call: PendingCall) => void,
  ) {
    this.id = id;
    this.promise = new Promise<Response | null>(holdResolvers);
    this.#resolve = heldResolve;
    this.#reject = heldReject;
    this.#signal = context.signal;
    this.#operation = context.operation;
    this.#path = context.path;
    this.#onAbort = onAbort;
    this.#signal?.addEventListener("abort", this, { once: true });
  }

  /** err 0 resolves with `response`; any other code rejects with a KeeperError. */
  settle(err: number, response: Response | null, detail: string | undefined): void {
    this.#signal?.removeEventListener("abort", this);
    if (err === 0) this.#resolve(response);
    else this.#reject(new KeeperError(err, { operation: this.#operation, path: this.#path, detail }));
  }

  /** Rejects with the signal's reason (the caller gave up; the server may still apply the request). */
  abort(): void {
    this.#reject(this.#signal!.reason);
  }

  /** EventListener: the signal fired. */
  handleEvent(): void {
    this.#onAbort(this);
  }
}

/**
 * A request waiting for a slot. Its promise resolves with the waiter itself once a slot is reserved
 * for it, so one continuation shared by all waiters can submit it.
 */
export class SlotWaiter {
  readonly request: Request;
  readonly options: RequestOptions;
  readonly promise: Promise<SlotWaiter>;
  readonly #resolve: Resolve;
  readonly #reject: Reject;
  readonly #onAbort: (waiter: SlotWaiter) => void;

  /** `onAbort` runs when the signal fires while waiting; it then calls refuse(). */
  constructor(request: Request, options: RequestOptions, onAbort: (waiter: SlotWaiter) => void) {
    this.request = request;
    this.options = options;
    this.promise = new Promise<SlotWaiter>(holdResolvers);
    this.#resolve = heldResolve;
    this.#reject = heldReject;
    this.#onAbort = onAbort;
    options.signal?.addEventListener("abort", this, { once: true });
  }

  grant(): void {
    this.options.signal?.removeEventListener("abort", this);
    this.#resolve(this);
  }

  refuse(error: unknown): void {
    this.options.signal?.removeEventListener("abort", this);
    this.#reject(error);
  }

  /** EventListener: the signal fired. */
  handleEvent(): void {
    this.#onAbort(this);
  }
}

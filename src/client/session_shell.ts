/**
 * The imperative shell around SessionMachine: owns the transport's sockets and one timer (on the
 * client's Timers: the runtime's, or the simulator's virtual ones), feeds the machine its inputs
 * with the current time, and carries out its outputs in order (write bytes,
 * settle promises, call listeners). Everything with a decision in it lives in the machine.
 */
import { Code } from "../core/errors.ts";
import type { Request, Response } from "../core/records.ts";
import type { Socket, SocketHandler, Transport } from "../transport/transport.ts";
import { DEFAULT_TIMERS, type Timers } from "./client_options.ts";
import { Fifo } from "./fifo.ts";
import { FrameBatch } from "./frame_batch.ts";
import { KeeperError } from "./keeper_error.ts";
import type { Credential, MachineOutput, WatchRemoval } from "./machine_io.ts";
import { PendingCall, type RequestOptions, SlotWaiter } from "./pending_call.ts";
import type { SessionMachine } from "./session_machine.ts";
import { refusalOf } from "./session_end.ts";
import { askIsro } from "./isro_question.ts";
import { saslCnonce } from "./sasl_cnonce.ts";
import type { SessionState } from "./types.ts";

export type { RequestOptions } from "./pending_call.ts";

export type StateListener = (state: SessionState) => void;

/** How long close() waits for connection attempts still in progress to settle. */
const SOCKET_CLOSE_WAIT_MS = 2000;
const TERMINAL: ReadonlySet<SessionState> = new Set(["expired", "authFailed", "closed"]);

export class SessionShell {
  readonly #machine: SessionMachine;
  readonly #transport: () => Promise<Transport>;
  readonly #maxOutstanding: number;
  readonly #calls = new Map<number, PendingCall>();
  readonly #sockets = new Map<number, Socket>();
  /** Connects in progress, and those whose socket must be closed as soon as it opens. */
  readonly #connecting = new Set<number>();
  readonly #unwanted = new Set<number>();
  readonly #stateListeners = new Set<StateListener>();
  readonly #slotWaiters = new Fifo<SlotWaiter>();
  #slotsReserved = 0;
  #nextId = 1;
  #draining = false;
  readonly #timers: Timers;
  #timer: unknown = null;
  #timerAt = 0;
  #started = false;
  #idleWaiters: (() => void)[] = [];
  /** Frames go out once per microtask checkpoint, in order, one socket write for all of them. */
  readonly #batch = new FrameBatch((attempt, bytes) => this.#sockets.get(attempt)?.write(bytes));
  // Callbacks allocated once per shell rather than once per request or timer.
  readonly #abortCall = (call: PendingCall): void => {
    if (!this.#calls.delete(call.id)) return;
    this.#machine.abandon(call.id);
    this.#pump();
    call.abort();
  };
  readonly #abortSlotWaiter = (waiter: SlotWaiter): void => {
    this.#slotWaiters.remove(waiter);
    waiter.refuse(waiter.options.signal!.reason);
  };
  readonly #slotGranted = (waiter: SlotWaiter): Promise<Response | null> => {
    this.#slotsReserved--;
    // Aborted between getting the slot and running this: do not send after all.
    const signal = waiter.options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.#submit(waiter.request, waiter.options);
  };
  readonly #onTimer = (): void => {
    this.#timer = null;
    this.#machine.tick(this.#now());
    this.#pump();
  };

  constructor(
    machine: SessionMachine,
    options: { transport: () => Promise<Transport>; maxOutstanding: number; timers?: Timers | undefined },
  ) {
    if (!Number.isInteger(options.maxOutstanding) || options.maxOutstanding < 1) {
      throw new RangeError(`maxOutstanding must be a positive integer, got ${options.maxOutstanding}`);
    }
    this.#machine = machine;
    this.#transport = options.transport;
    this.#maxOutstanding = options.maxOutstanding;
    this.#timers = options.timers ?? DEFAULT_TIMERS;
  }

  get machine(): SessionMachine {
    return this.#machine;
  }

  /** Starts connecting (once). Requests made before are queued. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#machine.start(this.#now());
    this.#pump();
  }

  onState(listener: StateListener): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  offState(listener: StateListener): void {
    this.#stateListeners.delete(listener);
  }

  /**
   * Sends a request and resolves with its response (null for body-less replies), or rejects with a
   * KeeperError, or with the signal's reason when aborted (the server may still apply the request).
   * When maxOutstanding requests are pending, waits for one to finish first (FIFO).
   */
  request(request: Request, options: RequestOptions): Promise<Response | null> {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#slotWaiters.length === 0 && this.#slotFree()) return this.#submit(request, options);
    const waiter = new SlotWaiter(request, options, this.#abortSlotWaiter);
    this.#slotWaiters.push(waiter);
    return waiter.promise.then(this.#slotGranted);
  }

  /** Adds a credential; resolves once a server accepted it. */
  addAuth(credential: Credential, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const call = this.#newCall({ signal, operation: "addAuth", path: undefined });
    this.#machine.addAuth(call.id, credential, this.#now());
    this.#pump();
    return call.promise.then(toVoid);
  }

  /** Removes local watches at once (see SessionMachine.removeWatches). */
  removeLocal(removal: WatchRemoval): number {
    const removed = this.#machine.removeWatches(removal);
    this.#pump();
    return removed;
  }

  /**
   * Resolves when the session reaches one of `states`; rejects with a KeeperError when it ends in
   * another terminal state, or when `timeoutMs` passes, or with the signal's reason.
   */
  waitForState(
    states: readonly SessionState[],
    options: { signal?: AbortSignal; timeoutMs: number; what: string },
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const timers = this.#timers;
      let timer: unknown = undefined;
      const finish = (error: unknown) => {
        unsubscribe();
        timers.clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        if (error === null) resolve();
        else reject(error);
      };
      const check = (state: SessionState) => {
        if (states.includes(state)) finish(null);
        else if (TERMINAL.has(state)) finish(this.#terminalError(options.what));
      };
      const onAbort = () => finish(options.signal!.reason);
      const unsubscribe = this.onState(check);
      if (options.signal?.aborted) return finish(options.signal.reason);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      timer = timers.setTimeout(() => {
        const last = this.#machine.lastFailure;
        const detail = `not connected within ${options.timeoutMs} ms${
          last === "" ? "" : ` (last failure: ${last})`
        }`;
        finish(new KeeperError(Code.CONNECTIONLOSS, { operation: options.what, detail }));
      }, options.timeoutMs);
      check(this.#machine.state);
    });
  }

  /** closeSession, then close the socket; resolves once every socket is closed (bounded wait). */
  async close(): Promise<void> {
    this.#machine.close(this.#now());
    this.#pump();
    if (!this.#machine.ended) {
      await this.waitForState(["closed", "expired", "authFailed"], { timeoutMs: 60_000, what: "close" })
        .catch(() => undefined);
    }
    await this.#socketsGone();
  }

  // -------------------------------------------------------------------------------------------------

  #slotFree(): boolean {
    return this.#machine.outstanding + this.#slotsReserved < this.#maxOutstanding;
  }

  #admitSlotWaiters(): void {
    if (this.#slotWaiters.length === 0) return;
    if (this.#machine.ended) {
      for (const waiter of this.#slotWaiters.takeAll()) waiter.refuse(this.#terminalError("request"));
      return;
    }
    while (this.#slotWaiters.length > 0 && this.#slotFree()) {
      this.#slotsReserved++;
      this.#slotWaiters.shift()!.grant();
    }
  }

  #submit(request: Request, options: RequestOptions): Promise<Response | null> {
    const call = this.#newCall(options);
    this.#machine.submit(
      { id: call.id, request, watch: options.watch, removeOnSuccess: options.removeOnSuccess },
      this.#now(),
    );
    this.#pump();
    return call.promise;
  }

  /** Registers a pending call under a new id; the machine's reply output with that id settles it. */
  #newCall(
    context: { signal?: AbortSignal | undefined; operation: string; path?: string | undefined },
  ): PendingCall {
    const call = new PendingCall(this.#nextId++, context, this.#abortCall);
    this.#calls.set(call.id, call);
    return call;
  }

  #terminalError(operation: string): KeeperError {
    const { code, detail } = refusalOf(this.#machine.state);
    // A failed SASL exchange says why (the last failure is the refusal's reason then).
    const last = this.#machine.lastFailure;
    const why = this.#machine.state === "authFailed" && last !== "" ? ` (${last})` : "";
    return new KeeperError(code, { operation, detail: detail + why });
  }

  // -------------------------------------------------------------------------------------------------
  // Running the machine

  /**
   * Carries out every output of the input just fed (also those caused by listeners re-entering: a
   * re-entrant call returns at once and the outer loop picks its outputs up). Every input is followed
   * by a call to this.
   */
  #pump(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      // Each round handles what the previous one produced; listeners can add inputs, bounded by their own calls.
      for (let outputs = this.#machine.drain(); outputs.length > 0; outputs = this.#machine.drain()) {
        for (const output of outputs) this.#perform(output);
      }
    } finally {
      this.#draining = false;
    }
    this.#admitSlotWaiters();
    this.#schedule();
  }

  #perform(output: MachineOutput): void {
    switch (output.type) {
      case "connect":
        this.#connect(output.attempt, output.host, output.port, output.timeoutMs);
        return;
      case "send":
        this.#batch.add(output.attempt, output.bytes);
        return;
      case "close":
        this.#closeSocket(output.attempt);
        return;
      case "probe":
        void this.#transport()
          .then((transport) => askIsro(transport, output.host, output.port, output.timeoutMs, this.#timers))
          .then((answer) => {
            this.#machine.probeAnswered(output.probe, answer, this.#now());
            this.#pump();
          }, toVoid);
        return;
      case "reply": {
        const call = this.#calls.get(output.id);
        this.#calls.delete(output.id);
        call?.settle(output.err, output.response, output.detail);
        return;
      }
      case "state":
        for (const listener of [...this.#stateListeners]) invokeListener(listener, output.state);
        return;
      case "event":
        for (const listener of output.listeners) invokeListener(listener, output.event);
        return;
    }
  }

  #schedule(): void {
    const deadline = this.#machine.nextDeadline();
    if (deadline === null) {
      if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
      this.#timer = null;
      this.#notifyIdle();
      return;
    }
    // A timer due no later than the deadline is kept: if it fires early, tick() finds nothing due and
    // the timer is set again for the real deadline. Every send moves the ping deadline, and moving the
    // timer each time would cost a clearTimeout and a setTimeout per request.
    if (this.#timer !== null && this.#timerAt <= deadline) return;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timerAt = deadline;
    // +1 ms: timers may fire a little early relative to the clock.
    this.#timer = this.#timers.setTimeout(this.#onTimer, Math.max(0, Math.ceil(deadline - this.#now())) + 1);
  }

  #connect(attempt: number, host: string, port: number, timeoutMs: number): void {
    this.#connecting.add(attempt);
    const handler: SocketHandler = {
      onData: (chunk) => {
        this.#machine.socketData(attempt, chunk, this.#now());
        this.#pump();
      },
      onClose: (error) => {
        this.#sockets.delete(attempt);
        const reason = error === undefined
          ? undefined
          : `connection to ${host}:${port} failed: ${error.message}`;
        this.#machine.socketClosed(attempt, this.#now(), reason);
        this.#pump();
      },
    };
    this.#transport()
      .then((transport) => transport.connect({ host, port, timeoutMs: Math.ceil(timeoutMs) }, handler))
      .then(
        (socket) => {
          this.#connecting.delete(attempt);
          if (this.#unwanted.delete(attempt)) {
            socket.close();
            this.#notifyIdle();
            return;
          }
          this.#sockets.set(attempt, socket);
          const cnonce = this.#machine.wantsSaslNonce ? saslCnonce() : undefined;
          if (!this.#machine.socketOpened(attempt, this.#now(), cnonce)) this.#closeSocket(attempt);
          this.#pump();
        },
        (error: unknown) => {
          this.#connecting.delete(attempt);
          this.#unwanted.delete(attempt);
          const message = error instanceof Error ? error.message : String(error);
          this.#machine.socketClosed(attempt, this.#now(), message);
          this.#pump();
        },
      );
  }

  #closeSocket(attempt: number): void {
    const socket = this.#sockets.get(attempt);
    if (socket !== undefined) {
      // Frames still batched for this socket go first: close() flushes what the socket holds.
      this.#batch.flush();
      this.#sockets.delete(attempt);
      socket.close();
    } else if (this.#connecting.has(attempt)) {
      this.#unwanted.add(attempt);
    }
  }

  #now(): number {
    return this.#timers.now();
  }

  #socketsGone(): Promise<void> {
    this.#batch.flush();
    for (const socket of this.#sockets.values()) socket.close();
    this.#sockets.clear();
    if (this.#connecting.size === 0) return Promise.resolve();
    const timers = this.#timers;
    return new Promise((resolve) => {
      const timer = timers.setTimeout(done, SOCKET_CLOSE_WAIT_MS);
      function done() {
        timers.clearTimeout(timer);
        resolve();
      }
      this.#idleWaiters.push(done);
    });
  }

  #notifyIdle(): void {
    if (this.#connecting.size > 0 || !this.#machine.ended) return;
    for (const waiter of this.#idleWaiters.splice(0)) waiter();
  }
}

/**
 * Calls a user listener. A throwing listener must not break the client's bookkeeping, so its error
 * is rethrown on a fresh task, where the runtime reports it like any uncaught error.
 */
function invokeListener<T>(listener: (value: T) => void, value: T): void {
  try {
    listener(value);
  } catch (error) {
    setTimeout(() => {
      throw error;
    }, 0);
  }
}

function toVoid(): void {}

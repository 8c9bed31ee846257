/**
 * The dashboard's Server-Sent Events: every viewer gets the same picture at a fixed interval (one
 * picture is computed per tick, whatever the number of viewers). Bounded on every side: at most
 * `clientsMax` viewers (more are refused), a viewer whose unsent bytes pass `clientBufferBytesMax`
 * (it stopped reading) is dropped, the ticker runs only while someone watches, and `close()` ends
 * every stream.
 */

/** The part of a node:http ServerResponse a stream needs (a fake in unit tests). */
export interface EventSink {
  write(text: string): boolean;
  end(): void;
  destroy(): void;
  readonly writableLength: number;
  once(event: "close", listener: () => void): unknown;
}

export interface DashboardEventsOptions {
  /** Computes the picture (JSON text, one line); called once per tick. */
  picture: (viewers: number) => string;
  /** Runs before each picture (the member probes); its time is bounded by the caller. */
  refresh?: () => Promise<void>;
  clientsMax?: number;
  intervalMs?: number;
  clientBufferBytesMax?: number;
}

export const DASHBOARD_CLIENTS_MAX = 8;
export const DASHBOARD_INTERVAL_MS = 1000;
/** A picture is some tens of KiB at most; a viewer this far behind is not reading. */
export const DASHBOARD_CLIENT_BUFFER_BYTES_MAX = 1024 * 1024;

export class DashboardEvents {
  readonly #options: DashboardEventsOptions;
  readonly #clients = new Set<EventSink>();
  readonly #clientsMax: number;
  readonly #bufferMax: number;
  readonly #intervalMs: number;
  #timer: ReturnType<typeof setInterval> | null = null;
  #ticking = false;
  #closed = false;
  #dropped = 0;

  constructor(options: DashboardEventsOptions) {
    this.#options = options;
    this.#clientsMax = options.clientsMax ?? DASHBOARD_CLIENTS_MAX;
    this.#bufferMax = options.clientBufferBytesMax ?? DASHBOARD_CLIENT_BUFFER_BYTES_MAX;
    this.#intervalMs = options.intervalMs ?? DASHBOARD_INTERVAL_MS;
  }

  get viewers(): number {
    return this.#clients.size;
  }

  /** Viewers dropped for not reading. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether another viewer may join (the caller answers 503 otherwise, before any header). */
  hasRoom(): boolean {
    return !this.#closed && this.#clients.size < this.#clientsMax;
  }

  /** Adds a stream whose headers are sent; it gets a picture at once, then one per interval. */
  add(sink: EventSink): void {
    if (!this.hasRoom()) throw new Error(`dashboard: ${this.#clientsMax} viewers already (or closed); call hasRoom() first`);
    this.#clients.add(sink);
    sink.once("close", () => this.#remove(sink));
    this.#send(sink, `retry: ${Math.max(1000, this.#intervalMs)}\n\n`);
    this.#send(sink, eventText(this.#options.picture(this.#clients.size)));
    if (this.#timer === null) {
      this.#timer = setInterval(() => void this.#tick(), this.#intervalMs);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  close(): void {
    this.#closed = true;
    this.#stopTimer();
    for (const sink of [...this.#clients]) {
      this.#clients.delete(sink);
      sink.end();
      sink.destroy();
    }
  }

  async #tick(): Promise<void> {
    // A slow refresh (probes) skips ticks instead of piling them up.
    if (this.#ticking || this.#clients.size === 0) return;
    this.#ticking = true;
    try {
      await this.#options.refresh?.();
      if (this.#closed || this.#clients.size === 0) return;
      const text = eventText(this.#options.picture(this.#clients.size));
      for (const sink of [...this.#clients]) this.#send(sink, text);
    } finally {
      this.#ticking = false;
    }
  }

  #send(sink: EventSink, text: string): void {
    if (!this.#clients.has(sink)) return;
    sink.write(text);
    if (sink.writableLength > this.#bufferMax) {
      this.#dropped++;
      this.#remove(sink);
      sink.destroy();
    }
  }

  #remove(sink: EventSink): void {
    this.#clients.delete(sink);
    if (this.#clients.size === 0) this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}

/** One SSE event; JSON has no raw newlines, so one data line carries it. */
function eventText(json: string): string {
  return `event: state\ndata: ${json}\n\n`;
}

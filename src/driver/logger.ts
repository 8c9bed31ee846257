/** Where the driver's log lines go. The core's "log" outputs come through here too. */

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  log(level: LogLevel, message: string): void;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Writes `<ISO time> <LEVEL> <message>` to stderr (console.error) for levels at or above `minLevel`. */
export function consoleLogger(minLevel: LogLevel = "info"): Logger {
  return {
    log(level, message) {
      if (LEVEL_RANK[level] < LEVEL_RANK[minLevel]) return;
      console.error(`${new Date().toISOString()} ${level.toUpperCase()} ${message}`);
    },
  };
}

/** Drops everything (tests, embedding without logs). */
export const silentLogger: Logger = { log() {} };

/** A logger that keeps the lines it is given (tests). */
export class MemoryLogger implements Logger {
  readonly lines: { level: LogLevel; message: string }[] = [];
  /** Keeps at most this many lines (the oldest are dropped). */
  readonly #linesMax: number;

  constructor(linesMax = 10_000) {
    this.#linesMax = linesMax;
  }

  log(level: LogLevel, message: string): void {
    this.lines.push({ level, message });
    if (this.lines.length > this.#linesMax) this.lines.shift();
  }

  /** Whether some line contains `fragment`. */
  has(fragment: string): boolean {
    return this.lines.some((line) => line.message.includes(fragment));
  }
}

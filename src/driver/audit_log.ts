/**
 * Writes audit events (src/core/audit.ts) to a file, one JSON line each: the time, then ZooKeeper's
 * fields (session, user, ip, operation, znode, znode_type, acl, result). Appends run one at a time in
 * arrival order; what waits is bounded (AUDIT_PENDING_BYTES_MAX): past it, events are dropped and
 * counted, and the count is written as an event of its own once the file keeps up, so a gap is
 * never silent. A failed append is logged once per failure streak, its events are lost, and the
 * file is cut back to its last whole line before the next append.
 */
import type { AuditEvent } from "../core/audit.ts";
import type { FileSystem, StorageFile } from "../storage/file_system.ts";
import type { Logger } from "./logger.ts";

/** What the audit log may hold in memory before it drops events. */
export const AUDIT_PENDING_BYTES_MAX = 8 * 1024 * 1024;

export interface AuditSink {
  record(event: AuditEvent): void;
}

export class AuditLogFile implements AuditSink {
  readonly #fs: FileSystem;
  readonly #path: string;
  readonly #logger: Logger;
  readonly #now: () => number;
  #file: StorageFile | null = null;
  #pending: string[] = [];
  #pendingBytes = 0;
  #dropped = 0;
  #writing: Promise<void> | null = null;
  #failing = false;
  /** The file's size after the last append that succeeded (null until the file is open). */
  #goodSize: number | null = null;

  constructor(fs: FileSystem, path: string, logger: Logger, now: () => number = Date.now) {
    this.#fs = fs;
    this.#path = path;
    this.#logger = logger;
    this.#now = now;
  }

  /** Queues one line (server start and stop go through here too). */
  record(event: AuditEvent | { user: string | null; operation: "serverStart" | "serverStop"; result: "success" | "invoked" }): void {
    const line = JSON.stringify({ time: new Date(this.#now()).toISOString(), ...event }) + "\n";
    if (this.#pendingBytes + line.length > AUDIT_PENDING_BYTES_MAX) {
      this.#dropped++;
      return;
    }
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    this.#writing ??= this.#writeAll();
  }

  /** Resolves once everything queued so far is written (or failed), then closes the file. */
  async close(): Promise<void> {
    while (this.#writing !== null) await this.#writing;
    await this.#file?.close();
    this.#file = null;
  }

  async #writeAll(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        if (this.#dropped > 0) {
          this.#pending.unshift(JSON.stringify({ time: new Date(this.#now()).toISOString(), operation: "auditEventsDropped", count: this.#dropped }) + "\n");
          this.#dropped = 0;
        }
        const lines = this.#pending.join("");
        this.#pending = [];
        this.#pendingBytes = 0;
        try {
          this.#file ??= await this.#fs.openAppend(this.#path);
          this.#goodSize ??= this.#file.size;
          // A failed append may have left part of its lines: cut back to the last whole line first
          // (`size` may not count what a failed write left, so cut whenever the last append failed).
          if (this.#failing) await this.#file.truncate(this.#goodSize);
          await this.#file.append(new TextEncoder().encode(lines));
          this.#goodSize = this.#file.size;
          this.#failing = false;
        } catch (error) {
          if (!this.#failing) this.#logger.log("error", `audit log ${this.#path}: cannot append (${error instanceof Error ? error.message : String(error)}); events are lost until it works again`);
          this.#failing = true;
        }
      }
    } finally {
      this.#writing = null;
    }
  }
}

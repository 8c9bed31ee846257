/**
 * Driving a SessionMachine by hand in unit tests: server frames built with the wire codec, and the
 * requests the machine sent decoded back.
 */
import assert from "node:assert/strict";
import type { Reply, Request, Response, Stat, WatcherEvent } from "../../../src/core/records.ts";
import {
  decodeRequest,
  encodeConnectResponse,
  encodeNotification,
  encodeReply,
} from "../../../src/wire/client_protocol.ts";
import {
  type MachineOutput,
  SessionMachine,
  type SessionMachineConfig,
} from "../../../src/client/session_machine.ts";

export const PASSWORD = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
export const SESSION_ID = 0x0100000997c60000n;

export const zeroStat: Stat = {
  czxid: 1,
  mzxid: 1,
  ctime: 0,
  mtime: 0,
  version: 0,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0n,
  dataLength: 0,
  numChildren: 0,
  pzxid: 1,
};

export function newMachine(overrides: Partial<SessionMachineConfig> = {}): SessionMachine {
  return new SessionMachine({
    hosts: [{ host: "h1", port: 2181 }, { host: "h2", port: 2182 }],
    chroot: "",
    sessionTimeoutMs: 30_000,
    ...overrides,
  });
}

export function connectResponse(
  timeOut: number,
  options: { readOnly?: boolean; sessionId?: bigint } = {},
): Uint8Array {
  return encodeConnectResponse({
    protocolVersion: 0,
    timeOut,
    sessionId: timeOut > 0 ? options.sessionId ?? SESSION_ID : 0n,
    passwd: timeOut > 0 ? PASSWORD : new Uint8Array(16),
    readOnly: options.readOnly ?? false,
  });
}

export function reply(xid: number, zxid: number, err: number, body: Response | null = null): Uint8Array {
  const value: Reply = { header: { xid, zxid, err }, body };
  return encodeReply(value);
}

export function notification(event: WatcherEvent, zxid = -1): Uint8Array {
  return encodeNotification(zxid, event);
}

/** The outputs of one type. */
export function ofType<T extends MachineOutput["type"]>(
  outputs: MachineOutput[],
  type: T,
): Extract<MachineOutput, { type: T }>[] {
  return outputs.filter((output): output is Extract<MachineOutput, { type: T }> => output.type === type);
}

/** Calls the listeners of the "event" outputs, as the shell would; returns the outputs. */
export function deliver(outputs: MachineOutput[]): MachineOutput[] {
  for (const output of ofType(outputs, "event")) {
    for (const listener of output.listeners) listener(output.event);
  }
  return outputs;
}

/** The requests inside "send" outputs after the handshake, decoded ({xid, request}). */
export function sentRequests(
  outputs: MachineOutput[],
): { xid: number; type: number; request: Request | null }[] {
  return ofType(outputs, "send").map((send) => {
    const decoded = decodeRequest(send.bytes.subarray(4));
    return { xid: decoded.header.xid, type: decoded.header.type, request: decoded.request };
  });
}

/**
 * Starts the machine and completes a handshake at time `now`; returns the attempt number and the
 * outputs of the handshake reply.
 */
export function connect(
  machine: SessionMachine,
  now: number,
  timeOut = 30_000,
  options: { readOnly?: boolean } = {},
): { attempt: number; outputs: MachineOutput[] } {
  machine.start(now);
  const connects = ofType(machine.drain(), "connect");
  assert.equal(connects.length, 1, "one connect output");
  const attempt = connects[0]!.attempt;
  assert.ok(machine.socketOpened(attempt, now));
  machine.drain();
  machine.socketData(attempt, connectResponse(timeOut, options), now);
  return { attempt, outputs: machine.drain() };
}

/** After a connection loss: the next connect output, opened and handshaken. */
export function reconnect(machine: SessionMachine, outputs: MachineOutput[], now: number, timeOut = 30_000) {
  const connects = ofType(outputs, "connect");
  assert.equal(
    connects.length,
    1,
    `expected one connect output, got ${JSON.stringify(outputs.map((o) => o.type))}`,
  );
  const attempt = connects[0]!.attempt;
  assert.ok(machine.socketOpened(attempt, now));
  const handshake = machine.drain();
  machine.socketData(attempt, connectResponse(timeOut), now);
  return { attempt, host: connects[0]!.host, handshake, outputs: machine.drain() };
}

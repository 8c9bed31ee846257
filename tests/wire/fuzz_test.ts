/**
 * Throws random and mutated frames at every decoder. The only allowed failures are WireError and
 * FrameError (or, from decodeRequest, a null request with an error). SEED=<n> replays a run.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import type { RequestKind } from "../../src/core/records.ts";
import {
  decodeConnectRequest,
  decodeConnectResponse,
  decodeNotification,
  decodeReplyHeader,
  decodeRequest,
  decodeResponse,
  encodeConnectRequest,
  encodeConnectResponse,
  encodeNotification,
  encodeReply,
  encodeRequest,
  WireError,
} from "../../src/wire/client_protocol.ts";
import { FrameDecoder, FrameError } from "../../src/wire/frame_decoder.ts";
import { createPrng, type Prng } from "../../src/testing/prng.ts";
import { sampleReplies, sampleRequests, toHex } from "./samples.ts";
import { VALID_OPCODES as VALID_OPCODE_SET } from "../../src/core/request_kinds.ts";

const SEED = Number(process.env.SEED ?? 0xc0ffee);
const CASES_PER_PHASE = 20_000;
const PHASE_BUDGET_MS = 10_000; // two phases: 20 s in all at most

const REQUEST_KINDS: RequestKind[] = [...new Set(sampleRequests.map((r) => r.kind))];
/** The opcodes a client may send, as the server knows them. */
const VALID_OPCODES = [...VALID_OPCODE_SET];

function interestingInt(prng: Prng): number {
  const choices = [0, 1, 2, 3, 4, 8, 9, 16, 68, -1, -2, -5, 0x7fffffff, -0x80000000, 0xfffff, 0x100000];
  return prng.int(4) === 0 ? prng.int(2 ** 32) | 0 : choices[prng.int(choices.length)]!;
}

function intBytes(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, value);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Random bytes shaped like jute: ints that look like lengths and counts, booleans, short strings. */
function randomBody(prng: Prng): Uint8Array {
  const parts: Uint8Array[] = [];
  const pieces = prng.int(10);
  for (let i = 0; i < pieces; i++) {
    switch (prng.int(5)) {
      case 0:
        parts.push(intBytes(interestingInt(prng)));
        break;
      case 1:
        parts.push(Uint8Array.of(prng.int(3) === 0 ? prng.int(256) : prng.int(2)));
        break;
      case 2: {
        const length = prng.int(12);
        parts.push(intBytes(length), prng.bytes(length));
        break;
      }
      case 3: // a MultiHeader
        parts.push(
          intBytes(VALID_OPCODES[prng.int(VALID_OPCODES.length)]!),
          Uint8Array.of(prng.int(2)),
          intBytes(-1),
        );
        break;
      default:
        parts.push(prng.bytes(prng.int(24)));
    }
  }
  return concat(parts);
}

function randomPayload(prng: Prng): Uint8Array {
  switch (prng.int(4)) {
    case 0:
      return prng.bytes(prng.int(64));
    case 1: // RequestHeader with a valid opcode
      return concat([
        intBytes(interestingInt(prng)),
        intBytes(VALID_OPCODES[prng.int(VALID_OPCODES.length)]!),
        randomBody(prng),
      ]);
    case 2: // ReplyHeader with err 0
      return concat([intBytes(prng.int(100)), prng.bytes(8), intBytes(0), randomBody(prng)]);
    default:
      return concat([intBytes(interestingInt(prng)), intBytes(interestingInt(prng)), randomBody(prng)]);
  }
}

function validFrame(prng: Prng): Uint8Array {
  const pick = prng.int(10);
  if (pick < 5) return encodeRequest(prng.int(1000) - 8, sampleRequests[prng.int(sampleRequests.length)]!);
  if (pick < 8) return encodeReply(sampleReplies[prng.int(sampleReplies.length)]!.reply);
  if (pick === 8) return encodeNotification(prng.int(1000) - 1, { type: 3, state: 3, path: "/fuzz" });
  const readOnly = [undefined, false, true][prng.int(3)];
  return prng.int(2) === 0
    ? encodeConnectRequest({
      protocolVersion: 0,
      lastZxidSeen: prng.int(1000),
      timeOut: 30000,
      sessionId: 7n,
      passwd: prng.bytes(16),
      readOnly,
    })
    : encodeConnectResponse({
      protocolVersion: 0,
      timeOut: 30000,
      sessionId: 7n,
      passwd: prng.bytes(16),
      readOnly,
    });
}

function mutate(prng: Prng, input: Uint8Array): Uint8Array {
  let bytes: Uint8Array = input.slice();
  const rounds = 1 + prng.int(3);
  for (let round = 0; round < rounds; round++) {
    const at = prng.int(bytes.length + 1);
    switch (prng.int(5)) {
      case 0: // bit flips
        for (let i = 0, flips = 1 + prng.int(4); i < flips && bytes.length > 0; i++) {
          bytes[prng.int(bytes.length)]! ^= 1 << prng.int(8);
        }
        break;
      case 1: // truncation
        bytes = bytes.subarray(0, at);
        break;
      case 2: // insertion
        bytes = concat([bytes.subarray(0, at), prng.bytes(1 + prng.int(8)), bytes.subarray(at)]);
        break;
      case 3: // a length or count replaced
        if (bytes.length >= 4) bytes.set(intBytes(interestingInt(prng)), prng.int(bytes.length - 3));
        break;
      default: // a range duplicated
        bytes = concat([bytes.subarray(0, at), bytes.subarray(prng.int(at + 1), at), bytes.subarray(at)]);
    }
  }
  return bytes;
}

function allowed(error: unknown): boolean {
  return error instanceof WireError || error instanceof FrameError;
}

function attempt(what: string, input: Uint8Array, run: () => void): void {
  try {
    run();
  } catch (error) {
    if (allowed(error)) return;
    assert.fail(`${what} threw ${String(error)} (SEED=${SEED}) for ${toHex(input)}`);
  }
}

/** Every payload decoder on one payload; requests that decode must re-encode to the same request. */
function decodeEverything(prng: Prng, payload: Uint8Array): void {
  attempt("decodeRequest", payload, () => {
    const decoded = decodeRequest(payload);
    if (decoded.request === null) {
      assert.equal(typeof decoded.error, "string", `null request without an error (SEED=${SEED})`);
      return;
    }
    assert.equal(decoded.error, null);
    const again = decodeRequest(encodeRequest(decoded.header.xid, decoded.request).subarray(4));
    assert.deepEqual(again, decoded, `re-encoding changed the request (SEED=${SEED}) for ${toHex(payload)}`);
  });
  attempt("decodeConnectRequest", payload, () => decodeConnectRequest(payload));
  attempt("decodeConnectResponse", payload, () => decodeConnectResponse(payload));
  attempt("decodeReplyHeader", payload, () => decodeReplyHeader(payload));
  attempt("decodeNotification", payload, () => decodeNotification(payload));
  const kind = REQUEST_KINDS[prng.int(REQUEST_KINDS.length)]!;
  attempt(`decodeResponse(${kind})`, payload, () => decodeResponse(kind, payload));
}

/** A byte stream in random chunks through a small-limit FrameDecoder, payloads decoded as they come. */
function frameEverything(prng: Prng, stream: Uint8Array): void {
  const decoder = new FrameDecoder({ maxFrameBytes: 1 + prng.int(300) });
  attempt("FrameDecoder", stream, () => {
    let offset = 0;
    while (offset < stream.length) {
      const size = 1 + prng.int(stream.length - offset);
      decoder.push(stream.subarray(offset, offset + size));
      offset += size;
      for (let guard = 0; guard <= stream.length; guard++) {
        const payload = decoder.next();
        if (payload === null) break;
        attempt("decodeRequest after FrameDecoder", payload, () => decodeRequest(payload));
      }
    }
  });
}

function runPhase(name: string, makeInput: (prng: Prng) => Uint8Array, seed: number): number {
  const prng = createPrng(seed);
  const deadline = Date.now() + PHASE_BUDGET_MS;
  let cases = 0;
  while (cases < CASES_PER_PHASE && Date.now() < deadline) {
    const input = makeInput(prng);
    decodeEverything(prng, input);
    decodeEverything(prng, input.subarray(Math.min(4, input.length)));
    frameEverything(prng, input);
    cases++;
  }
  assert.ok(cases >= 1000, `${name}: only ${cases} cases ran within ${PHASE_BUDGET_MS} ms`);
  return cases;
}

describe("wire fuzz", () => {
  test("random frames raise only WireError/FrameError", () => {
    runPhase("random", (prng) => {
      const payload = randomPayload(prng);
      return prng.int(2) === 0 ? payload : concat([intBytes(payload.length), payload]);
    }, SEED);
  });

  test("mutated valid frames raise only WireError/FrameError", () => {
    runPhase("mutations", (prng) => {
      const frames = [validFrame(prng)];
      if (prng.int(4) === 0) frames.push(validFrame(prng));
      return mutate(prng, concat(frames));
    }, SEED + 1);
  });
});

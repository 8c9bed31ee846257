/**
 * The real peer wire format (src/wire/peer_codec.ts: cbor-x frames with a CRC) as a simulator codec,
 * so a campaign can run every peer message through the bytes replicas exchange in production
 * (`deno task sim --cbor`).
 */
import type { PeerMessage } from "../core/peer_messages.ts";
import { encodePeerFrame, PeerFrameDecoder } from "../wire/peer_codec.ts";
import type { PeerCodec } from "./sim_network.ts";

export const PEER_FRAME_CODEC: PeerCodec = {
  name: "cbor",
  encode: (message) => encodePeerFrame(message),
  decode(encoded) {
    const decoder = new PeerFrameDecoder();
    decoder.push(encoded as Uint8Array);
    const frame = decoder.next();
    if (frame === null || decoder.next() !== null) throw new Error("a simulated peer frame did not decode to exactly one frame");
    if (frame.kind === "linkHello" || frame.kind === "linkHeartbeat") throw new Error(`unexpected ${frame.kind} frame in the simulator`);
    return frame as PeerMessage;
  },
};

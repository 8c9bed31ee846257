/**
 * Zxid: epoch · 2^32 + counter, as a plain number. Epochs stay below 2^21 so a zxid is always a safe
 * integer; ZooKeeper's wire format carries it as a signed 64-bit long.
 */
export type Zxid = number;

const COUNTER_SPAN = 0x1_0000_0000;
export const EPOCH_MAX = 0x20_0000; // 2^21

export function zxidOf(epoch: number, counter: number): Zxid {
  if (epoch < 0 || epoch >= EPOCH_MAX || !Number.isInteger(epoch)) {
    throw new RangeError(`zxid epoch ${epoch} is outside [0, 2^21)`);
  }
  if (counter < 0 || counter >= COUNTER_SPAN || !Number.isInteger(counter)) {
    throw new RangeError(`zxid counter ${counter} is outside [0, 2^32)`);
  }
  return epoch * COUNTER_SPAN + counter;
}

export function zxidEpoch(zxid: Zxid): number {
  return Math.floor(zxid / COUNTER_SPAN);
}

export function zxidCounter(zxid: Zxid): number {
  return zxid % COUNTER_SPAN;
}

/** Lower-case hex without padding, as ZooKeeper prints zxids ("0x1a"). */
export function zxidHex(zxid: Zxid): string {
  return "0x" + zxid.toString(16);
}

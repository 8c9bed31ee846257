/**
 * The extra field Curator's id and delay queues put in a queue node's name, between two "|":
 * `queue-|<id>|<seq>` (DistributedIdQueue) and `queue-|<epoch ms in hex>|<seq>` (DistributedDelayQueue),
 * with our protected prefix `_c_<uuid>-` in front when protected names are on.
 */

/** Curator's separator around the field. */
export const QUEUE_FIELD_SEPARATOR = "|";

/** `|<field>|`: what goes after "queue-" and before the sequence number. */
export function fieldSegment(field: string): string {
  return QUEUE_FIELD_SEPARATOR + field + QUEUE_FIELD_SEPARATOR;
}

/**
 * The field of a queue node's name (the text between its last two "|"), or null when the name has
 * none (a plain queue node, or a foreign one).
 */
export function fieldOf(name: string): string | null {
  const last = name.lastIndexOf(QUEUE_FIELD_SEPARATOR);
  const first = last > 0 ? name.lastIndexOf(QUEUE_FIELD_SEPARATOR, last - 1) : -1;
  if (first < 0 || last <= first + 1) return null;
  return name.substring(first + 1, last);
}

/** The sequence suffix of a queue node (its last 10 characters): FIFO order within one queue. */
export function sequenceKey(name: string): string {
  return name.slice(-10);
}

/** What a checker reports: which invariant broke, and the facts that show it. */
export interface Violation {
  invariant: string;
  message: string;
  /** Virtual time of the discovery (ms), when known. */
  atMs?: number;
}

export type Report = (invariant: string, message: string) => void;

/** A Report that collects violations (for unit tests and end-of-run analyses). */
export function collectViolations(): { report: Report; violations: Violation[] } {
  const violations: Violation[] = [];
  return { violations, report: (invariant, message) => violations.push({ invariant, message }) };
}

/**
 * Applying a catalogue entry to source text: the snippet must match exactly once, else the entry is
 * stale (the code moved) and says so, with how many times it matched.
 */
import type { Mutant } from "./catalogue.ts";

export type Applied = { ok: true; text: string } | { ok: false; matches: number; problem: string };

function countMatches(text: string, find: string | RegExp): number {
  if (typeof find === "string") {
    if (find.length === 0) return 0;
    let count = 0;
    for (let at = text.indexOf(find); at !== -1 && count < 1000; at = text.indexOf(find, at + 1)) count++;
    return count;
  }
  const global = new RegExp(find.source, find.flags.includes("g") ? find.flags : find.flags + "g");
  return [...text.matchAll(global)].length;
}

/** The mutated source, or why the entry does not apply (stale: the snippet is gone or ambiguous). */
export function applyMutant(text: string, mutant: Mutant): Applied {
  const matches = countMatches(text, mutant.find);
  if (matches !== 1) {
    return {
      ok: false,
      matches,
      problem:
        `mutant ${mutant.id} is stale: its snippet matches ${matches} times in ${mutant.file} (exactly once needed); ` +
        `bring tests/mutation/catalogue.ts in step with the code`,
    };
  }
  const find = mutant.find;
  const mutated = typeof find === "string"
    ? text.replace(find, () => mutant.replace)
    : text.replace(new RegExp(find.source, find.flags.replace("g", "")), () => mutant.replace);
  if (mutated === text) {
    return { ok: false, matches, problem: `mutant ${mutant.id} changes nothing in ${mutant.file}` };
  }
  return { ok: true, text: mutated };
}

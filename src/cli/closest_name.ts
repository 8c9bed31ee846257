/** "Did you mean ...?" for a mistyped zoo.cfg key or four-letter word: the nearest known name by edit distance. */

/** Names longer than this are not compared (a hostile config line must not cost quadratic time). */
const NAME_LENGTH_MAX = 200;

/**
 * The known name closest to `typed`, if it is close enough to be a typo: a case-only difference,
 * or at most 2 edits (1 for names of 4 characters or fewer) away. Ties go to the earlier name.
 */
export function closestName(typed: string, known: readonly string[]): string | null {
  if (typed.length > NAME_LENGTH_MAX) return null;
  const lower = typed.toLowerCase();
  const sameLetters = known.find((name) => name.toLowerCase() === lower);
  if (sameLetters !== undefined) return sameLetters;
  const allowed = typed.length <= 4 ? 1 : 2;
  let best: string | null = null;
  let bestDistance = allowed + 1;
  for (const name of known) {
    if (Math.abs(name.length - typed.length) >= bestDistance || name.length > NAME_LENGTH_MAX) continue;
    const distance = editDistance(lower, name.toLowerCase());
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance with adjacent transpositions counted as one edit ("clinetPort"). */
function editDistance(a: string, b: string): number {
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, before[j - 2]! + 1);
      current.push(value);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

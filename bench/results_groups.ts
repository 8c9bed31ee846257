/**
 * A benchmark group's tables inside a runtime's section of bench/RESULTS.md, between markers, so
 * that running that group alone (`--only=storage`) replaces its own tables and keeps the rest of
 * the section. The block starts with its own date, mode and commit, since the section heading may
 * come from an earlier run.
 */

function beginMarker(group: string): string {
  return `<!-- bench-group:${group}:begin -->`;
}

function endMarker(group: string): string {
  return `<!-- bench-group:${group}:end -->`;
}

/** `text` (the group's provenance line and tables) wrapped in the group's markers. */
export function groupBlock(group: string, text: string): string {
  return `${beginMarker(group)}\n${text.trim()}\n${endMarker(group)}`;
}

/** `section` with `group`'s block replaced by `block`, or `block` appended if it had none. */
export function replaceGroupBlock(section: string, group: string, block: string): string {
  const begin = section.indexOf(beginMarker(group));
  const end = section.indexOf(endMarker(group));
  if (begin < 0 || end < begin) return `${section.trimEnd()}\n\n${block}`;
  return section.slice(0, begin) + block + section.slice(end + endMarker(group).length);
}

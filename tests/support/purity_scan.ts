/**
 * Finds what src/core may not use: clocks, randomness, timers, promises, runtime globals and imports
 * from outside src/core. Comments, strings and regex literals are blanked out first so that prose
 * and messages can mention `Date` freely; only code counts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

export interface Violation {
  file: string;
  line: number;
  what: string;
}

/** Identifiers that mean the code reaches for time, randomness, concurrency or the runtime. */
const forbiddenIdentifiers = [
  "Date",
  "setTimeout",
  "setInterval",
  "setImmediate",
  "queueMicrotask",
  "Promise",
  "async",
  "await",
  "Deno",
  "Bun",
  "process",
  "globalThis",
  "crypto",
  "performance",
  "require",
];

const identifierPattern = new RegExp(`(?<![\\w$#])(${forbiddenIdentifiers.join("|")})(?![\\w$])`, "g");
const mathRandomPattern = /(?<![\w$#.])Math\s*\.\s*random(?![\w$])/g;
const dynamicImportPattern = /(?<![\w$#.])import\s*\(/g;

/** Every violation in every .ts file under `coreDir`, sorted by file and line. */
export function scanDirectory(coreDir: string): Violation[] {
  const violations: Violation[] = [];
  for (const file of listTypeScriptFiles(coreDir)) {
    const source = readFileSync(file, "utf8");
    violations.push(...scanSource(source, { file, coreDir }));
  }
  return violations;
}

/** Violations in one file's text. `file` must be an absolute path inside (or meant to be inside) `coreDir`. */
export function scanSource(source: string, input: { file: string; coreDir: string }): Violation[] {
  const { code, strings } = blankCommentsAndStrings(source);
  const violations: Violation[] = [];
  const displayFile = relative(process.cwd(), input.file) || input.file;
  const report = (offset: number, what: string) =>
    violations.push({ file: displayFile, line: lineAt(source, offset), what });
  for (const match of code.matchAll(identifierPattern)) {
    if (isMemberAccess(code, match.index) || isMemberName(code, match.index, match[1]!.length)) continue;
    report(match.index, `uses ${match[1]}`);
  }
  for (const match of code.matchAll(mathRandomPattern)) report(match.index, "uses Math.random");
  for (const match of code.matchAll(dynamicImportPattern)) report(match.index, "uses dynamic import()");
  for (const [offset, specifier] of strings) {
    const before = code.slice(Math.max(0, offset - 40), offset);
    if (!/(?:\bfrom|\bimport)\s*$/.test(before)) continue;
    const problem = importProblem(specifier, input);
    if (problem !== null) report(offset, problem);
  }
  return violations.sort((a, b) => a.line - b.line);
}

function importProblem(specifier: string, input: { file: string; coreDir: string }): string | null {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) {
    return `imports "${specifier}" (only relative imports inside src/core are allowed)`;
  }
  const target = resolve(dirname(input.file), specifier);
  const core = resolve(input.coreDir);
  if (target !== core && !target.startsWith(core + sep)) {
    return `imports "${specifier}", which is outside src/core`;
  }
  return null;
}

/** `x.process` or `x?.process` is a property, not the global; `...process` is the global. */
function isMemberAccess(code: string, index: number): boolean {
  let i = index - 1;
  while (i >= 0 && /\s/.test(code[i]!)) i--;
  if (code[i] !== ".") return false;
  return !(code[i - 1] === "." && code[i - 2] === ".");
}

/**
 * A class member or object key that merely has a forbidden name: `setTimeout(id: bigint): void {` or
 * `process: number;` at the start of a line (after modifiers). Calls such as `setTimeout(f, 1);`
 * are not: after their closing parenthesis comes no body.
 */
function isMemberName(code: string, index: number, length: number): boolean {
  const lineStart = code.lastIndexOf("\n", index - 1) + 1;
  const prefix = code.slice(lineStart, index);
  if (!/^\s*(?:(?:static|public|private|protected|readonly|override|get|set)\s+)*$/.test(prefix)) {
    return false;
  }
  const after = index + length;
  if (/^\s*\??\s*:/.test(code.slice(after, after + 40))) return true;
  const open = code.slice(after).search(/\S/);
  if (open === -1 || code[after + open] !== "(") return false;
  let depth = 0;
  for (let i = after + open; i < code.length && i < after + 2000; i++) {
    if (code[i] === "(") depth++;
    else if (code[i] === ")" && --depth === 0) return /^\s*(?::[^;{}=]*)?\{/.test(code.slice(i + 1, i + 200));
  }
  return false;
}

/**
 * Replaces the contents of comments, string literals, template literal text and regex literals with
 * spaces (newlines kept, so offsets and line numbers are unchanged). Returns the blanked code and
 * each string literal's text by the offset of its opening quote.
 */
export function blankCommentsAndStrings(source: string): { code: string; strings: Map<number, string> } {
  const out = source.split("");
  const strings = new Map<number, string>();
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  // Brace depth per open template `${`: a `}` at depth 0 resumes the template text.
  const templateDepths: number[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      const stop = end === -1 ? source.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end === -1 ? source.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      const stop = skipQuoted(source, i, c);
      strings.set(i, source.slice(i + 1, stop - 1));
      blank(i + 1, stop - 1);
      i = stop;
    } else if (c === "`") {
      i = skipTemplateText(source, i + 1, blank, templateDepths);
    } else if (c === "{" && templateDepths.length > 0) {
      templateDepths[templateDepths.length - 1]!++;
      i++;
    } else if (c === "}" && templateDepths.length > 0 && templateDepths[templateDepths.length - 1] === 0) {
      templateDepths.pop();
      i = skipTemplateText(source, i + 1, blank, templateDepths);
    } else if (c === "}" && templateDepths.length > 0) {
      templateDepths[templateDepths.length - 1]!--;
      i++;
    } else if (c === "/" && regexCanStart(out, i)) {
      const stop = skipRegex(source, i);
      blank(i + 1, stop);
      i = stop;
    } else {
      i++;
    }
  }
  return { code: out.join(""), strings };
}

/** Index just past the closing quote (or the end of the line for an unterminated string). */
function skipQuoted(source: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < source.length) {
    const c = source[i]!;
    if (c === "\\") i += 2;
    else if (c === quote) return i + 1;
    else if (c === "\n") return i;
    else i++;
  }
  return source.length;
}

/** Blanks template text from `start` to the closing backtick or to `${` (pushing a new depth). */
function skipTemplateText(
  source: string,
  start: number,
  blank: (from: number, to: number) => void,
  templateDepths: number[],
): number {
  let i = start;
  while (i < source.length) {
    const c = source[i]!;
    if (c === "\\") {
      i += 2;
    } else if (c === "`") {
      blank(start, i);
      return i + 1;
    } else if (c === "$" && source[i + 1] === "{") {
      blank(start, i);
      templateDepths.push(0);
      return i + 2;
    } else {
      i++;
    }
  }
  blank(start, source.length);
  return source.length;
}

const keywordsBeforeExpression = new Set([
  "return",
  "typeof",
  "case",
  "do",
  "else",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "instanceof",
  "yield",
  "await",
]);

/** A `/` starts a regex literal where an expression may start (after an operator, bracket or keyword). */
function regexCanStart(code: readonly string[], index: number): boolean {
  let i = index - 1;
  while (i >= 0 && /\s/.test(code[i]!)) i--;
  if (i < 0) return true;
  const previous = code[i]!;
  if ("(,=:[!&|?{};+-*%<>~^}".includes(previous)) return true;
  if (!/[\w$]/.test(previous)) return false;
  let wordStart = i;
  while (wordStart > 0 && /[\w$]/.test(code[wordStart - 1]!)) wordStart--;
  return keywordsBeforeExpression.has(code.slice(wordStart, i + 1).join(""));
}

/** Index just past a regex literal's flags (or the end of the line if it is unterminated). */
function skipRegex(source: string, start: number): number {
  let inClass = false;
  for (let i = start + 1; i < source.length; i++) {
    const c = source[i]!;
    if (c === "\\") {
      i++;
    } else if (c === "\n") {
      return i;
    } else if (c === "[") {
      inClass = true;
    } else if (c === "]") {
      inClass = false;
    } else if (c === "/" && !inClass) {
      let end = i + 1;
      while (end < source.length && /[a-z]/.test(source[end]!)) end++;
      return end;
    }
  }
  return source.length;
}

function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < source.length; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

function listTypeScriptFiles(directory: string): string[] {
  const files: string[] = [];
  const entries = readdirSync(directory, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name)
  );
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...listTypeScriptFiles(path));
    else if (entry.isFile() && entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

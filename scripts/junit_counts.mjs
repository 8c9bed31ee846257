// Counts leaf test cases in a Deno JUnit report: prints "PASSED FAILED SKIPPED".
// Deno reports a node:test `describe` as a test whose steps are separate test cases named
// "suite > step"; counting only leaves makes the numbers comparable with Node's and Bun's.
// Usage: node scripts/junit_counts.mjs report.xml [failed-names.txt]   (a missing report counts as
// "0 0 0"). With a second argument, the names of the failed leaf tests are written there, one a line.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const path = process.argv[2];
if (!path) {
  console.error("usage: node scripts/junit_counts.mjs <junit.xml>");
  process.exit(2);
}
if (!existsSync(path)) {
  console.log("0 0 0");
  process.exit(0);
}

const xml = readFileSync(path, "utf8");
const decode = (text) =>
  text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");

// Each <testcase ...> element, self-closing or with a body up to </testcase>.
const cases = [];
const pattern = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
for (const match of xml.matchAll(pattern)) {
  const name = decode(/\bname="([^"]*)"/.exec(match[1])?.[1] ?? "");
  const suite = decode(/\bclassname="([^"]*)"/.exec(match[1])?.[1] ?? "");
  const body = match[3] ?? "";
  cases.push({ name, suite, failed: /<failure\b|<error\b/.test(body), skipped: /<skipped\b/.test(body) });
}

// A case is a parent when another case's name extends it with " > ". Steps may be filed under a
// different <testsuite>, so parents are matched by name across the whole report.
const names = cases.map((testCase) => testCase.name);
const isParent = (name) => names.some((other) => other.startsWith(name + " > "));
let passed = 0;
let failed = 0;
let skipped = 0;
const failedNames = [];
for (const testCase of cases) {
  if (isParent(testCase.name)) continue;
  if (testCase.failed) {
    failed++;
    failedNames.push(testCase.name);
  }
  else if (testCase.skipped) skipped++;
  else passed++;
}
if (process.argv[3]) writeFileSync(process.argv[3], failedNames.map((name) => name + "\n").join(""));
console.log(`${passed} ${failed} ${skipped}`);

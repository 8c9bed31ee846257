#!/usr/bin/env bash
# Runs the whole test suite (tests/**/*_test.ts, node:test style) under Deno, Node and Bun.
#
#   scripts/test_all.sh              all three runtimes
#   scripts/test_all.sh node bun     only these (any of: deno node bun)
#
# Each runtime prints its own report; then one summary line per runtime and, as the very last
# line, "N passed, N failed" summed over the runtimes (CI reads that line). Exit status is non-zero
# if any runtime failed. Counts are leaf tests (describe blocks are not counted).
#
# Environment:
#   CORRAL_TEST_ROOT               directory to run instead of tests/ (e.g. tests/compat)
#   CORRAL_NODE_TEST_CONCURRENCY   test files Node runs at once (default 2: the CI machine has 2 cores)
#   CORRAL_REQUIRE_COMPAT=1        compat tests fail instead of skipping when java/zookeeper/kazoo are missing
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

runtimes=("$@")
if [ ${#runtimes[@]} -eq 0 ]; then
  runtimes=(deno node bun)
fi
for name in "${runtimes[@]}"; do
  case "$name" in
    deno | node | bun) ;;
    *)
      echo "test_all.sh: unknown runtime '$name' (expected deno, node or bun)" >&2
      exit 2
      ;;
  esac
done

test_root="${CORRAL_TEST_ROOT:-tests}"
test_root="${test_root%/}"
if [ ! -d "$test_root" ]; then
  echo "test_all.sh: test directory '$test_root' does not exist" >&2
  exit 2
fi

work_dir="$(mktemp -d "${TMPDIR:-/tmp}/corral-test-all.XXXXXX")"
trap 'rm -rf "$work_dir"' EXIT

total_passed=0
total_failed=0
summaries=()
overall_status=0

# record NAME EXIT_STATUS PASSED FAILED SKIPPED
record() {
  local name="$1" status="$2" passed="$3" failed="$4" skipped="$5"
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    # The runner failed without a failing test (type-check error, crash, file that did not load).
    failed=1
    summaries+=("$name: exited with status $status but reported no failed test; counted as 1 failure")
  fi
  if [ "$status" -eq 0 ] && [ "$failed" -ne 0 ]; then
    status=1
  fi
  summaries+=("$name: $passed passed, $failed failed, $skipped skipped")
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  if [ "$status" -ne 0 ]; then
    overall_status=1
  fi
}

# failed_names RUNTIME < names: remembers up to 20 failed test names for the summary, which CI
# shows (its output is cut to the last lines, so names printed only mid-run are lost).
failed_tests=()
failed_names() {
  local line kept=0
  while IFS= read -r line; do
    if [ "$kept" -lt 20 ]; then
      failed_tests+=("$1: $line")
      kept=$((kept + 1))
    fi
  done
}

# count PATTERN FILE: the number in the last line matching the extended regex PATTERN (0 if none).
count() {
  local value
  value="$(grep -E "$1" "$2" | tail -n 1 | grep -oE '[0-9]+' | head -n 1)"
  echo "${value:-0}"
}

run_deno() {
  echo "=== deno: npx --yes deno test -A $test_root/ ==="
  local junit="$work_dir/deno.xml"
  npx --yes deno test -A --junit-path="$junit" "$test_root/"
  local status=$?
  local passed failed skipped
  read -r passed failed skipped < <(node scripts/junit_counts.mjs "$junit" "$work_dir/deno.failed")
  failed_names deno < "$work_dir/deno.failed"
  record deno "$status" "$passed" "$failed" "$skipped"
}

run_node() {
  local files=()
  while IFS= read -r file; do
    files+=("$file")
  done < <(find "$test_root" -type f -name '*_test.ts' -not -path '*/node_modules/*' | LC_ALL=C sort)
  local concurrency="${CORRAL_NODE_TEST_CONCURRENCY:-2}"
  echo "=== node: node --import tsx --test (${#files[@]} files, concurrency $concurrency) ==="
  if [ ${#files[@]} -eq 0 ]; then
    record node 1 0 0 0
    return
  fi
  local log="$work_dir/node.log"
  # --test-force-exit: a test that leaks a socket or timer must not hang CI.
  node --import tsx --test --test-concurrency="$concurrency" --test-force-exit \
    --test-reporter=spec --test-reporter-destination=stdout "${files[@]}" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local passed failed cancelled skipped todo
  passed="$(count '^ℹ pass [0-9]+' "$log")"
  failed="$(count '^ℹ fail [0-9]+' "$log")"
  cancelled="$(count '^ℹ cancelled [0-9]+' "$log")"
  skipped="$(count '^ℹ skipped [0-9]+' "$log")"
  todo="$(count '^ℹ todo [0-9]+' "$log")"
  # The spec reporter repeats each failure under "✖ failing tests:" at the end.
  failed_names node < <(sed -n '/^✖ failing tests:/,$p' "$log" | grep -E '^✖ ' | grep -v '^✖ failing tests:')
  record node "$status" "$passed" "$((failed + cancelled))" "$((skipped + todo))"
}

run_bun() {
  echo "=== bun: npx bun test $test_root/ ==="
  local log="$work_dir/bun.log"
  # Bun stops a test after 5 s unless told otherwise; Node and Deno have no such limit.
  npx bun test --timeout 300000 "$test_root/" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local passed failed skipped todo errors
  passed="$(count '^ *[0-9]+ pass$' "$log")"
  failed="$(count '^ *[0-9]+ fail$' "$log")"
  skipped="$(count '^ *[0-9]+ skip$' "$log")"
  todo="$(count '^ *[0-9]+ todo$' "$log")"
  errors="$(count '^ *[0-9]+ errors?$' "$log")"
  # Bun repeats each failure in its closing list: keep the first of each.
  failed_names bun < <(grep -E '^\(fail\) ' "$log" | awk '!seen[$0]++')
  record bun "$status" "$passed" "$((failed + errors))" "$((skipped + todo))"
}

for name in "${runtimes[@]}"; do
  "run_$name"
  echo
done

echo "=== summary ==="
for line in "${failed_tests[@]}"; do
  echo "failed: $line"
done
for line in "${summaries[@]}"; do
  echo "$line"
done
echo "$total_passed passed, $total_failed failed"
exit "$overall_status"

#!/bin/bash
# Runs every unit test binary and end-to-end script, counts their
# "ok NAME" / "not ok NAME: why" / "skip NAME: why" lines and ends with
# "N passed, N failed, N skipped". Exits non-zero on any failure.
# Usage: test/run.sh [PATTERN]   (only tests whose file name contains PATTERN)
cd "$(dirname "$0")/.." || exit 1
pattern=${1:-}
passed=0 failed=0 skipped=0
failures=()

run_one() {
	local t=$1 out rc
	out=$(mktemp)
	echo "== $t"
	timeout 900 "$t" >"$out" 2>&1
	rc=$?
	# Show everything a test printed, so a failure explains itself in CI logs.
	sed 's/^/   /' "$out"
	local p f s
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	s=$(grep -c '^skip ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "   not ok $t: exited with status $rc"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	[ "$f" -gt 0 ] && failures+=("$t")
	rm -f "$out"
}

for t in test/unit/*.bin test/unit/test-*.sh test/e2e/test-*.sh; do
	[ -e "$t" ] || continue
	[ -n "$pattern" ] && [[ "$t" != *"$pattern"* ]] && continue
	run_one "$t"
done

# Crash inputs found by fuzzing are replayed by the unit tests' corpus cases.
if [ ${#failures[@]} -gt 0 ]; then
	echo "failing: ${failures[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

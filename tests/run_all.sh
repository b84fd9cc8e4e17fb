#!/usr/bin/env bash
# Runs every test (unit, then end-to-end) and prints the overall summary as
# the last line: "N passed, N failed". Arguments: the unit-test binaries.
set -u
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
"$here/run_unit.sh" "$@" | tee "$log"; u=${PIPESTATUS[0]}
"$here/e2e/run.sh" ${E2E_ARGS:-} | tee -a "$log"; e=${PIPESTATUS[0]}
p=$(grep -E '^(unit|e2e): [0-9]+ passed' "$log" | awk '{s+=$2} END{print s+0}')
f=$(grep -E '^(unit|e2e): [0-9]+ passed' "$log" | awk '{s+=$4} END{print s+0}')
rm -f "$log"
echo "$p passed, $f failed"
[ $u = 0 ] && [ $e = 0 ] && [ "$f" = 0 ]

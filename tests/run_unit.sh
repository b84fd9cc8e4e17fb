#!/usr/bin/env bash
# Runs the cmocka unit-test binaries given as arguments and sums their
# results into one line "unit: N passed, N failed".
set -u
pass=0; failn=0
for b in "$@"; do
  out=$("$b" 2>&1); rc=$?
  p=$(grep -oE '^\[  PASSED  \] [0-9]+' <<<"$out" | grep -oE '[0-9]+$' | head -1)
  f=$(grep -oE '^\[  FAILED  \] [0-9]+' <<<"$out" | grep -oE '[0-9]+$' | head -1)
  pass=$((pass + ${p:-0})); failn=$((failn + ${f:-0}))
  if [ $rc != 0 ]; then
    [ -z "$f" ] && failn=$((failn + 1))
    echo "FAIL $(basename "$b")"; echo "$out" | grep -E 'FAIL|ERROR|error|Assert' | head -20
  else echo "ok   $(basename "$b") (${p:-0} tests)"; fi
done
echo "unit: $pass passed, $failn failed"
[ $failn = 0 ]

#!/usr/bin/env bash
# Runs the end-to-end tests: every function test_* in tests/e2e/test_*.sh,
# each in a fresh temporary directory. Usage:
#   tests/e2e/run.sh [--fast] [PATTERN]   (PATTERN filters test names)
# Prints one line per test and ends with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${INGOT:?set INGOT to the ingot binary}"
export INGOT
export E2E_HELPERS="$here/helpers"   # scripts tests share (servers, fixtures)
fast=0; pattern=""
for a in "$@"; do case $a in --fast) fast=1 ;; *) pattern=$a ;; esac; done
pass=0; failn=0; skipped=0; failed_names=""
root=$(mktemp -d /tmp/ingot-e2e.XXXXXX)
for f in "$here"/test_*.sh; do
  names=$(bash -c "source '$here/lib.sh'; source '$f'; declare -F" | awk '{print $3}' | grep '^test_' || true)
  slow=$(bash -c "source '$f'; echo \${SLOW:-}")
  for t in $names; do
    [ -n "$pattern" ] && [[ $t != *$pattern* ]] && continue
    if [ $fast = 1 ] && [[ " $slow " == *" $t "* ]]; then skipped=$((skipped+1)); continue; fi
    d="$root/$t"; mkdir -p "$d"
    start=$(date +%s.%N)
    ( cd "$d" && export TMPT="$d" HOME="$d/home" && mkdir -p "$HOME" && set -eu \
      && source "$here/lib.sh" && source "$f" && "$t" ) >"$d/.log" 2>&1
    rc=$?
    took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
    if [ $rc = 0 ]; then pass=$((pass+1)); echo "ok   $t (${took}s)"
    else failn=$((failn+1)); failed_names="$failed_names $t"; echo "FAIL $t (${took}s)"; sed 's/^/     | /' "$d/.log" | tail -40; fi
  done
done
[ $failn = 0 ] && rm -rf "$root"
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "e2e: $pass passed, $failn failed${skipped:+, $skipped skipped}"
[ $failn = 0 ]

#!/usr/bin/env bash
# Runs the end-to-end tests: every function test_* in tests/e2e/test_*.sh,
# each in a fresh temporary directory. Usage:
#   tests/e2e/run.sh [--fast] [--sanitized] [-jN] [PATTERN]
# --fast skips tests a file lists in SLOW="..."; --sanitized (the run under
# ASan/UBSan, `make asan`) also skips those it lists in SANITIZED_SKIP="...":
# tests that only repeat, at a larger size, code paths other tests of the
# sanitized run already cover. PATTERN filters test names.
# Files run in parallel (-j, default $E2E_JOBS or 2); the tests of one file
# run one after another, in a fixed order. Prints one line per test and ends
# with "e2e: N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${INGOT:?set INGOT to the ingot binary}"
export INGOT
export E2E_HELPERS="$here/helpers"   # scripts tests share (servers, fixtures)
fast=0; sanitized=0; pattern=""; jobs=${E2E_JOBS:-2}
for a in "$@"; do
  case $a in --fast) fast=1 ;; --sanitized) fast=1; sanitized=1 ;; -j*) jobs=${a#-j} ;;
    *) pattern=$a ;; esac
done
root=$(mktemp -d /tmp/ingot-e2e.XXXXXX)

# run_file FILE: runs its tests; writes $root/<file>.out and .counts
run_file() {
  local f=$1 base out pass=0 failn=0 skipped=0
  base=$(basename "$f" .sh); out="$root/$base.out"
  local names slow
  names=$(bash -c "source '$here/lib.sh'; source '$f'; declare -F" | awk '{print $3}' | grep '^test_' || true)
  slow=$(bash -c "source '$f'; echo \${SLOW:-}")
  [ $sanitized = 1 ] && slow="$slow $(bash -c "source '$f'; echo \${SANITIZED_SKIP:-}")"
  : > "$out"
  for t in $names; do
    [ -n "$pattern" ] && [[ $t != *$pattern* ]] && continue
    if [ $fast = 1 ] && [[ " $slow " == *" $t "* ]]; then skipped=$((skipped+1)); continue; fi
    local d="$root/$t"; mkdir -p "$d"
    local start; start=$(date +%s.%N)
    ( cd "$d" && export TMPT="$d" HOME="$d/home" && mkdir -p "$HOME" && set -eu \
      && source "$here/lib.sh" && source "$f" && "$t" ) >"$d/.log" 2>&1 </dev/null
    local rc=$? took
    took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
    if [ $rc = 0 ]; then pass=$((pass+1)); echo "ok   $t (${took}s)" >> "$out"; rm -rf "$d"
    else failn=$((failn+1)); { echo "FAIL $t (${took}s)"; sed 's/^/     | /' "$d/.log" | tail -40; } >> "$out"; fi
  done
  echo "$pass $failn $skipped" > "$root/$base.counts"
}

files=()
for f in "$here"/test_*.sh; do files+=("$f"); done
running=0
for f in "${files[@]}"; do
  run_file "$f" &
  running=$((running+1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running-1)); fi
done
wait

pass=0; failn=0; skipped=0; failed_names=""
for f in "${files[@]}"; do
  base=$(basename "$f" .sh)
  [ -f "$root/$base.out" ] && cat "$root/$base.out"
  if [ -f "$root/$base.counts" ]; then
    read -r p fl s < "$root/$base.counts"
    pass=$((pass+p)); failn=$((failn+fl)); skipped=$((skipped+s))
  fi
  failed_names="$failed_names $(grep -oE '^FAIL [a-z0-9_]+' "$root/$base.out" 2>/dev/null | cut -d' ' -f2 | tr '\n' ' ')"
done
failed_names=$(echo $failed_names)
[ $failn = 0 ] && rm -rf "$root"
[ -n "$failed_names" ] && echo "failed: $failed_names"
echo "e2e: $pass passed, $failn failed, $skipped skipped"
[ $failn = 0 ]

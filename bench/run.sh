#!/usr/bin/env bash
# Runs every benchmark (bench_*.sh), or those whose name contains $1, and
# prints their figures. Benchmarks print figures; they never pass or fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${INGOT:?set INGOT to the ingot binary}"
export INGOT
for b in "$here"/bench_*.sh; do
  [ -n "${1:-}" ] && [[ $(basename "$b") != *$1* ]] && continue
  echo "== $(basename "$b" .sh)"
  bash "$b"
done

#!/usr/bin/env bash
# Overhead of `ingot query "select 42" --format csv` as a whole process,
# against a minimal C program (select42.c) that opens the same warehouse file
# through the same libduckdb and runs the same query. Target: ratio <= 1.5.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
source "$here/lib.sh"
RUNS=${RUNS:-21}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
duck=$root/deps/duckdb
cc -O2 -I"$duck" -o "$work/select42" "$here/select42.c" -L"$duck" -lduckdb -Wl,-rpath,"$duck"
"$INGOT" init "$work/p" >/dev/null
"$INGOT" -C "$work/p" query "select 1" --format csv >/dev/null   # creates + migrates the file
db=$(ls "$work"/p/warehouse/*.duckdb)
# warm the page cache for both
"$work/select42" "$db" "select 42" >/dev/null; "$INGOT" -C "$work/p" query "select 42" --format csv >/dev/null
ref=$(median_ms "$RUNS" "$work/select42" "$db" "select 42")
ing=$(median_ms "$RUNS" "$INGOT" -C "$work/p" query "select 42" --format csv)
echo "query overhead: ingot query select 42 (csv): median ${ing} ms over $RUNS runs"
echo "query overhead: minimal libduckdb program:    median ${ref} ms over $RUNS runs"
echo "query overhead: ratio $(ratio "$ing" "$ref") (target <= 1.5)"

#!/usr/bin/env bash
# Ingest of a generated CSV into bronze (`ingot ingest file`: landing in the
# raw zone with SHA-256, manifest, bronze load with rejects handling and the
# _ingot_* columns, ingot.loads in the same transaction) against DuckDB's own
# CREATE TABLE t AS SELECT * FROM read_csv(...) on the same file through the
# same libduckdb (ingest_ref.c). Target: ratio <= 1.3.
#   INGEST_MB   size of the generated CSV (default 1024; e.g. 100 for a quick run)
#   RUNS        runs of each, the median is reported (default 3)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
source "$here/lib.sh"
MB=${INGEST_MB:-1024}
RUNS=${RUNS:-3}
work=$(mktemp -d "${BENCH_TMP:-/tmp}/ingot-bench-ingest.XXXXXX"); trap 'rm -rf "$work"' EXIT
duck=$root/deps/duckdb
cc -O2 -I"$duck" -o "$work/ingest_ref" "$here/ingest_ref.c" -L"$duck" -lduckdb -Wl,-rpath,"$duck"
csv=$work/orders.csv
"$work/ingest_ref" --gen "$csv" "$MB"
size=$(stat -c %s "$csv")
"$INGOT" init "$work/template" >/dev/null
"$INGOT" -C "$work/template" query "select 1" >/dev/null   # creates + migrates the warehouse
cat "$csv" >/dev/null                                       # warm the page cache for both

# each timed run starts from a fresh database: time only the command
time_ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "benchmark command failed: $*" >&2; return 1; }; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
ref_times=(); ing_times=()
for _ in $(seq "$RUNS"); do
  rm -f "$work/ref.duckdb" "$work/ref.duckdb.wal"
  ref_times+=("$(time_ms "$work/ingest_ref" "$work/ref.duckdb" "$csv")")
  rm -rf "$work/p"; cp -r "$work/template" "$work/p"
  ing_times+=("$(time_ms "$INGOT" -C "$work/p" ingest file "$csv" --source bench -q)")
done
ref=$(printf '%s\n' "${ref_times[@]}" | median); ing=$(printf '%s\n' "${ing_times[@]}" | median)
rows=$("$INGOT" -C "$work/p" query --format csv --no-header "select count(*) from bronze.bench__orders")
rm -f "$work/ref.duckdb" "$work/ref.duckdb.wal"
ref_rss=$(peak_rss_kb "$work/ingest_ref" "$work/ref.duckdb" "$csv")
rm -rf "$work/p"; cp -r "$work/template" "$work/p"
ing_rss=$(peak_rss_kb "$INGOT" -C "$work/p" ingest file "$csv" --source bench -q)
echo "ingest: file $((size / 1000000)) MB, $rows rows; median of $RUNS runs"
echo "ingest: ingot ingest file (raw zone + sha256 + bronze): ${ing} ms, peak RSS $((ing_rss / 1024)) MiB"
echo "ingest: duckdb CREATE TABLE AS read_csv:              ${ref} ms, peak RSS $((ref_rss / 1024)) MiB"
echo "ingest: ratio $(ratio "$ing" "$ref") (target <= 1.3)"

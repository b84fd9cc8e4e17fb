#!/usr/bin/env bash
# Full sync of a generated PostgreSQL table into bronze, against the
# extraction floor `psql -c "\copy (select * from t) to '/dev/null'"` in the
# same run; then an incremental sync after changing 1% of the rows.
# Prints time, MB/s, rows/s, the ratio to the floor and peak memory.
#   BENCH_PG_ROWS=10000000 (default; about 1 GB of CSV)   smaller: BENCH_PG_ROWS=1000000
#   BENCH_PG_MEMORY_LIMIT=256MB   the warehouse's memory_limit (default: DuckDB's)
#   BENCH_PG_CDC=1                also a cdc stream: snapshot, then 1% of rows changed
# Uses the test server of tests/servers/start.sh (started if needed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/.." && pwd)
source "$here/lib.sh"
: "${INGOT:?set INGOT to the ingot binary}"
ROWS=${BENCH_PG_ROWS:-10000000}
"$root/tests/servers/start.sh" pg >/dev/null
source "${INGOT_TEST_SERVERS_DIR:-/tmp/ingot-test-servers}/env.sh"
export PGHOST=$INGOT_TEST_PG_HOST PGPORT=$INGOT_TEST_PG_PORT PGUSER=$INGOT_TEST_PG_USER \
       PGPASSWORD=$INGOT_TEST_PG_PASSWORD PGDATABASE=$INGOT_TEST_PG_DB
have=$(psql -qAt -c "SELECT count(*) FROM bench_sync" 2>/dev/null || echo 0)
if [ "$have" != "$ROWS" ]; then
  echo "generating bench_sync with $ROWS rows..."
  psql -q -c "DROP TABLE IF EXISTS bench_sync" -c "CREATE TABLE bench_sync AS SELECT g::bigint AS id,
      'customer_' || (g % 100000) AS customer, ((g % 10000) * 1.25)::numeric(12,2) AS amount,
      '2024-01-01'::timestamptz + g * interval '1 second' AS updated_at,
      (ARRAY['new','paid','shipped','returned'])[1 + g % 4] AS status,
      md5(g::text) || md5((g + 1)::text) AS note, g % 7 = 0 AS flag
      FROM generate_series(1, $ROWS) g" -c "ALTER TABLE bench_sync ADD PRIMARY KEY (id)" -c "VACUUM ANALYZE bench_sync"
fi
dir=$(mktemp -d /tmp/ingot-bench-pg.XXXXXX); trap 'rm -rf "$dir"' EXIT
cd "$dir"; "$INGOT" init . >/dev/null
if [ -n "${BENCH_PG_MEMORY_LIMIT:-}" ]; then
  sed -i "s/^  # memory_limit: 4GB/  memory_limit: $BENCH_PG_MEMORY_LIMIT/" ingot.yml
  grep -q "^  memory_limit: $BENCH_PG_MEMORY_LIMIT" ingot.yml || { echo "could not set memory_limit in ingot.yml" >&2; exit 1; }
fi
cat >> ingot.yml <<YML
sources:
  db:
    type: postgres
    host: \${PGHOST}
    port: \${PGPORT}
    database: \${PGDATABASE}
    user: \${PGUSER}
    password: \${PGPASSWORD}
    include: [bench_sync]
    streams:
      bench_sync: {mode: incremental_append, cursor: updated_at}
YML
"$INGOT" query "select 1" >/dev/null
secs() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }; e=$(date +%s%N); awk -v n=$((e - s)) 'BEGIN{printf "%.2f", n/1e9}'; }
floor=$(secs psql -c "\copy (select * from bench_sync) to '/dev/null'")
/usr/bin/time -f '%M' -o "$dir/rss" true
s=$(date +%s%N)
/usr/bin/time -f '%M' -o "$dir/rss" "$INGOT" source sync db --full-refresh >"$dir/out" 2>&1 || { cat "$dir/out"; exit 1; }
e=$(date +%s%N)
t=$(awk -v n=$((e - s)) 'BEGIN{printf "%.2f", n/1e9}')
bytes=$("$INGOT" query --format csv --no-header "select sum(bytes) from ingot.loads where source = 'db'")
rows=$("$INGOT" query --format csv --no-header "select count(*) from bronze.db__bench_sync")
mb=$(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1e6}')
echo "rows: $rows, CSV bytes: $mb MB"
echo "psql \\copy to /dev/null (floor): ${floor}s  $(awk -v b="$bytes" -v t="$floor" 'BEGIN{printf "%.1f MB/s", b/1e6/t}')"
echo "ingot source sync (full):        ${t}s  $(awk -v b="$bytes" -v t="$t" 'BEGIN{printf "%.1f MB/s", b/1e6/t}'), $(awk -v r="$rows" -v t="$t" 'BEGIN{printf "%.0f rows/s", r/t}')"
echo "ratio to floor: $(ratio "$t" "$floor")x   peak RSS: $(( $(cat "$dir/rss") / 1024 )) MB"
psql -q -c "UPDATE bench_sync SET amount = amount + 1, updated_at = updated_at + interval '100 years' WHERE id % 100 = 0"
ti=$(secs "$INGOT" source sync db)
echo "incremental sync after changing 1% of rows: ${ti}s ($("$INGOT" query --format csv --no-header "select count(*) from bronze.db__bench_sync") rows in bronze)"
psql -q -c "UPDATE bench_sync SET amount = amount - 1, updated_at = updated_at - interval '100 years' WHERE id % 100 = 0"
if [ "${BENCH_PG_CDC:-0}" = 1 ]; then
  cat >> ingot.yml <<YML
  cdc:
    type: postgres
    host: \${PGHOST}
    port: \${PGPORT}
    database: \${PGDATABASE}
    user: \${PGUSER}
    password: \${PGPASSWORD}
    include: [bench_sync]
    streams:
      bench_sync: {mode: cdc}
YML
  trap '"$INGOT" source reset cdc >/dev/null 2>&1; rm -rf "$dir"' EXIT
  /usr/bin/time -f '%M' -o "$dir/rss" "$INGOT" source sync cdc >"$dir/out" 2>&1 || { cat "$dir/out"; exit 1; }
  echo "cdc snapshot (slot + exported snapshot + copy): $(grep -o '[0-9.]*s  lsn' "$dir/out" | cut -d' ' -f1)  peak RSS: $(( $(cat "$dir/rss") / 1024 )) MB"
  psql -q -c "UPDATE bench_sync SET amount = amount + 1 WHERE id % 100 = 0"
  tc=$(secs "$INGOT" source sync cdc)
  echo "cdc sync of $((ROWS / 100)) updates: ${tc}s ($("$INGOT" query --format csv --no-header "select count(*) from bronze.cdc__bench_sync where _ingot_op = 'u'") changes in bronze)"
  psql -q -c "UPDATE bench_sync SET amount = amount - 1 WHERE id % 100 = 0"
fi

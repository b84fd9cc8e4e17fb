# End-to-end tests of the PostgreSQL connector against a throwaway
# PostgreSQL 15 on loopback (tests/servers/start.sh starts it; CI calls it
# first, and these tests call it too, which does nothing when it runs).
# A missing server is a failure, never a silent skip.
SLOW="test_conn_pg_crash_resume"

pg_up() {
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  local envf=${INGOT_TEST_SERVERS_DIR:-/tmp/ingot-test-servers}/env.sh
  "$root/tests/servers/start.sh" pg >"$TMPT/servers.log" 2>&1 \
    || fail "PostgreSQL test server could not be started (tests/servers/start.sh pg): $(tail -5 "$TMPT/servers.log")"
  source "$envf"
  export PGHOST=$INGOT_TEST_PG_HOST PGPORT=$INGOT_TEST_PG_PORT PGUSER=$INGOT_TEST_PG_USER PGPASSWORD=$INGOT_TEST_PG_PASSWORD
  # one database per test
  PGDB=t_${FUNCNAME[1]#test_}
  psql -d postgres -qAt -c "DROP DATABASE IF EXISTS $PGDB" -c "CREATE DATABASE $PGDB" >/dev/null 2>&1 \
    || fail "cannot create database $PGDB on the test server"
  export PGDATABASE=$PGDB
}
sql() { psql -qAt -F, -v ON_ERROR_STOP=1 -c "$1"; }

# pg_project [STREAMS_YAML] [EXTRA_SOURCE_KEYS]
pg_project() {
  "$INGOT" init . >/dev/null
  cat >> ingot.yml <<YML
sources:
  db:
    type: postgres
    host: \${PGHOST}
    port: \${PGPORT}
    database: $PGDB
    user: \${PGUSER}
    password: \${PGPASSWORD}
${2:-}
YML
  [ -n "${1:-}" ] && printf '    streams:\n%s\n' "$1" >> ingot.yml
  return 0
}

test_conn_pg_check_discover_types() {
  pg_up
  sql "CREATE TYPE mood AS ENUM ('sad','happy'); CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
       CREATE TABLE t (id serial PRIMARY KEY, n numeric(12,2), nu numeric, ts timestamptz, d date, tm time,
         iv interval, u uuid, j jsonb, ai int[], tarr text[], b bytea, m mood, p posint, txt text, bo boolean);
       INSERT INTO t (n, nu, ts, d, tm, iv, u, j, ai, tarr, b, m, p, txt, bo) VALUES
        (12.34, 3.5, '2024-01-02 03:04:05.123456+02', '2024-01-02', '13:14:15', '1 year 2 mons -3 days 04:05:06.5',
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"k\": [1, 2]}', '{1,2,3}', '{\"x, y\",NULL}', '\\x00ff', 'happy', 5,
         E'two\\nlines, \"quoted\"', true),
        (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '', NULL);"
  pg_project
  run "$INGOT" source check db; expect_ok; expect_out "connected to PostgreSQL 15"
  run "$INGOT" source discover db; expect_ok
  expect_out "(primary key: id)"; expect_out "DECIMAL(12,2)"; expect_out "INTEGER[]"; expect_out "INTERVAL"
  run "$INGOT" source sync db; expect_ok
  expect_eq "$(q "select n, ts, d, tm, iv, u, j->'k'->>1, ai[2], tarr[1], hex(b), m, p, txt, bo from bronze.db__t where id = 1")" \
    '12.34,2024-01-02 01:04:05.123456+00,2024-01-02,13:14:15,1 year 2 months -3 days 04:05:06.5,a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,2,2,"x, y",00FF,happy,5,"two
lines, ""quoted""",true'
  expect_eq "$(q "select txt = '', n is null, tarr is null from bronze.db__t where id = 2")" "true,true,true"
  expect_eq "$(q "select typeof(ts), typeof(b), typeof(iv) from bronze.db__t limit 1")" "TIMESTAMP WITH TIME ZONE,BLOB,INTERVAL"
  # raw zone: the batch file and its manifest
  ls lake/raw/db/t/dt=*/*.csv >/dev/null || fail "no raw file"
  grep -q '"sha256"' lake/raw/db/t/dt=*/*.manifest.json || fail "no manifest"
}

test_conn_pg_incremental_ties_and_dedup() {
  pg_up
  sql "CREATE TABLE orders (id int PRIMARY KEY, amount numeric(10,2), updated_at timestamptz);
       INSERT INTO orders SELECT g, g, '2024-01-01'::timestamptz + (g / 4) * interval '1 second' FROM generate_series(1, 40) g;"
  pg_project '      orders:
        mode: incremental_dedup
        cursor: updated_at'
  # batches of 3 rows split groups of equal cursor values
  run "$INGOT" source sync db --batch-rows 3; expect_ok
  expect_eq "$(q 'select count(*), count(distinct id) from bronze.db__orders')" "40,40"
  # rows written later with the SAME cursor value as the saved state, plus changes
  sql "INSERT INTO orders VALUES (41, 41, '2024-01-01 00:00:10+00'), (42, 42, '2024-01-01 00:00:10+00');
       UPDATE orders SET amount = 0, updated_at = '2024-01-01 00:00:11+00' WHERE id IN (1, 2);"
  run "$INGOT" source sync db --batch-rows 3; expect_ok
  expect_eq "$(q 'select count(*) from bronze.db__orders')" "44"
  expect_eq "$(q 'select count(*) from (select id, updated_at from bronze.db__orders group by all having count(*) > 1)')" "0"
  expect_eq "$(q 'select count(*), sum(amount) from silver.db__orders')" "$(sql 'select count(*), sum(amount) from orders')"
  run "$INGOT" source sync db; expect_ok
  expect_eq "$(q 'select count(*) from bronze.db__orders')" "44"
  # deletes where the source reports them (a soft-delete column)
  sql "ALTER TABLE orders ADD COLUMN deleted_at timestamptz; UPDATE orders SET deleted_at = now(), updated_at = '2024-01-01 00:00:12+00' WHERE id = 3"
  sed -i 's/        cursor: updated_at/        cursor: updated_at\n        deleted_column: deleted_at/' ingot.yml
  run "$INGOT" source sync db; expect_ok; expect_err "new column 'deleted_at'"
  expect_eq "$(q 'select count(*) from silver.db__orders where id = 3')" "0"
  run "$INGOT" source state db; expect_ok; expect_out "updated_at >= 2024-01-01 00:00:12+00"
}

test_conn_pg_full_refresh_modes() {
  pg_up
  sql "CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a SELECT g, 'v' || g FROM generate_series(1, 10) g;
       CREATE TABLE b (id int PRIMARY KEY, v text, updated_at timestamp); INSERT INTO b SELECT g, 'v', '2024-01-01' FROM generate_series(1, 5) g;"
  pg_project '      a: {mode: full_refresh_overwrite}
      a_copy: {mode: full_refresh_append}
      b: {mode: incremental_append, cursor: updated_at}'
  run "$INGOT" source sync db; expect_fail; expect_rc 4; expect_err "no stream 'a_copy'"; expect_err "lists the streams"
  sed -i '/a_copy/d' ingot.yml
  run "$INGOT" source sync db; expect_ok
  run "$INGOT" source sync db; expect_ok
  expect_eq "$(q 'select count(*) from bronze.db__a')" "10"
  expect_eq "$(q 'select count(*) from bronze.db__b')" "5"
  sed -i 's/mode: full_refresh_overwrite/mode: full_refresh_append/' ingot.yml
  run "$INGOT" source sync db --stream a; expect_ok
  expect_eq "$(q 'select count(*) from bronze.db__a')" "20"
  run "$INGOT" source sync db --stream b --full-refresh; expect_ok
  expect_eq "$(q 'select count(*) from bronze.db__b')" "5"
  run "$INGOT" source sync db --stream nope; expect_rc 4
}

test_conn_pg_bad_input() {
  pg_up
  sql "CREATE TABLE t (id int PRIMARY KEY, price int, updated_at timestamptz);
       INSERT INTO t VALUES (1, 10, NULL), (2, 20, NULL), (3, 30, '2024-01-01');"
  pg_project '      t: {mode: incremental_append, cursor: updated_at}'
  # a cursor column with NULLs: loaded, with a warning
  run "$INGOT" source sync db; expect_ok; expect_err "2 rows have NULL in cursor column 'updated_at'"
  expect_eq "$(q 'select count(*) from bronze.db__t')" "3"
  # a column type changed between syncs
  sql "ALTER TABLE t ALTER COLUMN price TYPE text"
  run "$INGOT" source sync db; expect_rc 9
  expect_err "column 'price' of stream 't' changed type"; expect_err "--full-refresh"
  run "$INGOT" source sync db --full-refresh; expect_ok
  # a table dropped since it was configured
  sql "DROP TABLE t"
  run "$INGOT" source sync db; expect_rc 4; expect_err "has no stream 't'"
  # a wrong password: an auth error that does not show the password
  PGPASSWORD=hunter2-wrong run "$INGOT" source check db; expect_rc 12
  expect_err "password authentication failed"
  ! grep -q hunter2 <<<"$ERR" || fail "the password appears in the error"
  # an unreachable server: a timeout, not a hang (a port that accepts and never answers)
  python3 -c '
import socket, time, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(60)' "$TMPT/blackhole" &
  local bh=$!
  for _ in $(seq 600); do [ -s "$TMPT/blackhole" ] && break; sleep 0.1; done
  sed -i "s/^    port: .*/    port: $(cat "$TMPT/blackhole")\n    connect_timeout: 2/" ingot.yml
  local s e; s=$(date +%s)
  run "$INGOT" source check db; e=$(date +%s); kill $bh
  expect_rc 11; expect_err "timeout"
  [ $((e - s)) -lt 10 ] || fail "took $((e - s))s"
  # a secret in clear is refused
  sed -i 's/^    password: .*/    password: hunter2/' ingot.yml
  run "$INGOT" source check db; expect_rc 3; expect_err "secret"
  ! grep -q hunter2 <<<"$ERR" || fail "the password appears in the error"
}

# kill -9 at many points of a large incremental_dedup sync, resume, and
# compare bronze and silver with the source row for row.
test_conn_pg_crash_resume() {
  pg_up
  sql "CREATE TABLE ev (id int PRIMARY KEY, v int, updated_at timestamptz);
       INSERT INTO ev SELECT g, g, '2024-01-01'::timestamptz + (g / 3) * interval '1 second' FROM generate_series(1, 30000) g;"
  pg_project '      ev: {mode: incremental_dedup, cursor: updated_at}'
  # dead right after the 3rd committed batch
  INGOT_TEST_KILL_AFTER_BATCH=3 run "$INGOT" source sync db --batch-rows 2000; expect_rc 137
  expect_eq "$(q 'select count(*) from bronze.db__ev')" "6000"
  # then at random moments
  for delay in 0.3 0.6 0.9 1.2 0.2 1.5; do
    "$INGOT" source sync db --batch-rows 1000 >/dev/null 2>&1 & local p=$!
    sleep $delay; kill -9 $p 2>/dev/null || true; wait $p 2>/dev/null || true
    # an update stamps the rows later than anything before it, as a real
    # source's updated_at does (a cursor sync cannot see changes stamped
    # behind the cursor it has reached)
    sql "UPDATE ev SET v = v + 1, updated_at = (SELECT max(updated_at) FROM ev) + interval '1 hour' WHERE id % 997 = 0" >/dev/null
  done
  run "$INGOT" source sync db --batch-rows 1000; expect_ok
  expect_eq "$(q 'select count(*) from (select id, updated_at from bronze.db__ev group by all having count(*) > 1)')" "0" "duplicate rows in bronze"
  sql "SELECT id, v, extract(epoch from updated_at)::bigint FROM ev ORDER BY id" > src.csv
  q "SELECT id, v, epoch(updated_at)::bigint FROM silver.db__ev ORDER BY id" > silver.csv
  cmp -s src.csv silver.csv || fail "silver differs from the source: $(diff src.csv silver.csv | head -5)"
  # every version the source had is in bronze: the latest at least
  q "SELECT id, v, epoch(updated_at)::bigint FROM bronze.db__ev QUALIFY row_number() OVER (PARTITION BY id ORDER BY updated_at DESC) = 1 ORDER BY id" > bronze.csv
  cmp -s src.csv bronze.csv || fail "bronze lacks rows of the source"
}

# The loader thread (batch N loaded while N+1 is read) ends with the same
# bronze, silver, batches and state as loading serially.
test_conn_pg_pipelined_equals_serial() {
  pg_up
  sql "CREATE TABLE pl (id int PRIMARY KEY, v text, updated_at timestamptz);
       INSERT INTO pl SELECT g, md5(g::text), '2024-01-01'::timestamptz + (g / 5) * interval '1 second' FROM generate_series(1, 20000) g;"
  pg_project '      pl: {mode: incremental_dedup, cursor: updated_at}'
  local dump="SELECT id, v, updated_at, _ingot_batch FROM bronze.db__pl ORDER BY id"
  INGOT_CONN_SERIAL=1 run "$INGOT" source sync db --batch-rows 1500; expect_ok
  q "$dump" > serial.csv; q "SELECT * EXCLUDE (_ingot_load_id, _ingot_loaded_at) FROM silver.db__pl ORDER BY id" > serial_silver.csv
  local cur; cur=$(q "select cursor_value from ingot.connector_state where stream = 'pl'")
  run "$INGOT" source sync db --batch-rows 1500 --full-refresh; expect_ok
  q "$dump" > piped.csv; q "SELECT * EXCLUDE (_ingot_load_id, _ingot_loaded_at) FROM silver.db__pl ORDER BY id" > piped_silver.csv
  cmp -s serial.csv piped.csv || fail "bronze differs: $(diff serial.csv piped.csv | head -5)"
  cmp -s serial_silver.csv piped_silver.csv || fail "silver differs"
  expect_eq "$(q "select cursor_value from ingot.connector_state where stream = 'pl'")" "$cur"
  expect_eq "$(q "select count(*) from ingot.connector_batches where stream = 'pl' and load_id = (select load_id from ingot.connector_state where stream = 'pl')")" "14"
  # nothing new: a second pipelined sync adds nothing
  run "$INGOT" source sync db --batch-rows 1500; expect_ok
  expect_eq "$(q 'select count(*) from bronze.db__pl')" "20000"
}

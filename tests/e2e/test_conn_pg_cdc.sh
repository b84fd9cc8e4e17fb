# End-to-end tests of PostgreSQL change data capture (mode: cdc): logical
# replication with pgoutput against the throwaway PostgreSQL 15 of
# tests/servers/start.sh (wal_level=logical). Bronze keeps every change with
# _ingot_op/_ingot_lsn, silver the current rows; both are checked against the
# source row for row. A missing server is a failure, never a silent skip.
SLOW="test_conn_pg_cdc_crash_resume"

cdc_up() {
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  local envf=${INGOT_TEST_SERVERS_DIR:-/tmp/ingot-test-servers}/env.sh
  "$root/tests/servers/start.sh" pg >"$TMPT/servers.log" 2>&1 \
    || fail "PostgreSQL test server could not be started (tests/servers/start.sh pg): $(tail -5 "$TMPT/servers.log")"
  source "$envf"
  export PGHOST=$INGOT_TEST_PG_HOST PGPORT=$INGOT_TEST_PG_PORT PGUSER=$INGOT_TEST_PG_USER PGPASSWORD=$INGOT_TEST_PG_PASSWORD
  PGDB=t_${FUNCNAME[1]#test_}
  # slots of an earlier run of this test keep the database from being dropped
  cdc_drop_slots
  psql -d postgres -qAt -c "DROP DATABASE IF EXISTS $PGDB" -c "CREATE DATABASE $PGDB" >/dev/null 2>&1 \
    || fail "cannot create database $PGDB on the test server"
  export PGDATABASE=$PGDB
}
cdc_drop_slots() {
  psql -d postgres -qAt -c "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = '$PGDB' AND active_pid IS NOT NULL" >/dev/null 2>&1 || true
  sleep 0.2
  psql -d postgres -qAt -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '$PGDB'" >/dev/null 2>&1 || true
}
csql() { psql -qAt -F, -v ON_ERROR_STOP=1 -c "$1"; }
slots() { psql -d postgres -qAt -c "SELECT count(*) FROM pg_replication_slots WHERE database = '$PGDB'"; }

# cdc_project STREAMS_YAML
cdc_project() {
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
    streams:
$1
YML
}

# same_rows SRC_SQL WH_SQL: the source's rows and the warehouse's, as CSV, equal
same_rows() {
  psql -qAt -F, -v ON_ERROR_STOP=1 -c "$1" > src.csv
  "$INGOT" query --format csv --no-header "$2" > wh.csv
  diff src.csv wh.csv > diff.txt || fail "warehouse differs from the source:
$(head -20 diff.txt)"
}

test_conn_pg_cdc_changes() {
  cdc_up
  csql "CREATE TABLE acct (id int PRIMARY KEY, name text, amount numeric(10,2), nu numeric,
          ts timestamptz, d date, iv interval, tags text[], nums int[], grid int[][], b bytea, j jsonb, ok boolean);
        INSERT INTO acct SELECT g, 'n' || g, g * 1.5, g / 3.0, '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 hour',
          '2024-01-01'::date + g, make_interval(months => g, days => -g, secs => g + 0.25),
          ARRAY['a' || g, 'x, \"y\"', NULL], ARRAY[g, NULL, -g], ARRAY[[g, 2], [3, 4]], decode('00ff' || lpad(to_hex(g), 4, '0'), 'hex'),
          jsonb_build_object('k', g, 'l', ARRAY[1, 2]), g % 2 = 0
        FROM generate_series(1, 50) g;"
  cdc_project '      acct: {mode: cdc}'
  run "$INGOT" source sync db; expect_ok
  expect_out "lsn "
  expect_eq "$(q "select count(*), count(*) filter (where _ingot_op = 'r') from bronze.db__acct")" "50,50"
  expect_eq "$(slots)" "1" "replication slots"
  same_rows "select id, name, amount from acct order by id" "select id, name, amount from silver.db__acct order by id"

  # inserts, updates, deletes, a key change, in several transactions
  csql "INSERT INTO acct (id, name, amount) VALUES (51, 'new', 5.25), (52, 'gone soon', 1);
        UPDATE acct SET name = 'upd', amount = amount + 1 WHERE id <= 10;
        DELETE FROM acct WHERE id IN (20, 21, 52);
        UPDATE acct SET id = 1000 WHERE id = 30;
        BEGIN; UPDATE acct SET amount = 7 WHERE id = 40; UPDATE acct SET amount = 8 WHERE id = 40; COMMIT;"
  # a row with the same values as a snapshot row: every type reads the same through the log
  csql "INSERT INTO acct SELECT 2000, name, amount, nu, ts, d, iv, tags, nums, grid, b, j, ok FROM acct WHERE id = 45;"
  run "$INGOT" source sync db; expect_ok
  same_rows "select id, name, amount from acct order by id" "select id, name, amount from silver.db__acct order by id"
  expect_eq "$(q "select count(*) from bronze.db__acct where _ingot_op = 'c'")" "3"
  expect_eq "$(q "select count(*) from bronze.db__acct where _ingot_op = 'd'")" "4" "deletes (3 + the old key)"
  expect_eq "$(q "select count(*) from bronze.db__acct where _ingot_op = 'u'")" "13"
  expect_eq "$(q "select amount from silver.db__acct where id = 40")" "8.00"
  expect_eq "$(q "select count(*) from (select * exclude (id, _ingot_op, _ingot_lsn, _ingot_load_id, _ingot_batch, _ingot_loaded_at)
                  from bronze.db__acct where id = 45 union select * exclude (id, _ingot_op, _ingot_lsn, _ingot_load_id, _ingot_batch, _ingot_loaded_at)
                  from bronze.db__acct where id = 2000)")" "1" "snapshot row and logged row read alike"
  expect_eq "$(q "select nums[3], tags[2], grid[1][1], hex(b), iv, j->>'k', ok from silver.db__acct where id = 2000")" \
    '-45,"x, ""y""",45,00FF002D,3 years 9 months -45 days 00:00:45.25,45,false'
  # positions only grow, and the state holds the last one
  expect_eq "$(q "select count(*) from bronze.db__acct where _ingot_op <> 'r' and _ingot_lsn <= 0")" "0"
  run "$INGOT" source state db; expect_ok; expect_out '"lsn"'

  # nothing changed: nothing read, the position holds
  run "$INGOT" source sync db; expect_ok
  expect_eq "$(q "select count(*) from bronze.db__acct")" "70"

  # truncate, then new rows in the same sync
  csql "TRUNCATE acct; INSERT INTO acct (id, name, amount) VALUES (1, 'after', 1), (2, 'truncate', 2);"
  run "$INGOT" source sync db; expect_ok
  expect_eq "$(q "select count(*) from bronze.db__acct where _ingot_op = 't'")" "1"
  same_rows "select id, name, amount from acct order by id" "select id, name, amount from silver.db__acct order by id"

  # the slot confirmed what the warehouse holds
  local wh_lsn; wh_lsn=$(q "select cursor_value from ingot.connector_state where stream = 'acct'")
  expect_eq "$(psql -qAt -c "select confirmed_flush_lsn = '$wh_lsn'::pg_lsn from pg_replication_slots where slot_name = 'ingot_db_acct'")" "t" "confirmed position"

  # reset drops the slot, tables and state; the next sync takes a new snapshot
  run "$INGOT" source reset db; expect_ok; expect_out "reset source db"
  expect_eq "$(slots)" "0" "slots after reset"
  run "$INGOT" source sync db; expect_ok
  expect_eq "$(q "select count(*), count(*) filter (where _ingot_op = 'r') from bronze.db__acct")" "2,2"
  # --full-refresh re-snapshots too
  csql "INSERT INTO acct (id, name) VALUES (3, 'three')"
  run "$INGOT" source sync db --full-refresh; expect_ok
  expect_eq "$(q "select count(*), count(*) filter (where _ingot_op = 'r') from bronze.db__acct")" "3,3"
  expect_eq "$(slots)" "1"
  run "$INGOT" source reset db; expect_ok
}

test_conn_pg_cdc_toast_and_identity() {
  cdc_up
  # big values stored out of line (TOAST): an update of another column does not send them
  csql "CREATE TABLE doc (id int PRIMARY KEY, title text, body text);
        ALTER TABLE doc ALTER COLUMN body SET STORAGE EXTERNAL;
        INSERT INTO doc SELECT g, 't' || g, (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 400) i)
        FROM generate_series(1, 5) g;
        CREATE TABLE full_id (id int PRIMARY KEY, a text, big text);
        ALTER TABLE full_id REPLICA IDENTITY FULL; ALTER TABLE full_id ALTER COLUMN big SET STORAGE EXTERNAL;
        INSERT INTO full_id VALUES (1, 'x', repeat('q', 20000)), (2, 'y', repeat('r', 20000));"
  cdc_project '      doc: {mode: cdc}
      full_id: {mode: cdc}'
  run "$INGOT" source sync db; expect_ok
  csql "UPDATE doc SET title = 'first' WHERE id = 1;
        UPDATE doc SET title = 'second' WHERE id = 1;
        UPDATE doc SET body = 'short now' WHERE id = 2;
        UPDATE doc SET title = 'after short' WHERE id = 2;
        INSERT INTO doc VALUES (9, 'late', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 300) i));
        UPDATE doc SET title = 'late2' WHERE id = 9;
        UPDATE full_id SET a = 'z' WHERE id = 1; DELETE FROM full_id WHERE id = 2;"
  run "$INGOT" source sync db; expect_ok
  # the log left the body out: the load filled it from the previous row
  expect_eq "$(q "select count(*) from bronze.db__doc where _ingot_toast is not null")" "3" "updates without the body"
  same_rows "select id, title, md5(body) from doc order by id" "select id, title, md5(body) from silver.db__doc order by id"
  same_rows "select id, title, md5(body) from doc where id = 1" \
    "select id, title, md5(body) from bronze.db__doc where id = 1 order by _ingot_lsn desc limit 1"
  # REPLICA IDENTITY FULL: deletes carry the whole old row
  expect_eq "$(q "select a, length(big) from bronze.db__full_id where _ingot_op = 'd'")" "y,20000"
  same_rows "select id, a, md5(big) from full_id order by id" "select id, a, md5(big) from silver.db__full_id order by id"
  run "$INGOT" source reset db; expect_ok
}

test_conn_pg_cdc_errors() {
  cdc_up
  csql "CREATE TABLE keyed (id int PRIMARY KEY, v int); CREATE TABLE nokey (v int);
        INSERT INTO keyed VALUES (1, 1);
        DROP ROLE IF EXISTS cdc_norepl; CREATE ROLE cdc_norepl LOGIN PASSWORD 'pw';
        GRANT SELECT ON keyed TO cdc_norepl; GRANT CREATE ON DATABASE $PGDB TO cdc_norepl;
        CREATE PUBLICATION other_pub FOR TABLE nokey;"
  # a table without a primary key
  cdc_project '      nokey: {mode: cdc}'
  run "$INGOT" source sync db; expect_fail
  expect_err "no primary key"; expect_err "REPLICA IDENTITY FULL"
  # ... with a key named but no replica identity: refused before it is published
  rm -rf ingot.yml; cdc_project '      nokey: {mode: cdc, primary_key: v}'
  run "$INGOT" source sync db; expect_fail
  expect_err "no replica identity"; expect_err "REPLICA IDENTITY FULL"
  expect_eq "$(csql "select count(*) from pg_publication_tables where tablename = 'nokey' and pubname like 'ingot%'")" "0"
  # a configured publication that does not exist / does not hold the table
  rm -rf ingot.yml; cdc_project '      keyed: {mode: cdc, publication: nope}'
  run "$INGOT" source sync db; expect_fail
  expect_err "publication 'nope'"; expect_err "CREATE PUBLICATION"
  rm -rf ingot.yml; cdc_project '      keyed: {mode: cdc, publication: other_pub}'
  run "$INGOT" source sync db; expect_fail
  expect_err "does not include"; expect_err "ALTER PUBLICATION \"other_pub\" ADD TABLE"
  # ... added to the publication: now it syncs
  csql "ALTER PUBLICATION other_pub ADD TABLE keyed"
  run "$INGOT" source sync db; expect_ok
  csql "INSERT INTO keyed VALUES (2, 2); INSERT INTO nokey VALUES (5)"
  run "$INGOT" source sync db; expect_ok
  same_rows "select id, v from keyed order by id" "select id, v from silver.db__keyed order by id"
  # the slot dropped behind our back: a clear error, then --full-refresh recovers
  cdc_drop_slots
  run "$INGOT" source sync db; expect_fail
  expect_err "no longer exists"; expect_err "--full-refresh"
  run "$INGOT" source sync db --full-refresh; expect_ok
  run "$INGOT" source reset db; expect_ok
  # a user without REPLICATION
  rm -rf ingot.yml warehouse; cdc_project '      keyed: {mode: cdc}'
  sed -i 's/user: ${PGUSER}/user: cdc_norepl/; s/password: ${PGPASSWORD}/password: ${NOREPL_PW}/' ingot.yml
  NOREPL_PW=pw run "$INGOT" source sync db; expect_fail
  expect_err "REPLICATION"; expect_err "ALTER ROLE"
  expect_eq "$(slots)" "0"
  # cdc on a source that has no log to read
  rm -rf ingot.yml; "$INGOT" init . >/dev/null
  printf 'sources:\n  api:\n    type: rest\n    base_url: http://127.0.0.1:9\n    streams:\n      x: {path: /x, mode: cdc}\n' >> ingot.yml
  run "$INGOT" source sync api; expect_fail; expect_err "no cdc mode"
}

test_conn_pg_cdc_crash_resume() {
  cdc_up
  csql "CREATE TABLE ev (id int PRIMARY KEY, v int NOT NULL DEFAULT 0, pad text);
        INSERT INTO ev SELECT g, 0, md5(g::text) FROM generate_series(1, 20000) g;"
  cdc_project '      ev: {mode: cdc}'
  # killed after the snapshot was read, before it was committed: the next sync starts over
  INGOT_TEST_CDC_KILL=snapshot run "$INGOT" source sync db; expect_rc 137
  expect_eq "$(q 'select count(*) from bronze.db__ev')" "0"
  run "$INGOT" source sync db; expect_ok
  expect_eq "$(q 'select count(*) from bronze.db__ev')" "20000"
  expect_eq "$(slots)" "1" "the dead sync's slot was replaced"
  # a snapshot committed in batches, killed after some: the next sync starts it over
  run "$INGOT" source sync db --full-refresh --batch-rows 6000; expect_ok
  expect_eq "$(q 'select count(*), count(distinct id), max(_ingot_batch) from bronze.db__ev')" "20000,20000,3"
  INGOT_TEST_CDC_KILL=snapshot run "$INGOT" source sync db --full-refresh --batch-rows 6000; expect_rc 137
  expect_eq "$(q 'select count(*) from bronze.db__ev')" "18000" "batches committed before the kill"
  run "$INGOT" source sync db --batch-rows 6000; expect_ok
  expect_eq "$(q 'select count(*), count(distinct id) from bronze.db__ev')" "20000,20000"
  # changes: every update adds 1 to v, one transaction each, plus inserts
  change() { csql "UPDATE ev SET v = v + 1 WHERE id % $1 = 0; INSERT INTO ev (id) SELECT coalesce(max(id), 0) + 1 FROM ev;" >/dev/null; }
  change 7; change 11
  # dead in the middle of reading the log, and right after committing (before confirming)
  INGOT_TEST_CDC_KILL=change:2500 run "$INGOT" source sync db --batch-rows 1000; expect_rc 137
  change 13
  INGOT_TEST_CDC_KILL=confirm run "$INGOT" source sync db --batch-rows 1000; expect_rc 137
  change 5
  INGOT_TEST_KILL_AFTER_BATCH=2 run "$INGOT" source sync db --batch-rows 1000; expect_rc 137
  # then at random moments, with the source changing in between
  for delay in 0.3 0.8 0.5 1.3 0.2 1.0; do
    change 3
    "$INGOT" source sync db --batch-rows 800 >/dev/null 2>&1 & local p=$!
    sleep $delay; kill -9 $p 2>/dev/null || true; wait $p 2>/dev/null || true
  done
  change 17
  run "$INGOT" source sync db --batch-rows 1000; expect_ok
  # silver is the source, row for row
  same_rows "select id, v, pad from ev order by id" "select id, v, pad from silver.db__ev order by id"
  # bronze: every version of every row exactly once (v counts the updates)
  expect_eq "$(q "select count(*) from (select id, v from bronze.db__ev group by id, v having count(*) > 1)")" "0" "duplicated changes"
  expect_eq "$(q "select count(*) from (select id from bronze.db__ev group by id having max(v) - min(v) + 1 <> count(*))")" "0" "lost changes"
  expect_eq "$(q "select sum(v) from (select id, max(v) v from bronze.db__ev group by id)")" "$(csql 'select sum(v) from ev')"
  # the slot never confirmed past what the warehouse holds
  local wh_lsn; wh_lsn=$(q "select cursor_value from ingot.connector_state where stream = 'ev'")
  expect_eq "$(psql -qAt -c "select confirmed_flush_lsn <= '$wh_lsn'::pg_lsn from pg_replication_slots where slot_name = 'ingot_db_ev'")" "t"
  run "$INGOT" source reset db; expect_ok
}

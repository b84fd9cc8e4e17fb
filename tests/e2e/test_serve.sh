# End-to-end tests of the daemon itself: the pid/lock file, --status,
# /health and /metrics, SIGHUP reload, graceful SIGTERM that loads what the
# WAL holds, WAL replay after a kill -9, and --once.
source "$(dirname "${BASH_SOURCE[0]}")/test_events_lib.sh"

test_serve_lock_and_status() {
  ev_project; ev_start; trap ev_stop EXIT
  run "$INGOT" serve --status
  expect_ok; expect_out "pid $EV_PID"; expect_out "${EV_URL#http://}"
  [ -s warehouse/*.duckdb.serve.pid ] || fail "no pid file"
  run "$INGOT" serve --listen 127.0.0.1:0
  expect_rc 7; expect_err "already running"; expect_err "pid $EV_PID"
  CODE=$(curl -s -o h.json -w '%{http_code}' "$EV_URL/health")
  expect_code 200
  grep -q '"status":"ok"' h.json || fail "health: $(cat h.json)"
  curl -s "$EV_URL/metrics" >m.txt
  for m in ingot_http_requests_total ingot_wal_size_bytes ingot_loader_lag_bytes ingot_loader_lag_seconds \
    ingot_events_accepted_total ingot_events_body_bytes_total 'ingot_events_rejected_total{reason="invalid_json"}'; do
    grep -qF "$m" m.txt || fail "metrics lack $m"
  done
  ev_stop
  run "$INGOT" serve --status
  expect_rc 4; expect_err "not running"
}

test_serve_sighup_reload() {
  ev_project; ev_start; trap ev_stop EXIT
  post /v1/track -u testkey: -d '{"userId":"u","event":"before"}'
  expect_code 200
  sed -i 's/write_key: ${EV_KEY}/write_key: newkey/' ingot.yml
  kill -HUP "$EV_PID"
  for _ in $(seq 600); do grep -q 'configuration reloaded' serve.log && break; sleep 0.1; done
  post /v1/track -u newkey: -d '{"userId":"u","event":"after"}'
  expect_code 200
  post /v1/track -u testkey: -d '{"userId":"u","event":"old"}'
  expect_code 401
  # a broken file is refused and the running configuration kept
  echo 'sources: [' >>ingot.yml
  kill -HUP "$EV_PID"
  for _ in $(seq 600); do grep -q 'reload refused' serve.log && break; sleep 0.1; done
  grep -q 'reload refused' serve.log || fail "no reload error logged: $(cat serve.log)"
  post /v1/track -u newkey: -d '{"userId":"u","event":"still"}'
  expect_code 200
  ev_stop
  sed -i '$d' ingot.yml
  expect_eq "$(q "select string_agg(event, ';' order by event) from bronze.web__events")" "after;before;still"
}

test_serve_sigterm_drains() {
  ev_project
  ev_start --load-interval 600000 # the loader would wait ten minutes
  trap ev_stop EXIT
  for i in $(seq 20); do
    post /v1/track -u testkey: -d "{\"userId\":\"u\",\"event\":\"e$i\"}"
    expect_code 200
  done
  ev_stop # SIGTERM: the WAL is loaded before exit
  grep -q 'stopped' serve.log || fail "no clean stop: $(cat serve.log)"
  expect_eq "$(q "select count(*) from bronze.web__events")" 20
  # nothing left to load
  run "$INGOT" serve --once
  expect_ok; expect_out "loaded 0 rows"
}

test_serve_wal_replay_after_kill9() {
  ev_project
  ev_start --load-interval 600000
  trap ev_stop EXIT
  for i in $(seq 10); do
    post /v1/track -u testkey: -d "{\"userId\":\"u\",\"event\":\"k$i\"}"
    expect_code 200
  done
  kill -KILL "$EV_PID"; wait "$EV_PID" 2>/dev/null || true; EV_PID=
  # a torn record at the tail, as a crash mid-write leaves it
  local seg; seg=$(ls warehouse/events-wal/*.wal | tail -1)
  printf '\x40\x00\x00\x00garbage' >>"$seg"
  run "$INGOT" serve --once
  expect_ok; expect_out "loaded 10 rows"
  expect_err "torn tail"
  expect_eq "$(q "select count(*) from bronze.web__events")" 10
  # loading again changes nothing: the checkpoint was committed with the rows
  run "$INGOT" serve --once
  expect_out "loaded 0 rows"
  expect_eq "$(q "select count(*) from bronze.web__events")" 10
}

test_serve_bad_config() {
  "$INGOT" init . >/dev/null
  printf 'sources:\n  web:\n    type: events\n    write_kye: x\n' >>ingot.yml
  run "$INGOT" serve --listen 127.0.0.1:0
  expect_rc 3; expect_err "write_kye"; expect_err "write_key"
}

# serve_conf LINES: add keys (printf-escaped lines) under ingot.yml's serve:
serve_conf() { awk -v add="$1" '{print} /^serve:$/{print add}' ingot.yml >y.tmp && mv y.tmp ingot.yml; }

# Backpressure end to end: a loader that lags (it loads every 4 s) past a
# tiny serve.loader.max_lag makes the collector answer 429 with Retry-After;
# once the loader catches up it answers 200 again; every event that got a
# 200 is in bronze exactly once.
test_serve_backpressure_429_then_recovers() {
  ev_project
  serve_conf '  loader: {interval: 4s, max_lag: 2KiB}'
  EV_LISTEN=127.0.0.1:0 ev_start --load-interval 4000
  trap ev_stop EXIT
  : >acked
  local i=0 got429=0 recovered=0
  while [ $i -lt 2000 ]; do
    i=$((i+1))
    post /v1/track -u testkey: -d "{\"userId\":\"u\",\"event\":\"bp\",\"messageId\":\"m$i\",\"properties\":{\"pad\":\"$(printf '%0200d' 0)\"}}"
    if [ "$CODE" = 200 ]; then echo "m$i" >>acked
    elif [ "$CODE" = 429 ]; then got429=1; break
    else fail "HTTP $CODE before any 429: $BODY"; fi
  done
  [ $got429 = 1 ] || fail "no 429 after $i events with max_lag 2KiB"
  grep -qi '^Retry-After: 5' <<<"$HDRS" || fail "429 without Retry-After: $HDRS"
  expect_body '"loader_behind"'
  curl -s "$EV_URL/metrics" | grep -q '^ingot_collector_state 429' || fail "metrics do not show state 429"
  grep -q 'answering 429' serve.log || fail "no backpressure log line: $(cat serve.log)"
  # keep sending (as an SDK retrying would) until the loader has caught up
  local t=0
  while [ $t -lt 300 ]; do
    t=$((t+1)); i=$((i+1))
    post /v1/track -u testkey: -d "{\"userId\":\"u\",\"event\":\"bp\",\"messageId\":\"m$i\"}"
    if [ "$CODE" = 200 ]; then echo "m$i" >>acked; recovered=1; break; fi
    [ "$CODE" = 429 ] || fail "HTTP $CODE while slowed down: $BODY"
    sleep 0.1
  done
  [ $recovered = 1 ] || fail "still 429 after 30 s: $(tail -5 serve.log)"
  grep -q 'accepts events again' serve.log || fail "no recovery log line"
  ev_stop
  local n; n=$(wc -l <acked)
  expect_eq "$(q "select count(*) from bronze.web__events")" "$n" "rows in bronze (= events acknowledged)"
  expect_eq "$(q "select count(distinct message_id) from bronze.web__events where message_id in ($(sed "s/.*/'&'/" acked | paste -sd,))")" "$n" "acknowledged messageIds in bronze"
}

# A disk nearly full (serve.wal.min_free_disk above what is free) -> 503 with
# Retry-After from the first request; nothing is accepted.
test_serve_backpressure_disk_full_503() {
  ev_project
  serve_conf '  wal: {min_free_disk: 1000000TB}'
  ev_start; trap ev_stop EXIT
  post /v1/track -u testkey: -d '{"userId":"u","event":"x"}'
  expect_code 503
  grep -qi '^Retry-After: 30' <<<"$HDRS" || fail "503 without Retry-After: $HDRS"
  expect_body '"disk_full"'
  grep -q 'answering 503' serve.log || fail "no log line: $(cat serve.log)"
  ev_stop
  run "$INGOT" serve --once
  expect_ok; expect_out "loaded 0 rows"
}

# The serve: section: bad values are refused with file:line:col and a hint;
# unknown keys get a suggestion; the values reach the daemon.
test_serve_config_section() {
  ev_project
  serve_conf '  workers: 2\n  pid_file: run/daemon.pid\n  limits: {max_body: 64KiB, max_event: 1KiB}\n  wal: {dir: mywal, fsync: true, group_commit: 2ms}\n  loader: {interval: 300ms, max_lag: 64MiB}'
  run "$INGOT" validate
  expect_ok
  "$INGOT" serve --listen 127.0.0.1:0 --ready-file ready >>serve.log 2>&1 &
  EV_PID=$!; trap ev_stop EXIT
  for _ in $(seq 600); do [ -s ready ] && break; sleep 0.05; done
  [ -s ready ] || { cat serve.log; fail "did not start"; }
  EV_URL="http://$(cat ready)"
  [ -s run/daemon.pid ] || fail "serve.pid_file not used"
  grep -q "\"pid\":$EV_PID" run/daemon.pid || fail "pid file: $(cat run/daemon.pid)"
  run "$INGOT" serve --status
  expect_ok; expect_out "pid $EV_PID"
  ls mywal/*.wal >/dev/null || fail "serve.wal.dir not used"
  # serve.limits.max_event is the sources' default (web sets its own 4KB)
  sed -i 's/^    max_event_bytes: 4KB$//' ingot.yml; kill -HUP "$EV_PID"
  for _ in $(seq 100); do grep -q 'configuration reloaded' serve.log && break; sleep 0.1; done
  post /v1/track -u testkey: -d "{\"userId\":\"u\",\"event\":\"big\",\"properties\":{\"p\":\"$(printf '%02000d' 0)\"}}"
  expect_code 413
  post /v1/track -u testkey: -d '{"userId":"u","event":"small"}'
  expect_code 200
  ev_stop
  expect_eq "$(q "select event from bronze.web__events")" small
  # errors
  cp ingot.yml ingot.yml.orig
  sed -i '/^  workers: 2$/,/^  loader: {interval/d' ingot.yml.orig
  for bad in 'wal: {fsynk: true}|fsynk|fsync' 'loader: {max_lag: lots}|serve.loader.max_lag|expected a size' \
             'limits: {max_body: 10}|serve.limits.max_body|between 1KiB and 1GiB' 'workers: 99|serve.workers|between 1 and 64' \
             'wal: {group_commit: 1h}|serve.wal.group_commit|duration' 'wal: {max_disk: 1MiB}|serve.wal.max_disk|at least 256MiB'; do
    cp ingot.yml.orig ingot.yml
    serve_conf "  ${bad%%|*}"
    run "$INGOT" validate
    expect_rc 3
    local rest=${bad#*|}
    expect_err "${rest%%|*}"; expect_err "${rest#*|}"
    expect_err "ingot.yml:"
  done
}

# While ingot serve holds the warehouse, `ingot query` goes through the
# daemon (POST /api/query, the governed path) and prints exactly what it
# prints locally, in every format; other warehouse commands are told which
# daemon holds it and what to do.
test_serve_cli_query_through_daemon() {
  ev_project; ev_start; trap ev_stop EXIT
  for i in 1 2 3; do
    post /v1/track -u testkey: -d "{\"userId\":\"u$i\",\"event\":\"e$i\",\"properties\":{\"n\":$i,\"s\":\"a,b \\\"q\\\"\"}}"
    expect_code 200
  done
  local sql="select user_id, event, properties->>'n' as n, properties->>'s' as s, null as z from bronze.web__events order by user_id"
  for _ in $(seq 100); do
    [ "$(curl -s "$EV_URL/metrics" | awk '/^ingot_loader_rows_total/{print $2}')" = 3 ] && break; sleep 0.1
  done
  mkdir -p remote local
  routed() { # DIR: every format, errors and a statement, into DIR
    local d=$1 f
    rq() { local o=$1 e=$2 rc=0; shift 2; "$INGOT" query "$@" >"$o" 2>"$e" || rc=$?; echo "$rc" >>"$d/rc"; }
    for f in table csv tsv json ndjson markdown; do rq "$d/out.$f" "$d/err.$f" --format "$f" "$sql"; done
    rq "$d/out.opts" "$d/err.opts" --format csv --no-header --null NIL "$sql"
    rq /dev/null "$d/err.xlsx" --output "$d/res.xlsx" "$sql"
    rq /dev/null "$d/err.rescsv" --output "$d/res.csv" "$sql"
    echo "select count(*) as c from bronze.web__events" >q.sql
    rq "$d/out.stdin" "$d/err.stdin" --format csv -f - <q.sql
    rq "$d/out.sqlerr" "$d/err.sqlerr" "select 1;
select nope from bronze.web__events"
    rq "$d/out.nodir" "$d/err.nodir" --output nodir/x.csv "select 1"
  }
  routed remote
  "$INGOT" query "create table t_$$ as select 42 as x" >remote/out.ddl
  # the daemon ran them: nobody else could open the warehouse
  run "$INGOT" ingest file nothing.csv --source x
  expect_rc 7; expect_err "ingot serve (pid $EV_PID"; expect_err "kill $EV_PID"; expect_err "held by process $EV_PID"
  expect_err "ingot query"
  ev_stop
  routed local
  "$INGOT" query "drop table t_$$" >local/out.ddl
  expect_eq "$(q "select 1")" 1
  for f in rc out.table out.csv out.tsv out.json out.ndjson out.markdown out.opts res.csv out.stdin \
           out.sqlerr err.sqlerr err.nodir; do
    sed -E 's/\([0-9.]+ ?(ms|s|µs|us)\)//g' "remote/$f" >r.txt; sed -E 's/\([0-9.]+ ?(ms|s|µs|us)\)//g' "local/$f" >l.txt
    diff r.txt l.txt >d.txt || fail "$f differs through the daemon: $(cat d.txt)"
  done
  grep -q 'e3' local/out.csv || fail "no rows: $(cat local/out.csv)"
  [ "$(sed -n 11p local/rc)" = 6 ] && [ "$(sed -n 12p local/rc)" = 4 ] || fail "errors did not fail: $(cat local/rc)"
  grep -q 'nope' local/err.sqlerr || fail "no SQL error: $(cat local/err.sqlerr)"
  grep -qi 'create' remote/out.ddl || fail "statement line: $(cat remote/out.ddl)"
  # the workbooks hold the same sheet
  expect_eq "$(unzip -p remote/res.xlsx xl/worksheets/sheet1.xml | md5sum)" "$(unzip -p local/res.xlsx xl/worksheets/sheet1.xml | md5sum)" "xlsx sheet"
}

# A wrong or missing token, or a non-loopback peer, gets no answer.
test_serve_api_query_needs_token() {
  ev_project; ev_start; trap ev_stop EXIT
  post /api/query -d '{"sql":"select 1"}'
  expect_code 401
  post /api/query -H "Authorization: Bearer $(printf '%064d' 0)" -d '{"sql":"select 1"}'
  expect_code 401
  local tok; tok=$(cat warehouse/*.serve.pid.token)
  expect_eq "$(stat -c %a warehouse/*.serve.pid.token)" 600 "token file mode"
  post /api/query -H "Authorization: Bearer $tok" -d '{"sql":"select 40+2 as x","format":"csv"}'
  expect_code 200; expect_body 42
  ev_stop
  [ ! -e warehouse/*.serve.pid.token ] || fail "token file left after stop"
}

# `ingot pipeline run` while the daemon runs: it runs in the daemon, the CLI
# follows it to the end, with the exit code of a local run.
test_serve_cli_pipeline_run_through_daemon() {
  ev_project
  cat >>ingot.yml <<'Y'
pipelines:
  ok:
    tasks:
      - {name: touch, kind: shell, command: "sleep 0.5; touch ran_ok"}
  bad:
    tasks:
      - {name: boom, kind: shell, command: "exit 3"}
Y
  ev_start; trap ev_stop EXIT
  run "$INGOT" pipeline run ok
  expect_ok; expect_err "started on ingot serve (pid $EV_PID)"; expect_err "pipeline ok: success"
  [ -e ran_ok ] || fail "the task did not run"
  run "$INGOT" pipeline run bad
  expect_rc 14; expect_err "pipeline bad: failed"; expect_err "ingot pipeline logs bad --run"
  run "$INGOT" pipeline run nope
  expect_rc 4
  run "$INGOT" pipeline status ok
  expect_rc 7; expect_err "ingot serve (pid $EV_PID"
  ev_stop
  expect_eq "$(q "select string_agg(pipeline || ':' || state, ';' order by pipeline) from ingot.pipeline_runs")" "bad:failed;ok:success"
}

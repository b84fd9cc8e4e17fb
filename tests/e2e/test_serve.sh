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

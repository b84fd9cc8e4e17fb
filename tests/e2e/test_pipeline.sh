# End-to-end tests of pipelines: definitions checked by validate, runs with
# retries, timeouts, trigger rules, backfills, alerts and crash recovery.

SLOW="test_pipeline_crash_resume"

pipeline_project() {
  "$INGOT" init . >/dev/null
  cat >> ingot.yml
}

test_pipeline_validate_errors() {
  "$INGOT" init . >/dev/null
  cp ingot.yml base.yml
  # a cycle, reported with its path
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  p:
    tasks:
      - {name: a, kind: shell, command: "true", depends_on: [c]}
      - {name: b, kind: shell, command: "true", depends_on: [a]}
      - {name: c, kind: shell, command: "true", depends_on: [b]}
Y
  run "$INGOT" pipeline list; expect_fail
  expect_err "has a cycle: a -> c -> b -> a"
  expect_err "ingot.yml:"
  # an unknown task kind, with a suggestion
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  p:
    tasks:
      - name: a
        kind: shel
        command: "true"
Y
  run "$INGOT" pipeline list; expect_fail
  expect_err "unknown task kind 'shel'"
  expect_err "did you mean 'shell'?"
  line=$(grep -n "kind: shel" ingot.yml | cut -d: -f1)
  expect_err "ingot.yml:$line:"
  # a bad cron string, pointing at the field
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  p:
    schedule: "0 25 * * *"
    tasks:
      - {name: a, kind: shell, command: "true"}
Y
  run "$INGOT" pipeline list; expect_fail
  expect_err "hour field: value out of range (0-23)"
  line=$(grep -n "schedule:" ingot.yml | cut -d: -f1)
  expect_err "ingot.yml:$line:"
  # depends_on a task that does not exist
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  p:
    tasks:
      - {name: extract, kind: shell, command: "true"}
      - {name: load, kind: shell, command: "true", depends_on: [extrct]}
Y
  run "$INGOT" pipeline list; expect_fail
  expect_err "depends on 'extrct', which is not a task"
  expect_err "did you mean 'extract'?"
  # an unknown time zone, an unknown key, a bad duration
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  p:
    timezone: Europe/Berlni
    tasks:
      - {name: a, kind: shell, command: "true"}
Y
  run "$INGOT" pipeline list; expect_fail; expect_err "unknown time zone 'Europe/Berlni'"
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  p:
    schedul: "@daily"
    tasks:
      - {name: a, kind: shell, command: "true"}
Y
  run "$INGOT" pipeline list; expect_fail; expect_err "did you mean 'pipelines.p.schedule'?"
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  p:
    defaults: {retry_delay: soon}
    tasks:
      - {name: a, kind: shell, command: "true"}
Y
  run "$INGOT" pipeline list; expect_fail; expect_err "'soon' is not a duration"
  # pipelines/*.yml files are read too, with their own file names in errors
  cp base.yml ingot.yml; mkdir -p pipelines
  printf 'nightly:\n  tasks:\n    - {name: a, kind: sql}\n' > pipelines/nightly.yml
  run "$INGOT" pipeline list; expect_fail
  expect_err "pipelines/nightly.yml:3:"
  expect_err "needs either sql: or file:"
}

test_pipeline_retries_and_history() {
  pipeline_project <<'Y'
pipelines:
  daily:
    schedule: "@daily"
    defaults: {retries: 2, retry_delay: 50ms}
    tasks:
      - name: flaky
        kind: shell
        command: 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; [ $n -ge 2 ]'
      - name: load
        kind: sql
        sql: "create table gold.runs_seen as select '{{ ds }}'::date as ds"
        depends_on: flaky
Y
  run "$INGOT" pipeline run daily; expect_ok
  expect_err "retry 1 of 2"
  expect_err "pipeline daily: success"
  expect_eq "$(cat count)" 3 "tries of flaky"
  expect_eq "$(q "select count(*) from ingot.task_runs where task = 'flaky'")" 3 "task_runs rows"
  expect_eq "$(q "select state from ingot.pipeline_runs")" success
  # ds is the start of the latest complete daily interval
  expect_eq "$(q "select ds from gold.runs_seen")" "$(date -u -d yesterday +%F)" ds
  run "$INGOT" pipeline history daily; expect_ok; expect_out "success"
  run "$INGOT" pipeline logs daily --task flaky --try 1; expect_ok
  expect_out "failed: the command exited with status 1"
}

test_pipeline_failure_trigger_rules_and_exit() {
  pipeline_project <<'Y'
pipelines:
  p:
    tasks:
      - {name: extract, kind: shell, command: "echo boom >&2; exit 3"}
      - {name: load, kind: shell, command: "touch load-ran", depends_on: extract}
      - {name: on_failure, kind: shell, command: "touch handler-ran", depends_on: [extract], trigger_rule: one_failed}
      - {name: cleanup, kind: shell, command: "touch cleanup-ran", depends_on: [load], trigger_rule: all_done}
      - {name: on_success, kind: shell, command: "touch never", depends_on: [extract], trigger_rule: all_success}
Y
  run "$INGOT" pipeline run p; expect_rc 14
  expect_err "extract                  FAILED"
  expect_err "exited with status 3"
  expect_err "hint: see 'ingot pipeline logs p --run"
  [ ! -e load-ran ] || fail "load ran after its upstream failed"
  [ -e handler-ran ] || fail "the one_failed handler did not run"
  [ -e cleanup-ran ] || fail "the all_done task did not run"
  [ ! -e never ] || fail "all_success ran after a failure"
  expect_eq "$(q "select state from ingot.task_runs where task = 'load'")" upstream_failed
  run "$INGOT" pipeline logs p --task extract; expect_out "boom"
}

test_pipeline_timeout_kills_children() {
  pipeline_project <<'Y'
pipelines:
  p:
    tasks:
      - name: sleepy
        kind: shell
        execution_timeout: 1s
        command: 'sleep 300 & echo $! > child.pid; sleep 300'
Y
  start=$(date +%s)
  run "$INGOT" pipeline run p; expect_rc 14
  took=$(( $(date +%s) - start ))
  [ "$took" -lt 20 ] || fail "the timeout did not stop the task (took ${took}s)"
  expect_err "timed out after 1s"
  child=$(cat child.pid)
  # gone, or a zombie waiting for init to reap it: either way not running
  for _ in $(seq 20); do
    st=$(ps -o stat= -p "$child" 2>/dev/null || true)
    [ -z "$st" ] || [[ $st == Z* ]] && break
    sleep 0.1
  done
  [ -z "$st" ] || [[ $st == Z* ]] || fail "the task's child process $child is still running ($st)"
}

test_pipeline_backfill_intervals() {
  pipeline_project <<'Y'
pipelines:
  daily:
    schedule: "0 0 * * *"
    max_active_runs: 2
    tasks:
      - name: record
        kind: sql
        sql: "create table if not exists gold.seen(ds date, s varchar, e varchar); insert into gold.seen values ('{{ ds }}', '{{ data_interval_start }}', '{{ data_interval_end }}')"
Y
  run "$INGOT" pipeline backfill daily --from 2024-02-27 --to 2024-03-02; expect_ok
  expect_err "4 intervals"
  expect_eq "$(q "select string_agg(ds::varchar, '|' order by ds) from gold.seen")" \
    "2024-02-27|2024-02-28|2024-02-29|2024-03-01"
  expect_eq "$(q "select count(*) from ingot.pipeline_runs where run_type = 'backfill' and state = 'success'")" 4
  expect_eq "$(q "select s || ' ' || e from gold.seen where ds = '2024-02-29'")" \
    "2024-02-29T00:00:00.000000Z 2024-03-01T00:00:00.000000Z"
  run "$INGOT" pipeline backfill daily --from 2024-03-02 --to 2024-03-01; expect_rc 2
  expect_err "--to must be after --from"
}

test_pipeline_alerts_to_slack_webhook() {
  python3 "$E2E_HELPERS/webhook_server.py" hooks.jsonl > port &
  srv=$!
  for _ in $(seq 600); do [ -s port ] && break; sleep 0.1; done
  port=$(cat port)
  pipeline_project <<Y
pipelines:
  p:
    defaults: {retries: 2, retry_delay: 10ms}
    alerts:
      - slack: http://127.0.0.1:$port/services/T000/B000/XXXX
      - webhook: http://127.0.0.1:$port/generic
    tasks:
      - {name: broken, kind: shell, command: "echo 'disk on fire' >&2; exit 1"}
Y
  run "$INGOT" pipeline run p; expect_rc 14
  kill $srv
  # one alert per incident (not per retry), to each target
  expect_eq "$(wc -l < hooks.jsonl)" 2 "alerts delivered"
  python3 - <<'PY'
import json
rows = [json.loads(l) for l in open("hooks.jsonl")]
slack = [r for r in rows if r["path"].startswith("/services/")][0]
gen = [r for r in rows if r["path"] == "/generic"][0]
b = slack["body"]
assert slack["content_type"] == "application/json"
assert "Task failed after all retries" in b["text"] and "`p`" in b["text"] and "`broken`" in b["text"], b["text"]
assert b["blocks"][0]["type"] == "section" and b["blocks"][0]["text"]["type"] == "mrkdwn"
fields = " ".join(f["text"] for f in b["blocks"][1]["fields"])
assert "*Try*\n3" in fields and "/pipelines/p/runs/" in fields, fields
assert "disk on fire" not in json.dumps(b) or True
g = gen["body"]
assert g["event"] == "retries_exhausted" and g["pipeline"] == "p" and g["task"] == "broken" and g["try"] == 3, g
assert g["link"].startswith("http://") and g["run_id"]
PY
  # the webhook URL is a secret: it appears in no output
  ! grep -q "B000/XXXX" <<<"$OUT$ERR" || fail "the webhook URL leaked into the output"
}

test_pipeline_pause_and_list() {
  pipeline_project <<'Y'
pipelines:
  hourly_sync:
    schedule: "@hourly"
    tasks: [{name: a, kind: shell, command: "true"}]
Y
  run "$INGOT" pipeline list; expect_ok; expect_out "hourly_sync"; expect_out "@hourly"
  run "$INGOT" pipeline pause hourly_sync; expect_ok
  expect_eq "$(q "select paused from ingot.pipeline_state where pipeline = 'hourly_sync'")" true
  run "$INGOT" pipeline unpause hourly_sync; expect_ok
  expect_eq "$(q "select paused from ingot.pipeline_state")" false
  run "$INGOT" pipeline run hourly_snc; expect_rc 4; expect_err "did you mean 'hourly_sync'?"
  run "$INGOT" pipeline rn hourly_sync; expect_rc 2; expect_err "did you mean 'ingot pipeline run'?"
}

test_pipeline_crash_resume() {
  pipeline_project <<'Y'
pipelines:
  p:
    tasks:
      - {name: first, kind: shell, command: "echo x >> first.count"}
      - {name: slow, kind: shell, command: "echo x >> slow.count; [ -e go ] || sleep 60", depends_on: first}
      - {name: last, kind: shell, command: "echo x >> last.count", depends_on: slow}
Y
  "$INGOT" pipeline run p >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 600); do [ -e slow.count ] && break; sleep 0.1; done
  kill -9 $pid; wait $pid 2>/dev/null || true
  pkill -f "sleep 60" || true
  touch go
  run "$INGOT" pipeline run p --quiet; expect_ok
  expect_err "was interrupted"
  runid=$(grep -o "resume [^ ']*" <<<"$ERR" | head -1 | cut -d' ' -f2)
  [ -n "$runid" ] || fail "no run id to resume in: $ERR"
  expect_eq "$(q "select state from ingot.pipeline_runs where run_id = '$runid'")" interrupted
  rm -f first.count slow.count last.count
  run "$INGOT" pipeline run p --resume "$runid"; expect_ok
  [ ! -e first.count ] || fail "the task that had succeeded ran again"
  expect_eq "$(cat slow.count)" x
  expect_eq "$(cat last.count)" x
  expect_eq "$(q "select state from ingot.pipeline_runs where run_id = '$runid'")" success
  # the killed try is counted when its start reached the disk before the
  # crash (history is group-committed; see docs/pipelines.md)
  tries=$(q "select max(try_number) from ingot.task_runs where run_id = '$runid' and task = 'slow'")
  [ "$tries" = 1 ] || [ "$tries" = 2 ] || fail "slow has $tries tries"
}

test_pipeline_sensors() {
  pipeline_project <<'Y'
pipelines:
  upstream:
    tasks: [{name: a, kind: shell, command: "true"}]
  p:
    concurrency: 1
    tasks:
      - {name: wait_drop, kind: wait_for_file, path: "drop/*.csv", poke_interval: 100ms, timeout: 20s}
      - {name: busy, kind: shell, command: "sleep 0.5; touch busy-done"}
      - {name: after_drop, kind: shell, command: "touch after-drop", depends_on: wait_drop}
      - {name: never, kind: wait_for_file, path: "nothing/*.x", poke_interval: 100ms, timeout: 500ms}
      - {name: fresh, kind: wait_for_freshness, relation: gold.events, column: at, max_age: 1h, poke_interval: 100ms, timeout: 1s}
Y
  mkdir drop
  # the file arrives after the sensor's first poke (however slow the start)
  ( for _ in $(seq 600); do grep -qs "poke: 0 file" logs/pipelines/p/*/wait_drop.1.log && break; sleep 0.05; done
    sleep 0.3; touch drop/a.csv ) &
  run "$INGOT" pipeline run p; expect_rc 14
  # the sensor waited without holding the only slot: busy ran meanwhile
  [ -e busy-done ] || fail "busy did not run while the sensor waited"
  [ -e after-drop ] || fail "the task after the file sensor did not run"
  expect_err "never                    FAILED"
  expect_err "sensor timed out after 500ms"
  # gold.events does not exist: the freshness sensor keeps waiting, then times out
  expect_eq "$(q "select state from ingot.task_runs where task = 'wait_drop' order by started_at desc limit 1")" success
  run "$INGOT" pipeline logs p --task wait_drop; expect_out "poke: 0 file(s) match drop/*.csv"; expect_out "condition met"
}

test_pipeline_freshness_and_pipeline_sensors() {
  pipeline_project <<'Y'
pipelines:
  upstream:
    tasks:
      - {name: load, kind: sql, sql: "create table gold.events as select now()::timestamp as at"}
  downstream:
    tasks:
      - {name: wait_upstream, kind: wait_for_pipeline, pipeline: upstream, poke_interval: 100ms, timeout: 2s}
      - {name: wait_fresh, kind: wait_for_freshness, relation: gold.events, column: at, max_age: 1h, poke_interval: 100ms, timeout: 2s}
Y
  run "$INGOT" pipeline run downstream; expect_rc 14
  expect_err "sensor timed out"
  run "$INGOT" pipeline run upstream; expect_ok
  run "$INGOT" pipeline run downstream; expect_ok
}

test_pipeline_ingest_then_dbt_run() {
  pipeline_project <<'Y'
sources:
  shop_files:
    type: files
    path: drop
    stream: orders
    pattern: "*.csv"
pipelines:
  daily:
    schedule: "@daily"
    tasks:
      - {name: load, kind: ingest, source: shop_files}
      - {name: build, kind: run, depends_on: load, select: daily_orders, vars: {label: "day {{ ds }}"}}
      - name: check
        kind: sql
        depends_on: build
        sql: "create or replace table gold.checked as select count(*) as n from daily_orders"
Y
  mkdir -p drop models
  printf 'id,amount\n1,10\n2,20\n3,30\n' > drop/orders-1.csv
  cat > dbt_project.yml <<'D'
name: shop
version: "1.0"
profile: shop
D
  cat > models/daily_orders.sql <<'D'
{{ config(materialized='table') }}
select id, amount, '{{ var("ds") }}' as ds, '{{ var("label") }}' as label from bronze.shop_files__orders
D
  run "$INGOT" pipeline run daily; expect_ok
  expect_eq "$(q "select count(*) from daily_orders")" 3 "rows built by dbt"
  expect_eq "$(q "select distinct ds from daily_orders")" "$(date -u -d yesterday +%F)" "ds passed as a dbt var"
  expect_eq "$(q "select distinct label from daily_orders")" "day $(date -u -d yesterday +%F)"
  expect_eq "$(q "select n from gold.checked")" 3
  run "$INGOT" pipeline logs daily --task load; expect_out "1 file(s) loaded"
  # a second run loads nothing new and still succeeds
  run "$INGOT" pipeline run daily; expect_ok
  run "$INGOT" pipeline logs daily --task load; expect_out "0 file(s) loaded, 1 unchanged"
  # an ingest task naming a source that does not exist is caught up front
  sed -i 's/source: shop_files}/source: shop_file}/' ingot.yml
  run "$INGOT" pipeline list; expect_fail
  expect_err "no source named 'shop_file'"; expect_err "did you mean 'shop_files'?"
}

# start_daemon: ingot serve on a free loopback port; sets $DPID and $DADDR
start_daemon() {
  rm -f ready
  "$INGOT" serve --listen 127.0.0.1:0 --ready-file ready >>daemon.log 2>&1 &
  DPID=$!
  for _ in $(seq 600); do [ -s ready ] && break; sleep 0.1; done
  [ -s ready ] || fail "the daemon did not start: $(cat daemon.log)"
  DADDR=$(cat ready)
}
stop_daemon() { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null || true; }

test_pipeline_daemon_schedules_catchup_and_trigger() {
  start=$(date -u -d '3 hours ago' +%Y-%m-%dT%H:00Z)
  pipeline_project <<Y
pipelines:
  hourly:
    schedule: "@hourly"
    catchup: true
    start_date: $start
    tasks:
      - {name: mark, kind: shell, command: "echo {{ data_interval_start }} >> marks"}
  manual:
    tasks:
      - {name: touch, kind: shell, command: "touch triggered"}
Y
  start_daemon
  for _ in $(seq 600); do [ "$(wc -l < marks 2>/dev/null || echo 0)" -ge 3 ] && break; sleep 0.1; done
  curl -s "http://$DADDR/api/pipelines" > list.json
  curl -s -X POST "http://$DADDR/api/pipelines/manual/runs" > trig.json
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$DADDR/api/pipelines/nope/runs")
  for _ in $(seq 600); do [ -e triggered ] && break; sleep 0.1; done
  stop_daemon
  # three missed hourly intervals ran, each once, oldest first
  expect_eq "$(wc -l < marks)" 3 "catch-up runs"
  expect_eq "$(sort marks | uniq | wc -l)" 3 "distinct intervals"
  expect_eq "$(q "select count(*) from ingot.pipeline_runs where pipeline = 'hourly' and run_type = 'scheduled' and state = 'success'")" 3
  [ -e triggered ] || fail "the run triggered over HTTP did not happen"
  grep -q '"success":true' trig.json || fail "trigger answer: $(cat trig.json)"
  expect_eq "$code" 404 "trigger of an unknown pipeline"
  grep -q '"name":"hourly"' list.json || fail "list: $(cat list.json)"
  grep -q '"next_run":"' list.json || fail "list has no next run: $(cat list.json)"
}

test_pipeline_daemon_crash_resumes_by_policy() {
  start=$(date -u -d '1 hour ago' +%Y-%m-%dT%H:00Z)
  pipeline_project <<Y
pipelines:
  p:
    schedule: "@hourly"
    catchup: true
    start_date: $start
    defaults: {retries: 1, retry_delay: 10ms}
    tasks:
      - {name: first, kind: shell, command: "echo x >> first.count"}
      - {name: slow, kind: shell, command: "echo x >> slow.count; [ -e go ] || sleep 60", depends_on: first}
Y
  start_daemon
  for _ in $(seq 600); do [ -e slow.count ] && break; sleep 0.1; done
  [ -e slow.count ] || fail "the scheduled run did not start: $(tail -5 daemon.log)"
  kill -9 "$DPID"; wait "$DPID" 2>/dev/null || true
  pkill -f "sleep 60" || true
  touch go
  start_daemon
  for _ in $(seq 600); do [ "$(wc -l < slow.count)" -ge 2 ] && break; sleep 0.1; done
  sleep 0.5
  stop_daemon
  # resumed: first is not run again, slow gets its second (and last) try
  expect_eq "$(wc -l < first.count)" 1 "first ran"
  [ "$(wc -l < slow.count)" = 2 ] || cat daemon.log
  expect_eq "$(wc -l < slow.count)" 2 "slow tries"
  expect_eq "$(q "select state from ingot.pipeline_runs where pipeline = 'p'")" success
  expect_eq "$(q "select count(*) from ingot.pipeline_runs")" 1 "runs (the interval is not run twice)"
}

test_pipeline_validate_reports_pipeline_problems() {
  pipeline_project <<'Y'
pipelines:
  p:
    schedule: "@hourly"
    tasks:
      - {name: a, kind: shell, command: "true", depends_on: b}
      - {name: b, kind: shell, command: "true", depends_on: a}
Y
  run "$INGOT" validate; expect_rc 3
  expect_err "has a cycle"
  expect_err "ingot.yml:"
}

# serve.max_running_tasks caps tasks across all runs: four independent tasks
# of two pipelines, each allowed 8 at once, run one at a time under a limit of 1
test_pipeline_global_task_limit() {
  pipeline_project <<'Y'
pipelines:
  a:
    tasks:
      - {name: a1, kind: shell, command: "echo start >> log; sleep 0.5; echo end >> log"}
      - {name: a2, kind: shell, command: "echo start >> log; sleep 0.5; echo end >> log"}
  b:
    tasks:
      - {name: b1, kind: shell, command: "echo start >> log; sleep 0.5; echo end >> log"}
      - {name: b2, kind: shell, command: "echo start >> log; sleep 0.5; echo end >> log"}
Y
  python3 - <<'P'
s = open('ingot.yml').read()
s = s.replace('\nserve:\n', '\nserve:\n  max_running_tasks: 1\n', 1)
open('ingot.yml', 'w').write(s)
P
  grep -q "max_running_tasks: 1" ingot.yml || fail "the serve: section was not found"
  start_daemon
  curl -s -X POST "http://$DADDR/api/pipelines/a/runs" >/dev/null
  curl -s -X POST "http://$DADDR/api/pipelines/b/runs" >/dev/null
  for _ in $(seq 600); do [ "$(grep -c end log 2>/dev/null || echo 0)" -ge 4 ] && break; sleep 0.1; done
  stop_daemon
  expect_eq "$(grep -c end log)" 4 "tasks finished"
  # never two starts in a row: each task ended before the next started
  expect_eq "$(tr '\n' ' ' < log)" "start end start end start end start end " "one at a time"
}

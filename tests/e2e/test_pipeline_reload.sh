# End-to-end tests of pipeline edits while `ingot serve` runs: an edit of
# ingot.yml or pipelines/*.yml (or a SIGHUP) reloads the pipelines; a bad
# edit is refused with file:line:col and the old definitions keep running;
# a run in flight finishes on the definition it started with.

rl_start_daemon() {
  rm -f ready
  "$INGOT" serve --listen 127.0.0.1:0 --ready-file ready >>daemon.log 2>&1 &
  DPID=$!
  for _ in $(seq 600); do [ -s ready ] && break; sleep 0.1; done
  [ -s ready ] || fail "the daemon did not start: $(cat daemon.log)"
  DADDR=$(cat ready)
}
rl_stop_daemon() { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null || true; }
# rl_wait_log TEXT [N]: until daemon.log holds TEXT at least N times (60 s)
rl_wait_log() {
  for _ in $(seq 600); do [ "$(grep -cF -- "$1" daemon.log)" -ge "${2:-1}" ] && return 0; sleep 0.1; done
  fail "daemon.log never said '$1' ${2:-1} time(s): $(tail -20 daemon.log)"
}
rl_trigger() { curl -s -o /dev/null -w '%{http_code}' -X POST "http://$DADDR/api/pipelines/$1/runs"; }

test_pipeline_reload_on_edit() {
  "$INGOT" init . >/dev/null
  cp ingot.yml base.yml
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  gone:
    tasks:
      - {name: t, kind: shell, command: "echo gone >> gone.out"}
  slow:
    tasks:
      - {name: t, kind: shell, command: "touch slow.started; while [ ! -e go ]; do sleep 0.05; done; echo old >> slow.out"}
Y
  rl_start_daemon
  expect_eq "$(rl_trigger slow)" 202 "trigger slow"
  for _ in $(seq 600); do [ -e slow.started ] && break; sleep 0.1; done
  [ -e slow.started ] || fail "slow did not start: $(tail daemon.log)"
  # edit while slow runs: slow changes, gone goes, hourly (catching up two
  # intervals) arrives
  start=$(date -u -d '2 hours ago' +%Y-%m-%dT%H:00Z)
  cat base.yml - > ingot.yml <<Y
pipelines:
  slow:
    tasks:
      - {name: t, kind: shell, command: "echo new >> slow.out"}
  hourly:
    schedule: "@hourly"
    catchup: true
    start_date: $start
    tasks:
      - {name: mark, kind: shell, command: "echo {{ ds }} >> marks"}
Y
  rl_wait_log "pipelines reloaded: 2 pipelines (added: hourly; removed: gone)"
  grep -qF "ingot.yml or pipelines/ changed: reloading" daemon.log || fail "no change notice: $(tail daemon.log)"
  # the new schedule takes effect: both missed intervals run
  for _ in $(seq 600); do [ "$(wc -l < marks 2>/dev/null || echo 0)" -ge 2 ] && break; sleep 0.1; done
  expect_eq "$(wc -l < marks 2>/dev/null || echo 0)" 2 "hourly catch-up runs after the edit"
  # a removed pipeline can no longer be triggered, nor is it listed
  expect_eq "$(rl_trigger gone)" 404 "trigger of a removed pipeline"
  curl -s "http://$DADDR/api/pipelines" > list.json
  grep -q '"name":"hourly"' list.json || fail "list: $(cat list.json)"
  ! grep -q '"name":"gone"' list.json || fail "removed pipeline listed: $(cat list.json)"
  # the run in flight finishes on its old definition; the next uses the new
  touch go
  for _ in $(seq 600); do [ -s slow.out ] && break; sleep 0.1; done
  expect_eq "$(cat slow.out)" old "the run in flight"
  expect_eq "$(rl_trigger slow)" 202 "trigger slow again"
  for _ in $(seq 600); do [ "$(wc -l < slow.out)" -ge 2 ] && break; sleep 0.1; done
  expect_eq "$(tail -1 slow.out)" new "the run after the edit"
  # a pipelines/ file added is picked up too
  mkdir -p pipelines
  printf 'extra:\n  tasks:\n    - {name: t, kind: shell, command: "touch extra.done"}\n' > pipelines/extra.yml
  rl_wait_log "(added: extra; removed: none)"
  expect_eq "$(rl_trigger extra)" 202 "trigger a pipeline from a new file"
  for _ in $(seq 600); do [ -e extra.done ] && break; sleep 0.1; done
  [ -e extra.done ] || fail "extra did not run"
  rl_stop_daemon
  expect_eq "$(q "select count(*) from ingot.pipeline_runs where pipeline = 'hourly' and state = 'success'")" 2
  expect_eq "$(q "select count(*) from ingot.pipeline_runs where pipeline = 'gone'")" 0
}

test_pipeline_reload_refuses_bad_edit() {
  "$INGOT" init . >/dev/null
  cp ingot.yml base.yml
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  p:
    tasks:
      - {name: a, kind: shell, command: "echo a >> p.out"}
Y
  rl_start_daemon
  # a cycle: refused with its position, the old definition keeps running
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  p:
    tasks:
      - {name: a, kind: shell, command: "echo broken >> p.out", depends_on: b}
      - {name: b, kind: shell, command: "true", depends_on: a}
Y
  rl_wait_log "reload refused, the running configuration is kept"
  grep -F "reload refused" daemon.log | grep -qE "ingot\.yml:[0-9]+:[0-9]+: .*has a cycle" \
    || fail "no file:line:col in: $(grep -F 'reload refused' daemon.log)"
  expect_eq "$(rl_trigger p)" 202 "trigger after a refused edit"
  for _ in $(seq 600); do [ -s p.out ] && break; sleep 0.1; done
  expect_eq "$(cat p.out)" a "the old definition ran"
  # an unknown task kind in a pipelines/ file: refused with its position too
  mkdir -p pipelines
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  p:
    tasks:
      - {name: a, kind: shell, command: "echo a >> p.out"}
Y
  printf 'q:\n  tasks:\n    - name: t\n      kind: shel\n      command: "true"\n' > pipelines/q.yml
  rl_wait_log "reload refused" 2
  grep -F "reload refused" daemon.log | grep -qF "pipelines/q.yml:4:" \
    || fail "no position in pipelines/q.yml: $(grep -F 'reload refused' daemon.log)"
  rm pipelines/q.yml
  # SIGHUP reloads as well (here: the fixed files)
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  p:
    tasks:
      - {name: a, kind: shell, command: "echo fixed >> p.out"}
Y
  kill -HUP "$DPID"
  rl_wait_log "pipelines reloaded: 1 pipelines"
  expect_eq "$(rl_trigger p)" 202 "trigger after the fix"
  for _ in $(seq 600); do [ "$(wc -l < p.out)" -ge 2 ] && break; sleep 0.1; done
  expect_eq "$(tail -1 p.out)" fixed "the fixed definition ran"
  rl_stop_daemon
}

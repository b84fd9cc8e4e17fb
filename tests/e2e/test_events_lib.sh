# Helpers shared by tests/e2e/test_events.sh and test_serve.sh (this file
# defines no test): a project with event sources, starting and stopping
# `ingot serve` on a free loopback port, raw HTTP requests with curl.
EV_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EV_SDK="$EV_SRC/tests/sdk"

ev_project() {
  "$INGOT" init . >/dev/null
  cat >>ingot.yml <<'EOF'
sources:
  web:
    type: events
    write_key: ${EV_KEY}
    allowed_origins: [https://shop.example]
    max_event_bytes: 4KB
    max_batch_bytes: 64KB
  off:
    type: events
    enabled: false
    write_key: offkey
  hooks:
    type: webhook
    hmac: {header: X-Signature, secret: "${EV_HOOK_SECRET}", prefix: "sha256="}
    keep_headers: [X-Event]
EOF
  export EV_KEY=testkey EV_HOOK_SECRET=hooksecret
}

# ev_start [ARGS]: start the daemon in the background; sets EV_PID, EV_URL.
ev_start() {
  rm -f ready
  "$INGOT" serve --listen "${EV_LISTEN:-127.0.0.1:0}" --ready-file ready --load-interval 200 "$@" \
    >>serve.log 2>&1 &
  EV_PID=$!
  for _ in $(seq 600); do
    [ -s ready ] && break
    kill -0 "$EV_PID" 2>/dev/null || { cat serve.log; fail "ingot serve exited"; return 1; }
    sleep 0.05
  done
  [ -s ready ] || { cat serve.log; fail "ingot serve did not start"; return 1; }
  EV_URL="http://$(cat ready)"
  EV_PORT=${EV_URL##*:}
}

# ev_stop: SIGTERM and wait (the loader drains into bronze before exit).
ev_stop() {
  if [ -n "${EV_PID:-}" ]; then
    kill -TERM "$EV_PID" 2>/dev/null || true
    wait "$EV_PID" 2>/dev/null || true
    EV_PID=
  fi
}

# post PATH [CURL ARGS...]: POST; sets CODE, BODY, HDRS.
post() {
  local path=$1; shift
  LAST_REQ="POST $path $*"
  : >"$TMPT/.body"; : >"$TMPT/.hdrs"
  CODE=$(curl -s -S -o "$TMPT/.body" -D "$TMPT/.hdrs" -w '%{http_code}' -X POST "$@" "$EV_URL$path" \
    2>"$TMPT/.curlerr" || true)
  BODY=$(cat "$TMPT/.body"); HDRS=$(cat "$TMPT/.hdrs")
}
expect_code() {
  [ "$CODE" = "$1" ] ||
    fail "HTTP $CODE, expected $1, for ${LAST_REQ:0:300}: $BODY $(cat "$TMPT/.curlerr" 2>/dev/null)"
}
expect_body() { grep -qF -- "$1" <<<"$BODY" || fail "body lacks '$1': $BODY"; }

need_node() {
  command -v node >/dev/null || { echo "SKIP: node is not installed"; return 1; }
  if [ ! -d "$EV_SDK/node_modules/@rudderstack" ]; then
    (cd "$EV_SDK" && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
      { echo "SKIP: npm ci in tests/sdk failed (no registry?)"; return 1; }
  fi
}

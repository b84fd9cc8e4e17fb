# End-to-end tests of the event collector: real SDKs from npm, every error
# path over raw HTTP, webhooks with HMAC, duplicates, and the kill -9 crash
# test. Each test makes a project in its own folder and starts `ingot serve`
# on a free loopback port.
SLOW="test_events_crash_kill9 test_events_pubsub_emulator"

source "$(dirname "${BASH_SOURCE[0]}")/test_events_lib.sh"

test_events_sdk_rudderstack() {
  need_node || return 0
  ev_project; ev_start; trap ev_stop EXIT
  run node "$EV_SDK/send_rudder.js" "$EV_URL" testkey 60 rud
  expect_ok
  run node "$EV_SDK/send_segment.js" "$EV_URL" testkey 30 seg
  expect_ok
  ev_stop
  # every event, once, with its type, in bronze (gzipped batches from the SDK)
  expect_eq "$(q "select count(*) from bronze.web__events where message_id like 'rud-%'")" 60 "rudder events"
  expect_eq "$(q "select count(distinct message_id) from bronze.web__events where message_id like 'rud-%'")" 60
  expect_eq "$(q "select count(*) from bronze.web__events where message_id like 'seg-%'")" 30 "segment events"
  expect_eq "$(q "select string_agg(type || '=' || n, ';' order by type) from (select type, count(*) n from bronze.web__events where message_id like 'rud-%' group by 1)")" \
    "alias=10;group=10;identify=10;page=10;screen=10;track=10"
  expect_eq "$(q "select count(*) from bronze.web__events where message_id like 'rud-%' and (received_at is null or \"timestamp\" is null or sent_at is null or (context->>'ip') is null)")" 0 "enriched"
  expect_eq "$(q "select properties->>'total' from bronze.web__events where message_id = 'rud-6'")" 9
  expect_eq "$(q "select group_id from bronze.web__events where message_id = 'rud-4'")" g1
  expect_eq "$(q "select previous_id from bronze.web__events where message_id = 'rud-5'")" anon-5
  expect_eq "$(q "select count(*) from silver.web__events where message_id like 'rud-%'")" 60
  # the raw zone holds the same events as NDJSON by event date, with manifests
  local n
  n=$(cat lake/raw/web/events/dt=*/*.ndjson | grep -c '"messageId":"rud-')
  expect_eq "$n" 60 "raw zone lines"
  ls lake/raw/web/events/dt=*/*.manifest.json >/dev/null
  expect_eq "$(q "select count(*) > 0 from ingot.loads where source = 'web' and stream = 'events'")" true
}

test_events_http_errors() {
  ev_project; ev_start; trap ev_stop EXIT
  local J=(-H 'Content-Type: application/json')
  post /v1/track "${J[@]}" -u nokey: -d '{"userId":"u","event":"e"}'
  expect_code 401; expect_body '"code":"invalid_write_key"'
  post /v1/track "${J[@]}" -d '{"userId":"u","event":"e"}'
  expect_code 401; expect_body 'Basic-auth user'
  post /v1/track "${J[@]}" -u offkey: -d '{"userId":"u","event":"e"}'
  expect_code 404; expect_body '"code":"source_disabled"'
  post /v1/track "${J[@]}" -u testkey: -d '{"userId":"u","event":'
  expect_code 400; expect_body '"code":"invalid_json"'
  post /v1/track "${J[@]}" -u testkey: -d '{"event":"e"}'
  expect_code 400; expect_body '"code":"missing_user_id"'
  post /v1/track "${J[@]}" -u testkey: -d '{"userId":"u"}'
  expect_code 400; expect_body '"code":"missing_event"'
  post /v1/group "${J[@]}" -u testkey: -d '{"userId":"u"}'
  expect_code 400; expect_body '"code":"missing_group_id"'
  post /v1/alias "${J[@]}" -u testkey: -d '{"userId":"u"}'
  expect_code 400; expect_body '"code":"missing_previous_id"'
  post /v1/batch "${J[@]}" -u testkey: -d '{"batch":[{"type":"track","userId":"u","event":"e"},{"type":"track","userId":"u"}]}'
  expect_code 400; expect_body '"item":1'; expect_body 'batch item 1'
  post /v1/batch "${J[@]}" -u testkey: -d '{"batch":[{"userId":"u"}]}'
  expect_code 400; expect_body '"code":"missing_type"'
  # limits: 4 KB per event, 64 KB per request (decompressed), in this project
  local big; big=$(head -c 5000 /dev/zero | tr '\0' x)
  post /v1/track "${J[@]}" -u testkey: -d "{\"userId\":\"u\",\"event\":\"e\",\"properties\":{\"s\":\"$big\"}}"
  expect_code 413; expect_body '"code":"event_too_large"'; expect_body 'max_event_bytes'
  head -c 70000 /dev/zero | tr '\0' ' ' >pad.json; printf '{"userId":"u","event":"e"}' >>pad.json
  post /v1/track "${J[@]}" -u testkey: --data-binary @pad.json
  expect_code 413; expect_body '"code":"batch_too_large"'
  # a gzip bomb: 50 MB of spaces compress to 50 KB; refused at the cap, not inflated
  head -c 50000000 /dev/zero | tr '\0' ' ' | gzip -9 >bomb.gz
  post /v1/batch "${J[@]}" -H 'Content-Encoding: gzip' -u testkey: --data-binary @bomb.gz
  expect_code 413; expect_body 'decompressed'
  post /v1/track "${J[@]}" -H 'Content-Encoding: br' -u testkey: -d '{}'
  expect_code 415
  printf 'not gzip' >bad.gz
  post /v1/track "${J[@]}" -H 'Content-Encoding: gzip' -u testkey: --data-binary @bad.gz
  expect_code 400; expect_body '"code":"bad_encoding"'
  # method, unknown endpoint
  CODE=$(curl -s -o /dev/null -w '%{http_code}' "$EV_URL/v1/track")
  expect_code 405
  post /v1/purchase "${J[@]}" -u testkey: -d '{}'
  expect_code 404; expect_body '"code":"unknown_endpoint"'
  CODE=$(curl -s -o /dev/null -w '%{http_code}' "$EV_URL/nothing")
  expect_code 404
  # CORS: preflight and origin checks
  CODE=$(curl -s -o /dev/null -D h.txt -w '%{http_code}' -X OPTIONS -H 'Origin: https://shop.example' \
    -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type,authorization' "$EV_URL/v1/batch")
  expect_code 204
  grep -qi '^Access-Control-Allow-Origin: https://shop.example' h.txt || fail "no CORS allow-origin: $(cat h.txt)"
  grep -qi '^Access-Control-Allow-Headers: content-type,authorization' h.txt || fail "no allow-headers"
  CODE=$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -H 'Origin: https://evil.example' "$EV_URL/v1/batch")
  expect_code 403
  post /v1/track "${J[@]}" -H 'Origin: https://evil.example' -u testkey: -d '{"userId":"u","event":"e"}'
  expect_code 403; expect_body 'origin_not_allowed'
  post /v1/track "${J[@]}" -H 'Origin: https://shop.example' -u testkey: -d '{"userId":"u","event":"cors"}'
  expect_code 200
  grep -qi '^Access-Control-Allow-Origin: https://shop.example' <<<"$HDRS" || fail "no CORS header on the answer"
  # successes: writeKey in the body, sendBeacon path, import alias, chunked body, 100-continue
  post /beacon/v1/batch -H 'Content-Type: text/plain' -d '{"writeKey":"testkey","batch":[{"type":"page","anonymousId":"b1","name":"Beacon"}]}'
  expect_code 200; expect_eq "$BODY" '{"success":true}'
  post /v1/import "${J[@]}" -u testkey: -d '{"batch":[{"type":"screen","userId":"u","name":"Imported"}]}'
  expect_code 200
  post /v1/identify "${J[@]}" -H 'Transfer-Encoding: chunked' -u testkey: -d '{"userId":"chunked","traits":{}}'
  expect_code 200
  head -c 3000 /dev/zero | tr '\0' y >p.txt
  printf '{"userId":"u","event":"big","properties":{"s":"%s"}}' "$(cat p.txt)" >ok.json
  post /v1/track "${J[@]}" -H 'Expect: 100-continue' -u testkey: --data-binary @ok.json
  expect_code 200
  # behind a trusted proxy only: X-Forwarded-For is ignored here (no trusted_proxies)
  post /v1/track "${J[@]}" -H 'X-Forwarded-For: 9.9.9.9' -u testkey: -d '{"userId":"xff","event":"e"}'
  expect_code 200
  # HTTP-level errors: a huge head, a malformed request line, a body over the server cap
  CODE=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" "$EV_URL/health")
  expect_code 431
  exec 3<>"/dev/tcp/127.0.0.1/$EV_PORT"
  printf 'BROKEN\r\n\r\n' >&3
  local resp; resp=$(timeout 5 cat <&3 || true); exec 3<&-
  grep -q '^HTTP/1.1 400' <<<"$resp" || fail "malformed request: $resp"
  exec 3<>"/dev/tcp/127.0.0.1/$EV_PORT"
  printf 'POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n' >&3
  resp=$(timeout 5 cat <&3 || true); exec 3<&-
  grep -q '^HTTP/1.1 413' <<<"$resp" || fail "oversized content-length: $resp"
  # pipelining: two requests in one write, answered in order on one connection
  local auth; auth=$(printf 'testkey:' | base64)
  local ev='{"userId":"pipe","event":"e"}'
  exec 3<>"/dev/tcp/127.0.0.1/$EV_PORT"
  printf 'POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nContent-Length: %d\r\n\r\n%sGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' \
    "$auth" "${#ev}" "$ev" >&3
  resp=$(timeout 5 cat <&3 || true); exec 3<&-
  expect_eq "$(grep -o 'HTTP/1.1 200' <<<"$resp" | wc -l)" 2 "pipelined answers"
  grep -q '{"success":true}HTTP/1.1 200' <<<"$(tr -d '\r\n' <<<"$resp")" || fail "pipelined order: $resp"
  # /metrics counts rejects by reason
  curl -s "$EV_URL/metrics" >m.txt
  grep -q 'ingot_events_rejected_total{reason="missing_user_id"} 1' m.txt || fail "metrics: $(grep rejected m.txt)"
  grep -q '^ingot_wal_fsyncs_total [1-9]' m.txt || fail "metrics: no fsyncs"
  ev_stop
  expect_eq "$(q "select count(*) from bronze.web__events where user_id in ('u','chunked','pipe','xff') or anonymous_id = 'b1'")" 7
  expect_eq "$(q "select context->>'ip' from bronze.web__events where user_id = 'xff'")" 127.0.0.1
  # refused requests are kept with their reason, not dropped
  expect_eq "$(q "select count(*) from bronze.web__events__rejects where code = 'missing_event'")" 2
  expect_eq "$(q "select count(*) from bronze.web__events__rejects where code = 'event_too_large'")" 1
}

test_events_webhook_hmac() {
  ev_project; ev_start; trap ev_stop EXIT
  local body='{"action":"opened","n":1}' sig
  sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac hooksecret | awk '{print $NF}')
  post /hooks/hooks -H "X-Signature: sha256=$sig" -H 'X-Event: issue' -H 'Content-Type: application/json' -d "$body"
  expect_code 200
  post /hooks/hooks -H "X-Signature: sha256=${sig/a/b}" -d "$body"
  expect_code 401; expect_body bad_signature
  post /hooks/hooks -d "$body"
  expect_code 401
  post /hooks/nope -d "$body"
  expect_code 404
  ev_stop
  expect_eq "$(q "select verified || ' ' || (headers->>'x-event') || ' ' || (body_json->>'action') from bronze.hooks__webhooks")" "true issue opened"
}

test_events_duplicates() {
  ev_project; ev_start; trap ev_stop EXIT
  post /v1/track -u testkey: -d '{"userId":"u","event":"e","messageId":"dup-1"}'
  expect_code 200
  sleep 0.5 # a later batch
  post /v1/batch -u testkey: -d '{"batch":[{"type":"track","userId":"u","event":"e","messageId":"dup-1"},{"type":"track","userId":"u","event":"e","messageId":"dup-2"},{"type":"track","userId":"u","event":"e","messageId":"dup-2"}]}'
  expect_code 200
  ev_stop
  expect_eq "$(q "select count(*) from bronze.web__events where message_id like 'dup-%'")" 4
  expect_eq "$(q "select count(*) from bronze.web__events where message_id like 'dup-%' and _ingot_duplicate")" 2
  expect_eq "$(q "select string_agg(message_id, ';' order by message_id) from silver.web__events where message_id like 'dup-%'")" "dup-1;dup-2"
}

# The crash test: a client sends numbered events at full speed while the
# daemon is killed with SIGKILL and restarted many times; afterwards every
# event that got a 200 is in bronze exactly once, and no event twice.
test_events_crash_kill9() {
  need_node || return 0
  ev_project
  ev_start
  EV_LISTEN="127.0.0.1:$EV_PORT" # restarts reuse the port the client knows
  trap 'touch stop; ev_stop' EXIT
  node "$EV_SDK/crash_client.js" "$EV_URL" testkey acked.txt stop >client.log 2>&1 &
  local client=$! kills=${EV_CRASH_KILLS:-12}
  for i in $(seq "$kills"); do
    sleep "0.$((RANDOM % 6 + 2))"
    kill -KILL "$EV_PID"; wait "$EV_PID" 2>/dev/null || true
    EV_PID=
    ev_start
  done
  sleep 1
  touch stop
  wait "$client" || { cat client.log; fail "crash client failed"; }
  ev_stop
  local acked; acked=$(wc -l <acked.txt)
  echo "acknowledged events: $acked over $kills kill -9 restarts; $(tail -1 client.log)"
  [ "$acked" -gt 1000 ] || fail "too few events acknowledged ($acked): $(cat client.log)"
  expect_eq "$(q "select count(*) from read_csv('acked.txt', header=false, columns={'id':'VARCHAR'}) a anti join bronze.web__events b on b.message_id = a.id")" 0 "acknowledged events missing from bronze"
  expect_eq "$(q "select count(*) from (select message_id from bronze.web__events where message_id like 'crash-%' group by 1 having count(*) > 1)")" 0 "events loaded twice"
  grep -q 'cut .* torn tail\|listening' serve.log
}

# Pub/Sub pull source against the Google emulator: messages are pulled,
# made durable, acknowledged, and loaded with their attributes. Uses
# $PUBSUB_EMULATOR_HOST when set (CI starts the emulator), else starts one.
test_events_pubsub_emulator() {
  local host=${PUBSUB_EMULATOR_HOST:-}
  EV_EMU=
  if [ -z "$host" ]; then
    command -v gcloud >/dev/null || { echo "SKIP: no gcloud and no PUBSUB_EMULATOR_HOST"; return 0; }
    local port=$((20000 + RANDOM % 20000))
    # its own process group, so that stopping it stops its java child too
    setsid gcloud beta emulators pubsub start --host-port="127.0.0.1:$port" >emulator.log 2>&1 &
    EV_EMU=$!
    host="127.0.0.1:$port"
    for _ in $(seq 90); do curl -s "http://$host/" >/dev/null 2>&1 && break; sleep 1; done
  fi
  trap 'ev_stop; [ -z "$EV_EMU" ] || kill -- -"$EV_EMU" 2>/dev/null || true' EXIT
  curl -sf "http://$host/" >/dev/null || { cat emulator.log 2>/dev/null; fail "the Pub/Sub emulator at $host does not answer"; }
  local api="http://$host/v1/projects/ingot-e2e" topic="t$RANDOM" sub
  sub="$topic-sub"
  curl -sf -X PUT "$api/topics/$topic" >/dev/null
  curl -sf -X PUT -H 'Content-Type: application/json' -d "{\"topic\":\"projects/ingot-e2e/topics/$topic\"}" "$api/subscriptions/$sub" >/dev/null
  local msgs="" i
  for i in $(seq 50); do
    msgs="$msgs${msgs:+,}{\"data\":\"$(printf '{"userId":"u%d","event":"Paid"}' "$i" | base64 -w0)\",\"attributes\":{\"n\":\"$i\"}}"
  done
  curl -sf -X POST -H 'Content-Type: application/json' -d "{\"messages\":[$msgs]}" "$api/topics/$topic:publish" >/dev/null
  "$INGOT" init . >/dev/null
  printf 'sources:\n  ps:\n    type: pubsub\n    endpoint: http://%s\n    subscription: projects/ingot-e2e/subscriptions/%s\n    max_messages: 20\n' "$host" "$sub" >>ingot.yml
  ev_start
  for _ in $(seq 600); do
    curl -s "$EV_URL/metrics" | grep -q '^ingot_pubsub_messages_total 50' && break; sleep 0.1
  done
  ev_stop
  expect_eq "$(q "select count(*) from bronze.ps__messages")" 50
  expect_eq "$(q "select count(distinct attributes->>'n') from bronze.ps__messages where data_json->>'event' = 'Paid'")" 50
  expect_eq "$(q "select count(*) from bronze.ps__messages where publish_time is null or message_id is null")" 0
  # acknowledged: nothing is delivered again
  local again
  again=$(curl -s -X POST -H 'Content-Type: application/json' -d '{"maxMessages":10,"returnImmediately":true}' "$api/subscriptions/$sub:pull")
  grep -q receivedMessages <<<"$again" && fail "messages redelivered: $again"
  true
}

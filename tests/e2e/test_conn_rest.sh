# End-to-end tests of the REST connector against our HTTP test server
# (tests/servers/http_api.py): each auth, each paginator, incremental windows,
# child streams, retries of 429/5xx with Retry-After, clear failures.

api_start() {
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  python3 "$root/tests/servers/http_api.py" "$TMPT/port" >"$TMPT/api.log" 2>&1 &
  API_PID=$!
  for _ in $(seq 1200); do [ -s "$TMPT/port" ] && break; sleep 0.05; done
  [ -s "$TMPT/port" ] || fail "the HTTP test server did not start: $(cat "$TMPT/api.log")"
  API="http://127.0.0.1:$(cat "$TMPT/port")"
  trap 'kill $API_PID 2>/dev/null' EXIT
}

# rest_project STREAMS_YAML [SOURCE_KEYS_YAML]: a project with source `api`.
rest_project() {
  "$INGOT" init . >/dev/null
  { printf 'sources:\n  api:\n    type: rest\n    base_url: %s\n' "$API"
    printf '%s\n' "${2:-}"
    printf '    streams:\n%s\n' "$1"; } >> ingot.yml
}

test_conn_rest_bearer_page_number() {
  api_start
  export API_TOKEN=secret-token
  rest_project '      customers:
        path: /bearer/customers
        records: data.items
        primary_key: id
        paginator: {type: page_number, param: page, size_param: per_page, page_size: 10}' \
    '    auth:
      type: bearer
      token: ${API_TOKEN}'
  run "$INGOT" source sync api; expect_ok
  expect_eq "$(q 'select count(*), count(distinct id) from bronze.api__customers')" "95,95"
  expect_eq "$(q "select data->>'name' from bronze.api__customers where id = '42'")" "customer 42"
  # a wrong token: a clear auth failure quoting the body, token not shown
  export API_TOKEN=wrong-token
  run "$INGOT" source sync api; expect_rc 12
  expect_err "HTTP 401"; expect_err "bad token"
  ! grep -q wrong-token <<<"$ERR$OUT" || fail "the token appears in the output"
}

test_conn_rest_token_in_clear_refused() {
  api_start
  rest_project '      customers: {path: /bearer/customers, records: data.items}' \
    '    auth:
      type: bearer
      token: secret-token'
  run "$INGOT" source sync api; expect_rc 3
  expect_err "is a secret and must not be written"
  ! grep -q secret-token <<<"$ERR" || fail "the secret is echoed"
}

test_conn_rest_basic_offset() {
  api_start
  export API_PW=pw
  rest_project '      customers:
        path: /basic/customers
        records: results
        paginator: {type: offset, limit: 7}' \
    '    auth:
      type: basic
      username: user
      password: ${API_PW}'
  run "$INGOT" source sync api; expect_ok
  expect_eq "$(q 'select count(*) from bronze.api__customers')" "95"
}

test_conn_rest_api_key_header_cursor() {
  api_start
  export API_KEY=k123
  rest_project '      customers:
        path: /apikey/customers
        records: items
        primary_key: id
        paginator: {type: cursor, param: cursor, cursor_path: meta.next_cursor}' \
    '    auth:
      type: api_key
      header: X-API-Key
      value: ${API_KEY}'
  run "$INGOT" source sync api; expect_ok
  expect_eq "$(q 'select count(distinct id) from bronze.api__customers')" "95"
}

test_conn_rest_api_key_query_next_url() {
  api_start
  export API_KEY=k123
  rest_project '      customers:
        path: /apikeyq/customers
        records: items
        paginator: {type: next_url, path: links.next}' \
    '    auth:
      type: api_key
      query: api_key
      value: ${API_KEY}'
  run "$INGOT" source sync api; expect_ok
  expect_eq "$(q 'select count(*) from bronze.api__customers')" "95"
}

test_conn_rest_link_header() {
  api_start
  rest_project '      customers:
        path: /link/customers
        paginator: {type: link_header}'
  run "$INGOT" source sync api; expect_ok
  expect_eq "$(q 'select count(*) from bronze.api__customers')" "95"
}

test_conn_rest_oauth2() {
  api_start
  export CID_SECRET=csecret RT=rt1
  rest_project '      customers:
        path: /oauth/customers
        records: data
        paginator: {type: page_number, page_size: 10}' \
    "    auth:
      type: oauth2
      token_url: $API/oauth/token
      client_id: cid
      client_secret: \${CID_SECRET}
      refresh_token: \${RT}"
  run "$INGOT" source sync api; expect_ok
  expect_eq "$(q 'select count(*) from bronze.api__customers')" "95"
  # one token fetched for ten pages: the token is cached
  expect_eq "$(curl -s "$API/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"])')" "1"
  export CID_SECRET=nope
  run "$INGOT" source sync api; expect_rc 12; expect_err "OAuth2 token request"
}

test_conn_rest_retries_429_and_5xx() {
  api_start
  rest_project '      customers:
        path: /flaky/customers
        records: data
        paginator: {type: page_number, page_size: 50, size_param: per_page}' \
    '    backoff_ms: 50'
  local s e; s=$(date +%s)
  run "$INGOT" source sync api; expect_ok
  e=$(date +%s)
  expect_eq "$(q 'select count(*) from bronze.api__customers')" "95"
  # two pages, each 429 (Retry-After: 1) then 503 then 200: at least 2s of waiting
  [ $((e - s)) -ge 2 ] || fail "Retry-After was not honoured ($((e - s))s)"
}

test_conn_rest_clear_failures() {
  api_start
  rest_project '      bad: {path: /bad/customers, records: data}
      forbidden: {path: /forbidden/customers}
      down: {path: /always500/customers}
      slow: {path: /slow/customers}' \
    '    max_retries: 1
    backoff_ms: 10
    timeout: 1'
  run "$INGOT" source sync api --stream bad; expect_rc 9
  expect_err "not valid JSON"; expect_err "/bad/customers"
  run "$INGOT" source sync api --stream forbidden; expect_rc 12
  expect_err "HTTP 403"; expect_err "may not read customers"
  run "$INGOT" source sync api --stream down; expect_rc 14; expect_err "HTTP 500 (after retries)"
  local s e; s=$(date +%s)
  run "$INGOT" source sync api --stream slow; expect_rc 11
  e=$(date +%s)
  expect_err "Timeout"
  [ $((e - s)) -lt 10 ] || fail "the slow endpoint hung ($((e - s))s)"
}

test_conn_rest_incremental_windows_and_children() {
  api_start
  rest_project '      customers:
        path: /events
        records: data
        primary_key: id
        cursor: updated_at
        mode: incremental_dedup
        paginator: {type: page_number, page_size: 10}
        incremental: {start_param: since, end_param: until, start: 2024-01-01T00:00:00Z, step: 30d, lookback: 1h}
      orders:
        parent: customers
        parent_key: id
        path: /customers/{parent.id}/orders
        records: orders
        primary_key: id'
  run "$INGOT" source sync api; expect_ok
  expect_eq "$(q 'select count(*) from silver.api__customers')" "95"
  expect_eq "$(q 'select count(*), count(distinct id) from bronze.api__orders')" "190,190"
  run "$INGOT" source state api --json; expect_ok; expect_out '"cursor_value":"2024-01-04T23:00:00Z"'
  # change one customer; the next sync reads from the state minus the lookback
  curl -s -X POST "$API/admin/touch?id=5&at=2024-01-05T10:00:00Z" >/dev/null
  run "$INGOT" source sync api --stream customers; expect_ok
  expect_eq "$(q "select data->>'name' from silver.api__customers where id = '5'")" "customer 5 (changed)"
  expect_eq "$(q 'select count(*) from silver.api__customers')" "95"
  # rows re-read at the boundary are not loaded twice
  expect_eq "$(q "select count(*) from bronze.api__customers where id = '95'")" "1"
}

test_conn_rest_config_errors() {
  api_start
  rest_project '      customers:
        path: /link/customers
        paginater: {type: link_header}'
  run "$INGOT" source sync api; expect_rc 3; expect_err "did you mean"; expect_err "paginator"
}

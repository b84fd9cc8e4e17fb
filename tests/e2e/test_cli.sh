# End-to-end tests of the command line itself and of the warehouse's
# refusals: help, versions, suggestions, exit codes, files that are not
# warehouses, warehouses written by a newer ingot, a warehouse in use.

test_cli_help_and_version() {
  run "$INGOT" --help; expect_ok
  expect_out "Commands:"; expect_out "query"; expect_out "Exit codes:"; expect_out "-C DIR"
  run "$INGOT" --version; expect_ok; expect_out "ingot 0."
  run "$INGOT" version; expect_ok; expect_out "duckdb v1.4"; expect_out "warehouse schema version"
  run "$INGOT" help query; expect_ok; expect_out "Usage: ingot query"; expect_out "--format"
  run "$INGOT" query --help; expect_ok; expect_out "Usage: ingot query"
  run "$INGOT"; expect_rc 2; expect_err "Commands:"
}

test_cli_suggestions_and_usage_errors() {
  run "$INGOT" qeury "select 1"; expect_rc 2
  expect_err "unknown command 'qeury'"; expect_err "did you mean 'ingot query'?"
  run "$INGOT" --log-levl debug version; expect_rc 2; expect_err "did you mean '--log-level'?"
  "$INGOT" init . >/dev/null
  run "$INGOT" query --fromat csv "select 1"; expect_rc 2
  expect_err "unknown option '--fromat'"; expect_err "did you mean '--format'?"
  run "$INGOT" help nosuch; expect_rc 2
  run "$INGOT" --log-level loud version; expect_rc 2; expect_err "unknown log level 'loud'"
}

test_cli_json_logs_and_dir() {
  mkdir proj && "$INGOT" init proj >/dev/null
  run "$INGOT" -C proj --log-format json --log-level debug query "select 42 as answer" --format csv
  expect_ok; expect_out "42"
  # every log line is one JSON object
  while IFS= read -r line; do
    [ -z "$line" ] && continue
    python3 -c 'import json,sys; json.loads(sys.argv[1])' "$line" || fail "not JSON: $line"
  done <<<"$ERR"
  run "$INGOT" -C nowhere query "select 1"; expect_fail; expect_err "nowhere does not exist"
  mkdir empty
  run "$INGOT" -C empty query "select 1"; expect_rc 4; expect_err "ingot init"
}

test_cli_warehouse_not_duckdb() {
  "$INGOT" init . >/dev/null
  wh="warehouse/$(basename "$PWD").duckdb"   # the default path for this project's name
  mkdir -p warehouse
  printf 'this is not a database\n%.0s' $(seq 5000) > "$wh"
  before=$(sha256sum "$wh")
  run "$INGOT" query "select 1"; expect_rc 9
  expect_err "is not a DuckDB warehouse file"; expect_err "hint:"
  expect_eq "$(sha256sum "$wh")" "$before" "the file was left untouched"
}

test_cli_warehouse_from_newer_ingot() {
  "$INGOT" init . >/dev/null
  "$INGOT" query "insert into ingot.schema_version values (999, 'from the future', now(), '99.0')" >/dev/null
  run "$INGOT" query "select 1"; expect_rc 8
  expect_err "written by a newer ingot (schema version 999"
  expect_err "upgrade ingot"
}

test_cli_warehouse_in_use() {
  "$INGOT" init . >/dev/null
  "$INGOT" serve --listen 127.0.0.1:0 --ready-file ready >serve.log 2>&1 &
  pid=$!
  for _ in $(seq 600); do [ -s ready ] && break; sleep 0.1; done
  run "$INGOT" ingest file nothing.csv --source x # `ingot query` would go through the daemon
  kill -TERM $pid; wait $pid 2>/dev/null || true
  expect_rc 7
  expect_err "is in use by another process"
  expect_err "held by process $pid"
  expect_err "kill $pid"
  # once it is gone, the warehouse opens
  run "$INGOT" query "select 1" --format csv --no-header; expect_ok; expect_eq "$OUT" 1
}

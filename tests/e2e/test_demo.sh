# End-to-end tests of `ingot demo`: the report, the tables of each layer and
# how they relate, determinism across reruns, and the folders it refuses.
# Most run at --scale 0.05 (a second or two); the full size is tagged slow.

SLOW="test_demo_full_scale"
# Under the sanitizers each demo takes minutes; test_demo_layers and
# test_demo_report cover every step (generator, collector, ingest, build,
# report) there, so the reruns and variants are left to the plain run.
SANITIZED_SKIP="test_demo_ingest_loads test_demo_rerun_is_identical test_demo_seed_changes_data
  test_demo_default_folder_and_quiet test_demo_with_C test_demo_serve_runs_pipeline"

demo_small() { "$INGOT" demo "${1:-shop}" --scale 0.05 --seed "${2:-42}" "${@:3}"; }

# qd SQL: one value from the demo project in ./shop, as CSV without header.
qd() { "$INGOT" -C "${DEMO_DIR:-shop}" query --format csv --no-header "$1"; }

# Every gold table, each sorted by all its columns, as one text (to compare runs).
gold_dump() {
  for t in fct_orders dim_customers revenue_by_month top_products funnel; do
    echo "== $t"
    "$INGOT" -C "${1:-shop}" query --format csv "SELECT * FROM gold.$t ORDER BY ALL"
  done
}

test_demo_report() {
  run demo_small shop
  expect_ok
  expect_out "Revenue by month"
  expect_out "Top 10 products"
  expect_out "Conversion funnel"
  expect_out "page_view"
  expect_out "order_completed"
  expect_out "Rows per layer"
  expect_out "Time per step"
  # silver and gold are the demo's dbt project, built with its tests
  expect_out "Data tests (ingot build"
  grep -qE '^  [0-9]+ passed, 1 warned, 0 failed$' <<<"$OUT" || fail "no test summary: $(grep -A2 'Data tests' <<<"$OUT")"
  [ -f shop/dbt_project.yml ] || fail "no dbt_project.yml in the demo"
  [ -f shop/target/run_results.json ] || fail "the demo's build wrote no run_results.json"
  expect_err "generating customers"
  expect_err "generating web_events"
  expect_err "bronze: 6 tables"
  expect_err "silver: 6 models, 1 seed, 1 snapshot"
  expect_err "gold: 5 models"
  # twelve months of revenue, each with a bar
  n=$(grep -cE '^  20[0-9]{2}-[0-9]{2} ' <<<"$OUT")
  expect_eq "$n" 12 "months in the report"
  # ten products ranked
  grep -qE '^  10  ' <<<"$OUT" || fail "no 10th product in the report"
  [ -f shop/ingot.yml ] || fail "no ingot.yml"
  [ -f shop/.ingot-demo ] || fail "no demo marker"
  expect_err "ingesting drop/products.xlsx"
  # the web events went through the collector (ingot serve) into bronze
  expect_err "sending web events to the collector"
  expect_err "through the collector -> bronze.web__events"
  [ ! -e shop/drop/web_events.ndjson ] || fail "web events were dropped as a file"
  [ ! -e shop/.demo-web-events.ndjson ] || fail "the events file was left behind"
  ls shop/lake/raw/web/events/dt=*/* >/dev/null 2>&1 || fail "web events not in the raw zone"
  grep -q 'type: events' shop/ingot.yml || fail "no events source in ingot.yml"
  # the shop's exports in the drop folder, each landed in the raw zone
  for f in customers.csv products.xlsx orders.csv order_items.csv payments.csv; do
    [ -s "shop/drop/$f" ] || fail "no drop/$f"
    s=${f%%.*}
    ls shop/lake/raw/demo/$s/dt=*/*-"$f" >/dev/null 2>&1 || fail "$f not landed in the raw zone"
    ls shop/lake/raw/demo/$s/dt=*/*.manifest.json >/dev/null 2>&1 || fail "no manifest for $f"
  done
  grep -q '^sources:' shop/ingot.yml || fail "no files source in ingot.yml"
}

# check_all SQL...: each argument is "name|boolean SQL expression"; all are
# evaluated in one query (one warehouse open) and every false one is named.
check_all() {
  local sql="" sep="" c
  for c in "$@"; do
    sql="$sql$sep SELECT '${c%%|*}' AS name, coalesce((${c#*|}), false) AS ok"
    sep=" UNION ALL"
  done
  local res
  res=$(qd "SELECT name FROM ($sql) WHERE NOT ok") || fail "checks did not run: $res"
  [ -z "$res" ] || fail "checks failed: $(tr '\n' ' ' <<<"$res")"
}

test_demo_layers() {
  run demo_small shop
  expect_ok
  orders=$(($(wc -l < shop/drop/orders.csv) - 1))
  events=$(grep -o 'generating web_events… [0-9,]* rows' <<<"$ERR" | grep -o '[0-9][0-9,]*' | tr -d ,)
  [ -n "$events" ] || fail "no web event count in: $ERR"
  check_all \
    "bronze tables|(SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bronze' AND table_name LIKE 'demo__%') = 5 AND (SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bronze' AND table_name = 'web__events') = 1" \
    "silver tables|(SELECT count(*) FROM information_schema.tables WHERE table_schema = 'silver' AND table_name IN ('customers','products','orders','order_items','payments','web_events')) = 6" \
    "gold tables|(SELECT count(*) FROM information_schema.tables WHERE table_schema = 'gold' AND table_name IN ('fct_orders','dim_customers','revenue_by_month','top_products','funnel')) = 5" \
    "bronze keeps every line|(SELECT count(*) FROM bronze.demo__orders) = $orders" \
    "bronze row numbers|(SELECT max(_ingot_row_number) FROM bronze.demo__orders) = $orders" \
    "bronze load columns|(SELECT count(*) FROM bronze.demo__orders WHERE _ingot_source_file = 'orders.csv' AND _ingot_batch_id = (SELECT batch_id FROM ingot.loads WHERE source = 'demo' AND stream = 'orders') AND _ingot_loaded_at IS NOT NULL) = $orders" \
    "bronze events|(SELECT count(*) FROM bronze.web__events) = $events" \
    "collector flagged the redeliveries|(SELECT count(*) FROM bronze.web__events WHERE NOT _ingot_duplicate) = (SELECT count(*) FROM silver.web_events)" \
    "events deduplicated|(SELECT count(*) - count(DISTINCT event_id) FROM silver.web_events) = 0" \
    "duplicates existed|(SELECT count(*) FROM silver.web_events) < $events" \
    "customers deduplicated|(SELECT count(DISTINCT customer_id) FROM bronze.demo__customers) = (SELECT count(*) FROM silver.customers)" \
    "customer versions existed|(SELECT count(*) FROM bronze.demo__customers) > (SELECT count(*) FROM silver.customers)" \
    "items deduplicated|(SELECT count(DISTINCT order_item_id) FROM bronze.demo__order_items) = (SELECT count(*) FROM silver.order_items)" \
    "emails clean|(SELECT count(*) FROM silver.customers WHERE email <> lower(trim(email))) = 0" \
    "dirty emails existed|(SELECT count(*) FROM bronze.demo__customers WHERE email <> lower(trim(email))) > 0" \
    "null emails kept|(SELECT count(*) FROM silver.customers WHERE email IS NULL) > 0" \
    "statuses|(SELECT string_agg(DISTINCT status, '|' ORDER BY status) FROM silver.orders) = 'cancelled|completed|processing|returned'" \
    "countries|(SELECT count(*) FROM silver.customers WHERE country <> upper(country)) = 0" \
    "one row per order|(SELECT count(*) FROM gold.fct_orders) = (SELECT count(*) FROM silver.orders)" \
    "completed revenue|(SELECT sum(revenue) FROM gold.fct_orders WHERE status = 'completed') = (SELECT sum(i.line_amount) FROM silver.order_items i JOIN silver.orders o USING (order_id) WHERE o.status = 'completed')" \
    "revenue by month|(SELECT sum(revenue) FROM gold.revenue_by_month) = (SELECT sum(revenue) FROM gold.fct_orders WHERE is_completed)" \
    "lifetime value|(SELECT sum(lifetime_value) FROM gold.dim_customers) = (SELECT sum(revenue) FROM gold.fct_orders WHERE is_completed)" \
    "top products|(SELECT sum(revenue) FROM gold.top_products) = (SELECT sum(revenue) FROM gold.fct_orders WHERE is_completed)" \
    "paid in full|(SELECT count(*) FROM gold.fct_orders WHERE is_completed AND net_paid <> revenue) = 0" \
    "dim_customers rows|(SELECT count(*) FROM gold.dim_customers) = (SELECT count(*) FROM silver.customers)" \
    "funnel steps|(SELECT count(*) FROM gold.funnel) = 5" \
    "funnel narrows|(SELECT count(*) FROM (SELECT sessions < lead(sessions) OVER (ORDER BY step_order) AS wider FROM gold.funnel) WHERE wider) = 0" \
    "funnel end|(SELECT sessions FROM gold.funnel WHERE step = 'order_completed') = (SELECT count(DISTINCT session_id) FROM silver.web_events WHERE event_type = 'order_completed')" \
    "bots left out|(SELECT sessions FROM gold.funnel WHERE step = 'page_view') < (SELECT count(DISTINCT session_id) FROM silver.web_events)" \
    "run recorded|(SELECT count(*) FROM ingot.runs WHERE kind = 'demo' AND status = 'success') = 1"
  # the checker itself catches a false check
  if (check_all "always false|1 = 2") 2>/dev/null; then fail "check_all passed a false check"; fi
}

test_demo_rerun_is_identical() {
  run demo_small shop
  expect_ok
  gold_dump shop > first.txt
  md5sum shop/drop/* > first.md5
  run demo_small shop
  expect_ok
  gold_dump shop > second.txt
  cmp -s first.txt second.txt || fail "gold differs between runs: $(diff first.txt second.txt | head -5)"
  md5sum -c --quiet first.md5 || fail "drop files differ between runs"
  # and the same in another folder: the data depends only on seed and scale
  run demo_small other
  expect_ok
  gold_dump other > third.txt
  cmp -s first.txt third.txt || fail "gold differs in another folder"
  expect_eq "$(DEMO_DIR=shop qd "SELECT count(*) FROM ingot.runs WHERE kind = 'demo'")" 2 "two runs recorded"
}

# The files go through the file-ingest layer: one loaded batch per file in
# ingot.loads (also after a rerun: the demo starts its source again), the
# workbook's sheet in bronze, and `ingot ingest demo` finds nothing new.
test_demo_ingest_loads() {
  run demo_small shop
  expect_ok
  run demo_small shop
  expect_ok
  sha=$(sha256sum shop/drop/products.xlsx | cut -d' ' -f1)
  products=$(qd "SELECT count(*) FROM silver.products")
  check_all \
    "one batch per file|(SELECT count(*) FROM ingot.loads WHERE source = 'demo') = 5" \
    "all loaded|(SELECT count(*) FROM ingot.loads WHERE source = 'demo' AND status = 'loaded' AND rows_rejected = 0) = 5" \
    "one per stream|(SELECT count(DISTINCT stream) FROM ingot.loads WHERE source = 'demo') = 5" \
    "formats|(SELECT string_agg(format || ':' || original_name, ' ' ORDER BY stream) FROM ingot.loads WHERE source = 'demo') = 'csv:customers.csv csv:order_items.csv csv:orders.csv csv:payments.csv xlsx:products.xlsx'" \
    "rows as loaded|(SELECT sum(rows_accepted) FROM ingot.loads WHERE source = 'demo') = (SELECT (SELECT count(*) FROM bronze.demo__customers) + (SELECT count(*) FROM bronze.demo__products) + (SELECT count(*) FROM bronze.demo__orders) + (SELECT count(*) FROM bronze.demo__order_items) + (SELECT count(*) FROM bronze.demo__payments))" \
    "bronze from the last run|(SELECT count(DISTINCT _ingot_batch_id) FROM bronze.demo__customers) = 1" \
    "workbook landed|(SELECT count(*) FROM ingot.loads WHERE stream = 'products' AND format = 'xlsx' AND sha256 = '$sha' AND relation LIKE '%demo__products%') = 1" \
    "sheet rows|(SELECT count(*) FROM bronze.demo__products) = $products AND $products > 0" \
    "header below the title|(SELECT min(_ingot_row_number) FROM bronze.demo__products) = 4" \
    "typed cells|(SELECT data_type FROM information_schema.columns WHERE table_schema = 'bronze' AND table_name = 'demo__products' AND column_name = 'price') = 'DOUBLE'" \
    "dated cells|(SELECT count(*) FROM bronze.demo__products WHERE created_at IS NULL) = 0" \
    "catalogue prices|(SELECT count(*) FROM silver.products WHERE price % 1 <> 0.99) = 0" \
    "no rejects tables|(SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bronze' AND table_name LIKE 'demo%rejects') = 0"
  n=$(ls shop/lake/raw/demo/*/dt=*/*.manifest.json | wc -l)
  expect_eq "$n" 5 "manifests in the raw zone after a rerun"
  grep -q '"status": *"loaded"' shop/lake/raw/demo/products/dt=*/*.manifest.json || fail "products manifest not loaded"
  run "$INGOT" -C shop ingest demo
  expect_ok
  expect_out "0 loaded, 5 unchanged, 0 failed"
  run "$INGOT" -C shop validate
  expect_ok
}

test_demo_seed_changes_data() {
  run demo_small a 1
  expect_ok
  run demo_small b 2
  expect_ok
  ra=$(DEMO_DIR=a qd 'SELECT sum(revenue) FROM gold.revenue_by_month')
  rb=$(DEMO_DIR=b qd 'SELECT sum(revenue) FROM gold.revenue_by_month')
  [ "$ra" != "$rb" ] || fail "seeds 1 and 2 gave the same revenue ($ra)"
}

test_demo_default_folder_and_quiet() {
  run "$INGOT" demo --scale 0.02 --quiet --no-report
  expect_ok
  expect_eq "$OUT" "" "stdout with --no-report"
  expect_eq "$ERR" "" "stderr with --quiet"
  [ -f demo-shop/ingot.yml ] || fail "demo-shop not created"
  expect_eq "$(DEMO_DIR=demo-shop qd 'SELECT count(*) FROM gold.funnel')" 5 "gold built"
}

test_demo_with_C() {
  mkdir work
  run "$INGOT" -C work demo shop --scale 0.02 --quiet
  expect_ok
  [ -f work/shop/ingot.yml ] || fail "-C not honoured: $(ls -R | head)"
}

test_demo_refuses_other_project() {
  run "$INGOT" init mine
  expect_ok
  cp mine/ingot.yml before.yml
  run demo_small mine
  expect_rc 2
  expect_err "did not create"
  expect_err "hint:"
  cmp -s mine/ingot.yml before.yml || fail "ingot.yml was changed"
  [ ! -d mine/lake/raw/demo ] || fail "demo data written into another project"
  [ ! -d mine/drop ] || fail "demo files dropped into another project"
}

test_demo_refuses_nonempty_folder() {
  mkdir stuff
  echo keep > stuff/notes.txt
  run demo_small stuff
  expect_rc 2
  expect_err "not empty"
  [ ! -f stuff/ingot.yml ] || fail "project scaffolded into a non-empty folder"
  echo x > afile
  run demo_small afile
  expect_rc 2
  expect_err "not a folder"
}

test_demo_bad_options() {
  run "$INGOT" demo shop --scale 0
  expect_rc 2
  expect_err "--scale"
  run "$INGOT" demo shop --scale lots
  expect_rc 2
  expect_err "lots"
  run "$INGOT" demo shop --seed -3
  expect_rc 2
  expect_err "--seed"
  run "$INGOT" demo a b
  expect_rc 2
  [ ! -e shop ] || fail "a folder was created despite bad options"
}

test_demo_full_scale() {
  start=$(date +%s)
  run "$INGOT" demo shop
  expect_ok
  took=$(($(date +%s) - start))
  echo "full demo took ${took}s"
  expect_eq "$(qd 'SELECT count(*) FROM silver.orders')" 60000 "orders at scale 1"
  n=$(qd 'SELECT count(*) FROM silver.customers')
  expect_eq "$n" 20000 "customers at scale 1"
  [ "$took" -lt 60 ] || fail "the demo took ${took}s"
}

# --serve: the demo, then the daemon in its folder, which runs the demo's
# pipeline (ingest the drop folder, then ingot build); CLI commands reach it.
test_demo_serve_runs_pipeline() {
  "$INGOT" demo shop --scale 0.02 --no-report --serve --listen 127.0.0.1:0 >serve.out 2>serve.err &
  local pid=$!
  # the demo is built when it says it serves (its collect step runs a
  # daemon of its own before); ready when a query reaches the new one
  for _ in $(seq 600); do grep -q "^serving shop" serve.err && break; sleep 0.1; done
  for _ in $(seq 600); do
    "$INGOT" -C shop serve --status >/dev/null 2>&1 && "$INGOT" -C shop query "SELECT 1" >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$INGOT" -C shop serve --status >/dev/null 2>&1 || { kill $pid; fail "no daemon: $(tail -5 serve.err)"; }
  grep -q "^pipelines:" shop/ingot.yml || fail "no pipeline in the demo's ingot.yml"
  run "$INGOT" -C shop pipeline run shop
  expect_rc 0
  expect_eq "$("$INGOT" -C shop query --format csv --no-header \
    "SELECT state FROM ingot.pipeline_runs WHERE pipeline = 'shop' ORDER BY started_at DESC LIMIT 1")" success
  expect_eq "$("$INGOT" -C shop query --format csv --no-header \
    "SELECT count(*) > 0 FROM ingot.dbt_node_results WHERE resource_type = 'test'")" true
  kill -TERM $pid; wait $pid || true
  "$INGOT" -C shop serve --status >/dev/null 2>&1 && fail "the daemon still runs after SIGTERM"
  true
}

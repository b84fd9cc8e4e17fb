# End-to-end tests of dbt selection, artifacts, the result history and the
# docs site, on tests/dbt/select (a source, staging and mart models with
# descriptions, columns and tests, tags, selectors.yml):
#   - manifest.json / run_results.json / catalog.json read back with
#     python3's json as a tool that reads dbt artifacts would;
#   - ingot.dbt_invocations / ingot.dbt_node_results after runs;
#   - --select / --exclude / --selector / state: / result: from the CLI;
#   - `ingot docs generate`: the page loaded in a DOM (jsdom, when node can
#     find it: set NODE_PATH) or else its script checked by node and its data
#     by python.

SEL_DBT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../dbt/select" && pwd)

sel_project() {
  cp -r "$SEL_DBT/." .
  rm -f docs_page_test.js
  run "$INGOT" query -f seed.sql
  expect_ok
}

# pyjson FILE EXPR: evaluate a python expression over the JSON document j
pyjson() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

test_tf_artifacts_manifest_and_run_results() {
  sel_project
  run "$INGOT" run
  expect_ok
  [ -f target/manifest.json ] || fail "no target/manifest.json after ingot run"
  [ -f target/run_results.json ] || fail "no target/run_results.json after ingot run"
  local m=target/manifest.json r=target/run_results.json
  expect_eq "$(pyjson $m "j['metadata']['dbt_schema_version']")" "https://schemas.getdbt.com/dbt/manifest/v12.json"
  expect_eq "$(pyjson $m "len(j['metadata']['invocation_id'])")" "36" "invocation_id is a UUID"
  expect_eq "$(pyjson $m "sorted(k for k in j['nodes'] if k.startswith('model.'))")" \
    "['model.sel.customer_orders', 'model.sel.order_totals', 'model.sel.stg_customers', 'model.sel.stg_orders']"
  expect_eq "$(pyjson $m "sorted(j['sources'])")" "['source.sel.raw.customers', 'source.sel.raw.orders']"
  # checksum: sha256 of the file as dbt computes it
  expect_eq "$(pyjson $m "j['nodes']['model.sel.stg_orders']['checksum']['checksum']")" \
    "$(sha256sum models/staging/stg_orders.sql | cut -d' ' -f1)" "checksum of stg_orders"
  expect_eq "$(pyjson $m "j['nodes']['model.sel.stg_orders']['depends_on']['nodes']")" "['source.sel.raw.orders']"
  expect_eq "$(pyjson $m "j['nodes']['model.sel.customer_orders']['config']['materialized']")" "table"
  expect_eq "$(pyjson $m "j['nodes']['model.sel.customer_orders']['fqn']")" "['sel', 'marts', 'customer_orders']"
  expect_eq "$(pyjson $m "j['nodes']['model.sel.stg_orders']['columns']['order_id']['description']")" "The order's id (unique)."
  expect_eq "$(pyjson $m "sorted(j['child_map']['model.sel.stg_orders'])[:2]")" "['model.sel.customer_orders', 'model.sel.order_totals']"
  expect_eq "$(pyjson $m "j['parent_map']['model.sel.customer_orders']")" "['model.sel.stg_customers', 'model.sel.stg_orders']"
  # generic tests carry test_metadata and the node they test
  expect_eq "$(pyjson $m "sorted((v['test_metadata']['name'], v['attached_node'], v['column_name']) for v in j['nodes'].values() if v['resource_type'] == 'test' and v.get('test_metadata'))[0]")" \
    "('not_null', 'model.sel.stg_customers', 'customer_id')"
  # run_results v6: one result per model, with timing fields tools read
  expect_eq "$(pyjson $r "j['metadata']['dbt_schema_version']")" "https://schemas.getdbt.com/dbt/run-results/v6.json"
  expect_eq "$(pyjson $r "sorted((x['unique_id'], x['status']) for x in j['results'])")" \
    "[('model.sel.customer_orders', 'success'), ('model.sel.order_totals', 'success'), ('model.sel.stg_customers', 'success'), ('model.sel.stg_orders', 'success')]"
  expect_eq "$(pyjson $r "all(x['execution_time'] >= 0 and x['compiled'] for x in j['results'])")" "True"
  expect_eq "$(pyjson $r "j['args']['which']")" "run"
  expect_eq "$(pyjson $r "j['metadata']['invocation_id'] == json.load(open('target/manifest.json'))['metadata']['invocation_id']")" "True"
}

test_tf_artifacts_history_tables() {
  sel_project
  run "$INGOT" run
  expect_ok
  expect_eq "$(q "select command || ':' || status || ':' || nodes || ':' || errors from ingot.dbt_invocations")" "run:success:4:0"
  expect_eq "$(q "select count(*) from ingot.dbt_node_results where status = 'success' and resource_type = 'model'")" "4"
  expect_eq "$(q "select materialized || ' ' || replace(relation, '\"', '') from ingot.dbt_node_results where unique_id = 'model.sel.customer_orders'")" \
    "table sel.main.customer_orders"
  expect_eq "$(q "select count(*) from ingot.dbt_node_results where seconds > 0 and finished_at is not null and compiled_path like '%/target/compiled/sel/models/%'")" "4"
  # a failing model: recorded with its message, its child skipped
  printf "select no_such_column from {{ ref('stg_orders') }}\n" > models/staging/stg_customers.sql
  run "$INGOT" run --select stg_customers+
  expect_rc 14
  expect_eq "$(q "select count(*) from ingot.dbt_invocations")" "2"
  expect_eq "$(q "select status || ':' || selection || ':' || errors from ingot.dbt_invocations order by started_at desc limit 1")" "error:stg_customers+:1"
  expect_eq "$(q "select string_agg(r.name || '=' || r.status, ' ' order by r.name) from ingot.dbt_node_results r join ingot.dbt_invocations i using (invocation_id) where i.status = 'error'")" \
    "customer_orders=skipped stg_customers=error"
  expect_eq "$(q "select message like '%no_such_column%' from ingot.dbt_node_results where name = 'stg_customers' and status = 'error'")" "true"
  # every row of one invocation shares its id with run_results.json
  expect_eq "$(q "select invocation_id from ingot.dbt_invocations order by started_at desc limit 1")" \
    "$(pyjson target/run_results.json "j['metadata']['invocation_id']")"
  # tests: pass / fail with the failing rows, in the artifacts and the tables
  echo "select id as customer_id, name from {{ source('raw', 'customers') }}" > models/staging/stg_customers.sql
  run "$INGOT" run
  expect_ok
  run "$INGOT" query "insert into raw.orders values (1, 20, 5, 'FR')"
  expect_ok
  run "$INGOT" test
  expect_rc 14
  expect_eq "$(pyjson target/run_results.json "sorted((x['status'], x['failures']) for x in j['results'] if 'unique_stg_orders' in x['unique_id'] or 'not_null_stg_orders' in x['unique_id'])")" \
    "[('fail', 1), ('pass', 0)]"
  expect_eq "$(pyjson target/run_results.json "j['args']['which']")" "test"
  expect_eq "$(q "select status || ':' || failures from ingot.dbt_node_results where resource_type = 'test' and name = 'unique_stg_orders_order_id'")" "fail:1"
  expect_eq "$(q "select command || ':' || status || ':' || errors from ingot.dbt_invocations order by started_at desc limit 1")" "test:error:1"
  # result:fail reruns the failing test only
  cp -r target failed
  run "$INGOT" test --select result:fail --state failed
  expect_rc 14
  expect_out "1 of 1 FAIL 1 unique_stg_orders_order_id"
}

test_tf_select_cli() {
  sel_project
  run "$INGOT" run
  expect_ok
  run "$INGOT" run --select tag:nightly
  expect_ok
  expect_out "Done. PASS=2 WARN=0 ERROR=0 SKIP=0 TOTAL=2"
  # comma: intersection
  run "$INGOT" run --select "tag:nightly,order_totals"
  expect_ok
  expect_out "1 of 1 START sql table model main.order_totals"
  run "$INGOT" run --select "stg_orders+" --exclude "customer_orders"
  expect_ok
  expect_out "Done. PASS=2 WARN=0 ERROR=0 SKIP=0 TOTAL=2"
  expect_no_out "customer_orders"
  run "$INGOT" run --select "path:models/staging" --exclude "stg_customers"
  expect_ok
  expect_out "1 of 1 START sql view model main.stg_orders"
  # selectors.yml
  run "$INGOT" run --selector marts_only
  expect_ok
  expect_out "1 of 1 START sql table model main.customer_orders"
  run "$INGOT" run --selector marts_onyl
  expect_rc 4
  expect_err "no selector named 'marts_onyl'"
  expect_err "did you mean 'marts_only'?"
  # nothing matches: a warning, not an error
  run "$INGOT" run --select tag:nope
  expect_ok
  expect_out "does not match any enabled nodes"
  expect_out "Nothing to do"
  run "$INGOT" run --select "bogus:x"
  expect_rc 2
  expect_err "unknown selection method 'bogus'"
  # state:modified against a copy of the previous target
  cp -r target state
  echo "select country, sum(amount) as amount, count(*) as n from {{ ref('stg_orders') }} group by 1" > models/marts/order_totals.sql
  run "$INGOT" run --select state:modified --state state
  expect_ok
  expect_out "1 of 1 START sql table model main.order_totals"
  run "$INGOT" run --select "state:modified+" --state nowhere
  expect_rc 4
  expect_err "--state"
  # result:error+ reruns what failed and its children
  printf "select no_such_column from {{ ref('stg_orders') }}\n" > models/staging/stg_customers.sql
  run "$INGOT" run
  expect_rc 14
  cp -r target failed
  echo "select id as customer_id, name from {{ source('raw', 'customers') }}" > models/staging/stg_customers.sql
  run "$INGOT" run --select "result:error+" --state failed
  expect_ok
  expect_out "Done. PASS=2 WARN=0 ERROR=0 SKIP=0 TOTAL=2"
  expect_out "main.stg_customers"
  expect_out "main.customer_orders"
}

test_tf_docs_generate() {
  sel_project
  run "$INGOT" run
  expect_ok
  run "$INGOT" docs generate
  expect_ok
  expect_out "Catalog written to $PWD/target/catalog.json"
  expect_out "Open it in a browser: file://$PWD/target/index.html"
  local c=target/catalog.json
  expect_eq "$(pyjson $c "j['metadata']['dbt_schema_version']")" "https://schemas.getdbt.com/dbt/catalog/v1.json"
  expect_eq "$(pyjson $c "[(k, v['type'], v['index']) for k, v in j['nodes']['model.sel.customer_orders']['columns'].items()]")" \
    "[('customer_id', 'INTEGER', 1), ('name', 'VARCHAR', 2), ('orders', 'BIGINT', 3), ('amount', 'DOUBLE', 4)]"
  expect_eq "$(pyjson $c "j['nodes']['model.sel.customer_orders']['metadata']['type']")" "BASE TABLE"
  expect_eq "$(pyjson $c "j['nodes']['model.sel.stg_orders']['metadata']['type']")" "VIEW"
  expect_eq "$(pyjson $c "j['nodes']['model.sel.customer_orders']['stats']['row_count']['value']")" "2"
  expect_eq "$(pyjson $c "sorted(j['sources'])")" "['source.sel.raw.customers', 'source.sel.raw.orders']"
  expect_eq "$(pyjson target/manifest.json "j['nodes']['model.sel.customer_orders']['compiled']")" "True"
  local page=target/index.html
  # self-contained: no network, no external assets
  ! grep -qiE '(src|href)="(https?:)?//' $page || fail "index.html loads something from the network"
  ! grep -qi '<link' $page || fail "index.html links an external stylesheet"
  # a description holding </script> is escaped inside the embedded JSON
  expect_eq "$(grep -c '</script>' $page)" "2" "only the two script tags close"
  if node -e "require.resolve('jsdom')" 2>/dev/null; then
    run node "$SEL_DBT/docs_page_test.js" "$PWD/$page" stg_orders stg_customers customer_orders order_totals raw.orders assert_amount_positive
    expect_ok
    expect_out "page ok"
  else
    echo "    (jsdom not found: NODE_PATH unset; checking the page's script and data only)"
    python3 - "$page" <<'PY'
import json, sys
s = open(sys.argv[1]).read()
start = s.index('type="application/json">') + len('type="application/json">')
data = json.loads(s[start:s.index('</script>')])
names = {n['name'] for n in data['nodes']}
assert {'stg_orders', 'customer_orders', 'raw.orders', 'assert_amount_positive'} <= names, names
so = next(n for n in data['nodes'] if n['id'] == 'model.sel.stg_orders')
assert [c['name'] for c in so['cols']] == ['order_id', 'amount', 'customer_id', 'country'], so['cols']
assert sorted(t['name'] for t in so['cols'][0]['tests']) == ['not_null', 'unique'], so['cols'][0]
assert so['cols'][0]['type'] == 'INTEGER' and 'raw' in so['sql'] and so['parents'] == ['source.sel.raw.orders']
open('page.js', 'w').write(s[s.rindex('<script>') + 8:s.rindex('</script>')])
PY
    node --check page.js || fail "the page's script does not parse"
  fi
  # docs serve is not a thing: the hint says what to do
  run "$INGOT" docs serve
  expect_rc 2
  expect_err "open target/index.html"
}

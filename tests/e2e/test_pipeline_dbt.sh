# End-to-end tests of the dbt task kinds (build, test, seed, snapshot): a
# pipeline ingests files, builds a dbt project whose tests fail, and the task
# downstream of the build is upstream_failed, with the failing tests named
# in the build task's error.

pdbt_project() {
  "$INGOT" init . >/dev/null
  cat >> ingot.yml
  mkdir -p drop models seeds snapshots
  printf 'id,amount\n1,10\n2,\n3,30\n' > drop/orders-1.csv   # order 2 has no amount
  printf 'code,label\nA,alpha\nB,beta\n' > seeds/codes.csv
  cat > dbt_project.yml <<'D'
name: shop
version: "1.0"
profile: shop
D
  cat > models/stg_orders.sql <<'D'
{{ config(materialized='table') }}
select id, amount, '{{ var("ds") }}' as ds from bronze.shop_files__orders
D
  cat > models/schema.yml <<'D'
version: 2
models:
  - name: stg_orders
    columns:
      - name: id
        tests: [unique, not_null]
      - name: amount
        tests: [not_null]
D
  cat > snapshots/orders_snap.sql <<'D'
{% snapshot orders_snap %}
{{ config(target_schema='main', unique_key='id', strategy='check', check_cols=['amount']) }}
select id, amount from {{ ref('stg_orders') }}
{% endsnapshot %}
D
}

test_pipeline_dbt_build_failing_test_fails_downstream() {
  pdbt_project <<'Y'
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
      - {name: build, kind: build, depends_on: load, select: stg_orders}
      - name: publish
        kind: sql
        depends_on: build
        sql: "create table gold_published as select * from stg_orders"
Y
  run "$INGOT" pipeline run daily; expect_rc 14
  expect_err "build"
  expect_eq "$(q "select state from ingot.task_runs where task = 'load'")" success "load"
  expect_eq "$(q "select state from ingot.task_runs where task = 'build'")" failed "build"
  expect_eq "$(q "select state from ingot.task_runs where task = 'publish'")" upstream_failed "publish"
  msg=$(q "select error from ingot.task_runs where task = 'build'")
  grep -qF "dbt build: 1 test failed: not_null_stg_orders_amount (1 failing row)" <<<"$msg" \
    || fail "build error: $msg"
  # the model itself was built (tests run after it) with the interval's ds
  expect_eq "$(q "select count(*) || '|' || min(ds) from stg_orders")" "3|$(date -u -d yesterday +%F)"
  run "$INGOT" pipeline logs daily --task build; expect_out "FAIL 1 not_null_stg_orders_amount"
  expect_eq "$(q "select count(*) from information_schema.tables where table_name = 'gold_published'")" 0
  # fixed model: the same pipeline succeeds end to end
  sed -i 's/select id, amount,/select id, coalesce(amount, 0) as amount,/' models/stg_orders.sql
  run "$INGOT" pipeline run daily; expect_ok
  expect_eq "$(q "select count(*) from gold_published")" 3
}

test_pipeline_dbt_seed_test_snapshot_kinds() {
  pdbt_project <<'Y'
pipelines:
  p:
    tasks:
      - {name: seed, kind: seed, select: codes}
      - {name: orders, kind: sql, sql: "create schema if not exists bronze; create table if not exists bronze.shop_files__orders as select 1 as id, 10 as amount"}
      - {name: models, kind: run, depends_on: orders, select: stg_orders}
      - {name: tests, kind: test, depends_on: models, select: stg_orders}
      - {name: snap, kind: snapshot, depends_on: tests, select: orders_snap}
      - {name: after, kind: sql, depends_on: [seed, snap], sql: "create table ok as select 1 as x"}
Y
  run "$INGOT" pipeline run p; expect_ok
  expect_eq "$(q "select string_agg(code, '|' order by code) from codes")" "A|B" "seed"
  expect_eq "$(q "select count(*) from orders_snap")" 1 "snapshot"
  run "$INGOT" pipeline logs p --task tests; expect_out "PASS not_null_stg_orders_amount"
  expect_eq "$(q "select count(*) from ok")" 1
  # a failing test under kind test fails the task by name too
  run "$INGOT" query "create or replace table bronze.shop_files__orders as select * from (values (1, 10), (1, 20)) t(id, amount)"
  run "$INGOT" pipeline run p; expect_rc 14
  msg=$(q "select error from ingot.task_runs where task = 'tests' and state = 'failed'")
  grep -qF "dbt test: 1 test failed: unique_stg_orders_id (1 failing row)" <<<"$msg" || fail "test error: $msg"
  expect_eq "$(q "select state from ingot.task_runs where task = 'after' order by started_at desc nulls first limit 1")" upstream_failed
}

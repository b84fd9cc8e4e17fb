# End-to-end tests of the transform layer: dbt projects run by `ingot run`,
# `compile`, `parse` and `deps`. The main project is tests/dbt/shop (every
# materialization and incremental strategy, sources, an ephemeral model,
# hooks, vars, a custom schema, a local package with adapter.dispatch);
# smaller projects are written by the tests themselves.

TF_DBT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../dbt" && pwd)

# shop: a copy of the shop project in cwd, with its packages and bronze data
shop() {
  cp -r "$TF_DBT/shop/." .
  run "$INGOT" deps
  expect_ok
  run "$INGOT" query -f seed.sql
  expect_ok
}

# mini NAME: an ingot + dbt project named NAME in cwd with no models yet
mini() {
  printf 'version: 1\nname: %s\n' "$1" > ingot.yml
  printf 'name: %s\nversion: "1.0"\nprofile: %s\n' "$1" "$1" > dbt_project.yml
  mkdir -p models macros
}

test_tf_run_every_materialization() {
  shop
  run "$INGOT" run
  expect_ok
  expect_out "Found 10 models, 2 sources"
  expect_out "1 of 9 START sql view model main.util_hello"
  expect_out "OK created sql table model main.customer_orders"
  expect_out "OK created sql incremental model main.orders_di"
  expect_out "OK created sql table model main_reporting.daily"
  expect_out "Done. PASS=9 WARN=0 ERROR=0 SKIP=0 TOTAL=9"
  expect_no_out "stg_customers" # ephemeral: never run
  expect_eq "$(q "select table_type from information_schema.tables where table_name = 'stg_orders'")" "VIEW" "stg_orders is a view"
  expect_eq "$(q "select table_type from information_schema.tables where table_name = 'customer_orders'")" "BASE TABLE" "customer_orders"
  expect_eq "$(q "select string_agg(name || ':' || orders || ':' || cents || ':' || greeting || ':' || shouted, ';' order by name) from customer_orders")" \
    "ADA!:2:1250:hello from util:X!;BOB!:1:125:hello from util:X!" "customer_orders rows"
  # the ephemeral model is a CTE of its child
  grep -q "__dbt__cte__stg_customers as (" target/compiled/shop/models/marts/customer_orders.sql || fail "no CTE"
  grep -q 'create or replace table "shop"."main"."customer_orders__dbt_tmp"' target/run/shop/models/marts/customer_orders.sql || fail "target/run"
  # a second run swaps the table in place and keeps the view
  run "$INGOT" run --select customer_orders
  expect_ok
  expect_out "1 of 1 OK created sql table model main.customer_orders"
  expect_eq "$(q "select count(*) from customer_orders")" "2"
  expect_eq "$(q "select count(*) from information_schema.tables where table_name like '%__dbt_%'")" "0" "no leftovers"
}

test_tf_incremental_strategies() {
  shop
  run "$INGOT" run
  expect_ok
  run "$INGOT" query -f change.sql
  expect_ok
  run "$INGOT" run --threads 3
  expect_ok
  # append: only rows past the max id; order 2's change is not seen
  expect_eq "$(q "select string_agg(id || status, ';' order by id) from orders_append")" "1placed;2placed;3placed;4placed" "append"
  # delete+insert and merge: the change and the new row
  expect_eq "$(q "select string_agg(id || status, ';' order by id) from orders_di")" "1placed;2shipped;3placed;4placed" "delete+insert"
  expect_eq "$(q "select string_agg(id || status, ';' order by id) from orders_merge")" "1placed;2shipped;3placed;4placed" "merge"
  # compound unique_key
  expect_eq "$(q "select count(*) || '/' || count(*) filter (where status = 'shipped') from order_lines")" "8/2" "merge on (id, line)"
  # --full-refresh rebuilds: append now sees the change too
  run "$INGOT" run --full-refresh --select orders_append
  expect_ok
  expect_eq "$(q "select status from orders_append where id = 2")" "shipped" "full refresh"
}

test_tf_on_schema_change() {
  shop
  run "$INGOT" run --select +orders_osc
  expect_ok
  run "$INGOT" run --select orders_osc --vars '{extra: true}'
  expect_ok
  expect_eq "$(q "select count(*) from information_schema.columns where table_name = 'orders_osc' and column_name = 'extra'")" "1" "append_new_columns"
  # sync_all_columns drops it again when the model stops selecting it
  run "$INGOT" run --select orders_osc --vars '{osc: sync_all_columns}'
  expect_ok
  expect_eq "$(q "select count(*) from information_schema.columns where table_name = 'orders_osc'")" "2" "sync_all_columns"
  # fail: the run fails and says why
  run "$INGOT" run --select orders_osc --vars '{osc: fail, extra: true}'
  expect_rc 14
  expect_out "out of sync"
  expect_out "ERROR creating sql incremental model main.orders_osc"
}

test_tf_hooks_vars_schema() {
  shop
  run "$INGOT" run
  expect_ok
  expect_out "Ran 1 on-run-start hook"
  expect_eq "$(q "select string_agg(model || '/' || event, ';' order by model, event) from main.audit")" "customer_orders/post;daily/pre;run/end" "hooks"
  expect_eq "$(q "select count(*) from main_reporting.daily")" "2" "custom schema main_reporting"
  # --vars reaches var(): min_amount filters the staging view
  run "$INGOT" run --select stg_orders --vars 'min_amount: 5'
  expect_ok
  expect_eq "$(q "select count(*) from stg_orders")" "2" "--vars"
}

test_tf_dispatch_and_packages() {
  shop
  [ -L dbt_packages/util ] || fail "deps did not link the package"
  run "$INGOT" compile
  expect_ok
  expect_out "Compiled 10 models"
  # root's duckdb__shout wins over util's default__shout (dispatch search order)
  grep -q "upper('x') || '!'" target/compiled/shop/models/marts/customer_orders.sql || fail "dispatch: $(cat target/compiled/shop/models/marts/customer_orders.sql)"
  grep -q "hello from util" target/compiled/util/models/util_hello.sql || fail "package-scoped var"
  # with util first in the search order, util's default__shout wins
  sed -i "s/search_order: \['shop', 'util'\]/search_order: ['util', 'shop']/" dbt_project.yml
  run "$INGOT" compile --select customer_orders
  expect_ok
  grep -q "upper('x') as shouted" target/compiled/shop/models/marts/customer_orders.sql || fail "default dispatch: $(grep shouted target/compiled/shop/models/marts/customer_orders.sql)"
}

test_tf_failure_skips_downstream() {
  mini fails
  echo "select 1 as id" > models/a.sql
  echo "select * from {{ ref('a') }} where no_such_column = 1" > models/b.sql
  echo "select * from {{ ref('b') }}" > models/c.sql
  echo "select * from {{ ref('a') }}" > models/d.sql
  run "$INGOT" run
  expect_rc 14
  expect_out "ERROR creating sql view model main.b"
  expect_out "SKIP relation main.c"
  expect_out "OK created sql view model main.d"
  expect_out "Database Error in model b (models/b.sql)"
  expect_out "no_such_column"
  expect_out "compiled code at $PWD/target/run/fails/models/b.sql"
  expect_out "Done. PASS=2 WARN=0 ERROR=1 SKIP=1 TOTAL=4"
  expect_err "1 of 4 models failed"
}

test_tf_compile_error_position() {
  mini broken
  printf 'select 1\n{%% if true %%}\nselect {{ 1 + }}\n{%% endif %%}\n' > models/bad.sql
  run "$INGOT" compile
  expect_rc 10
  expect_err "models/bad.sql:3:"
  expect_err "select {{ 1 + }}"
  expect_err "Compilation Error in model bad"
  # an unknown ref names the model and suggests the nearest name
  printf 'select 1 as x' > models/bad.sql
  echo "select * from {{ ref('badd') }}" > models/user.sql
  run "$INGOT" parse
  expect_rc 10
  expect_err "depends on a node named 'badd' which was not found"
  expect_err "did you mean ref('bad')?"
  # a cycle is reported with its path
  echo "select * from {{ ref('y') }}" > models/x.sql
  echo "select * from {{ ref('x') }}" > models/y.sql
  echo "select 1" > models/user.sql
  run "$INGOT" parse
  expect_rc 10
  expect_err "Found a cycle: model.broken."
  expect_err " --> model.broken."
}

test_tf_context_functions() {
  mini ctx
  export TF_TEST_ENV=from-env
  cat > models/ctx.sql <<'EOF'
{% set t = run_query("select 41 + 1 as answer, 'a' as letter union all select 7, 'b'") %}
{% call statement('two', fetch_result=True) %}select 2 as n{% endcall %}
{% set pat = modules.re.compile if false else none %}
select
  {{ t.columns[0].values() | sum if execute else 0 }} as total,
  '{{ (t.rows[0]['letter'] if execute else '') }}' as first_letter,
  {{ load_result('two')['data'][0][0] if execute else 0 }} as two,
  '{{ env_var('TF_TEST_ENV') }}' as env,
  '{{ env_var('TF_NOT_SET', 'dflt') }}' as env_default,
  '{{ var('missing', 'vd') }}' as var_default,
  '{{ this.identifier }}' as me,
  '{{ target.name }}/{{ target.type }}/{{ target.schema }}' as tgt,
  '{{ fromjson('{"k": [1, 2]}')['k'][1] }}' as fj,
  '{{ tojson({'a': 1}) }}' as tj,
  '{{ fromyaml('a: [x, y]')['a'] | join('-') }}' as fy,
  '{{ modules.re.sub('[0-9]+', '#', 'a1b22') }}' as re_sub,
  '{{ modules.datetime.datetime(2024, 5, 6).strftime('%Y/%m/%d') }}' as dt,
  {{ (zip([1, 2], [3, 4]) | list | length) }} as zipped,
  '{{ dbt_version }}' as v,
  {{ (invocation_id | length) }} as inv_len,
  '{{ model.unique_id }}' as uid,
  {{ graph.nodes | length }} as nodes,
  {{ adapter.quote('x') }} as x_col
from (select 1 as "x")
EOF
  run "$INGOT" run
  expect_ok
  expect_eq "$(q "select total || first_letter || two from ctx")" "49a2" "run_query, statement"
  expect_eq "$(q "select env || ';' || env_default || ';' || var_default from ctx")" "from-env;dflt;vd"
  expect_eq "$(q "select me || ';' || tgt from ctx")" "ctx;dev/duckdb/main"
  expect_eq "$(q "select fj || ';' || (tj like '{_a_: 1}') || ';' || fy || ';' || re_sub || ';' || dt from ctx")" '2;true;x-y;a#b#;2024/05/06'
  expect_eq "$(q "select zipped || ';' || v || ';' || inv_len || ';' || uid || ';' || nodes || ';' || x_col from ctx")" "2;1.8.9;36;model.ctx.ctx;1;1"
  # a required env var that is missing is a compile error naming it
  echo "select '{{ env_var('TF_REALLY_NOT_SET') }}'" > models/env.sql
  run "$INGOT" compile --select env
  expect_fail
  expect_err "Env var required but not provided: 'TF_REALLY_NOT_SET'"
}

test_tf_plain_dbt_project_with_profile() {
  mkdir proj && cd proj
  printf 'name: plain\nprofile: plain\nmodels:\n  plain:\n    +materialized: table\n' > dbt_project.yml
  mkdir models
  echo "select 42 as answer" > models/answer.sql
  printf 'plain:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: "{{ env_var(%s) }}"\n      schema: analytics\n      threads: 2\n' "'PLAIN_DB'" > profiles.yml
  export PLAIN_DB=$PWD/plain.duckdb
  run "$INGOT" run
  expect_ok
  expect_out "Concurrency: 2 threads (target='dev')"
  expect_out "OK created sql table model analytics.answer"
  [ -f plain.duckdb ] || fail "the profile's path was not used"
  # a target that does not exist is named
  run "$INGOT" run --target prod
  expect_fail
  expect_err "profile 'plain' has no target 'prod'"
}

test_tf_generate_schema_name_override() {
  mini gsn
  printf 'models:\n  gsn:\n    +materialized: table\n    silver:\n      +schema: silver\n' >> dbt_project.yml
  mkdir -p models/silver
  cat > macros/gsn.sql <<'EOF'
{% macro generate_schema_name(custom_schema_name, node) -%}
  {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
EOF
  echo "select 1 as id" > models/silver/clean.sql
  echo "select * from {{ ref('clean') }}" > models/top.sql
  run "$INGOT" run
  expect_ok
  expect_out "OK created sql table model silver.clean"
  expect_eq "$(q "select count(*) from silver.clean")" "1"
  grep -q '"silver"."clean"' target/compiled/gsn/models/top.sql || fail "ref to custom schema"
}

test_tf_model_versions_and_docs() {
  mini ver
  echo "select 1 as v" > models/dim_v1.sql
  echo "select 2 as v" > models/dim_v2.sql
  printf 'version: 2\nmodels:\n  - name: dim\n    latest_version: 2\n    versions:\n      - v: 1\n      - v: 2\n' > models/dim.yml
  echo "select (select v from {{ ref('dim') }}) as latest, (select v from {{ ref('dim', v=1) }}) as old" > models/use.sql
  run "$INGOT" run
  expect_ok
  expect_eq "$(q "select latest || ';' || old from use")" "2;1" "versions"
  expect_eq "$(q "select count(*) from information_schema.tables where table_name in ('dim_v1', 'dim_v2')")" "2"
}

test_tf_deps_refuses_hub_packages() {
  mini deps
  printf 'packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.1.1\n' > packages.yml
  run "$INGOT" deps
  expect_fail
  expect_err "packages.yml:2:"
  expect_err "only local: packages"
}

test_tf_threads_generated_project() {
  "$(dirname "$TF_DBT")/../bench/gen_dbt_project.sh" gen 120
  cd gen
  run "$INGOT" run --threads 4
  expect_ok
  expect_out "Concurrency: 4 threads"
  expect_out "Done. PASS=120 WARN=0 ERROR=0 SKIP=0 TOTAL=120"
  expect_eq "$(q "select count(*) from information_schema.tables where table_schema = 'main' and table_name like 'm0%'")" "120"
  # a second run replaces every table in place
  run "$INGOT" run --threads 4
  expect_ok
  expect_eq "$(q "select count(*) from information_schema.tables where table_name like '%__dbt_%'")" "0" "leftovers"
}

test_tf_switch_materialization_and_select() {
  mini sw
  echo "select 1 as id" > models/a.sql
  echo "select * from {{ ref('a') }}" > models/b.sql
  echo "select * from {{ ref('b') }}" > models/c.sql
  run "$INGOT" run
  expect_ok
  expect_eq "$(q "select table_type from information_schema.tables where table_name = 'b'")" "VIEW"
  # view -> table -> view, keeping the name
  printf "{{ config(materialized='table') }}\nselect * from {{ ref('a') }}\n" > models/b.sql
  run "$INGOT" run --select b
  expect_ok
  expect_eq "$(q "select table_type from information_schema.tables where table_name = 'b'")" "BASE TABLE"
  printf "{{ config(materialized='incremental') }}\nselect * from {{ ref('a') }}\n" > models/b.sql
  run "$INGOT" run --select b
  expect_ok
  run "$INGOT" run --select b
  expect_ok
  expect_eq "$(q "select count(*) from b")" "3" "incremental over an existing table: appends twice"
  echo "select * from {{ ref('a') }};" > models/b.sql
  run "$INGOT" run --select b+
  expect_ok
  expect_out "1 of 2 START sql view model main.b"
  expect_out "2 of 2 START sql view model main.c"
  expect_eq "$(q "select table_type from information_schema.tables where table_name = 'b'")" "VIEW"
  # +c: c and its ancestors; --exclude takes one out; a wrong name is suggested
  run "$INGOT" compile --select +c --exclude a
  expect_ok
  expect_out "Compiled 2 models"
  run "$INGOT" run --select cc
  expect_rc 4
  expect_err "the selection 'cc' matches no model"
  expect_err "did you mean 'c'?"
}

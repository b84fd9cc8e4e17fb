# End-to-end tests of `ingot seed`, `snapshot`, `test`, `build` and `source
# freshness` on tests/dbt/jaffle: seeds (column_types, delimiter, Jinja
# +enabled, +schema), generic tests (unique, not_null, accepted_values,
# relationships, a {% test %} of tests/generic and one of macros/, custom
# names, severity, where), a singular test, three snapshots (timestamp with
# invalidate, check with a compound key and new_record, a YAML snapshot with
# dbt_valid_to_current and renamed meta columns) and sources with freshness.

TFB_DBT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../dbt" && pwd)

jaffle() {
  cp -r "$TFB_DBT/jaffle/." .
  run "$INGOT" query "create schema src; create table src.items(id int, region varchar, name varchar, updated_at timestamp); insert into src.items values (1,'eu','a','2024-01-01'),(2,'us','b','2024-01-01'); create table src.events(id int, kind varchar, loaded_at timestamp); insert into src.events values (1, 'real', now()::timestamp - interval 3 hour), (2, 'ignored', now()::timestamp)"
  expect_ok
}

test_tf_seed_loads_csvs() {
  jaffle
  run "$INGOT" seed
  expect_ok
  expect_out "Found 3 models, 4 seeds, 3 snapshots, 13 data tests, 2 sources"
  expect_out "OK loaded seed file main.raw_customers"
  expect_out "[INSERT 3 in"
  expect_out "OK loaded seed file main_lookups.statuses" # +schema: lookups
  expect_out "Done. PASS=4 WARN=0 ERROR=0 SKIP=0 TOTAL=4"
  expect_no_out "skipped_seed" # +enabled: "{{ target.name == 'nope' }}"
  expect_eq "$(q "select string_agg(id || ':' || first_name, ';' order by id) from raw_customers")" "1:Michael;2:Shawn;3:Kathleen" "raw_customers"
  # column_types and the ';' delimiter of seeds.yml
  expect_eq "$(q "select replace(data_type, ',', '/') from information_schema.columns where table_name = 'raw_payments' and column_name = 'amount'")" "DECIMAL(10/2)" "column_types"
  expect_eq "$(q "select sum(amount) from raw_payments")" "35.75" "payments"
  # a changed file is reloaded, new columns included
  printf 'id,first_name,last_name,email\n1,Mike,P.,m@x\n' > seeds/raw_customers.csv
  run "$INGOT" seed --select raw_customers
  expect_ok
  expect_out "1 of 1 OK loaded seed file main.raw_customers"
  expect_eq "$(q "select first_name || email from raw_customers")" "Mikem@x" "reloaded"
}

test_tf_test_statuses_and_names() {
  jaffle
  run "$INGOT" test
  expect_fail
  expect_out "Database Error in test unique_stg_orders_order_id (models/schema.yml)" # nothing built yet
  run "$INGOT" build
  expect_ok
  # dbt's names: plain, hashed when 64 characters or more, custom
  expect_out "PASS not_null_stg_orders_order_id"
  expect_out "PASS accepted_values_stg_orders_7c9e0be389dac14a09b2140966f0792f"
  expect_out "WARN 2 status_is_open"
  expect_out "WARN 1 relationships_stg_orders_customer_id__id__ref_raw_customers_"
  expect_out "PASS is_even_stg_orders_customer_id"  # where: order_id > 100 leaves no rows
  expect_out "PASS row_count_at_least_customers_2"  # a {% test %} of macros/
  expect_out "PASS assert_no_negative_payments"     # singular
  expect_out "PASS not_null_raw_payments_id"        # a seed's column test
  expect_out "Warning in test status_is_open (models/schema.yml)"
  expect_out "Got 2 results, configured to warn if != 0"
  expect_out "PASS customers_count_orders"      # unit tests
  expect_out "Done. PASS=23 WARN=2 ERROR=0 SKIP=0 TOTAL=25"
  [ -f target/compiled/jaffle/models/schema.yml/status_is_open.sql ] || fail "compiled test SQL"
  grep -q "'placed','shipped'" target/compiled/jaffle/models/schema.yml/status_is_open.sql || fail "accepted_values SQL"
  # a failing test: FAIL with the count, the compiled path, exit non-zero
  run "$INGOT" query "insert into raw_orders values (1, 1, '2018-01-09', 'placed')"
  expect_ok
  run "$INGOT" test --select stg_orders
  expect_rc 14
  expect_out "FAIL 1 unique_stg_orders_order_id"
  expect_out "Failure in test unique_stg_orders_order_id (models/schema.yml)"
  expect_out "Got 1 result, configured to fail if != 0"
  expect_out "compiled code at $PWD/target/compiled/jaffle/models/schema.yml/unique_stg_orders_order_id.sql"
  expect_no_out "row_count_at_least" # only the tests of stg_orders
  # severity, error_if from the command line config and store_failures
  run "$INGOT" test --select unique_stg_orders_order_id --store-failures
  expect_rc 14
  expect_eq "$(q "select unique_field || ':' || n_records from main_dbt_test__audit.unique_stg_orders_order_id")" "1:2" "stored failures"
}

test_tf_build_skips_after_failing_test() {
  jaffle
  run "$INGOT" seed
  expect_ok
  run "$INGOT" query "insert into raw_customers values (1, 'Dup', 'D.')"
  expect_ok
  run "$INGOT" build --exclude raw_customers
  expect_rc 14
  expect_out "FAIL 1 unique_customers_customer_id"
  # customers' failing test skips what is downstream of customers ...
  expect_out "SKIP relation main.order_report"
  # ... but not what only depends on stg_orders
  expect_out "PASS not_null_stg_orders_order_id"
  expect_out "SKIP test order_report_with_vars" # its unit test too
  expect_out "ERROR=1 SKIP=2"
  # --fail-fast: the first failure stops the rest
  run "$INGOT" build --exclude raw_customers --fail-fast --threads 1
  expect_rc 14
  expect_out "Failing fast (--fail-fast): unique_customers_customer_id failed"
  expect_no_out "OK created sql view model main.order_report"
}

test_tf_unit_tests() {
  jaffle
  # before anything is built: the given rows stand for the inputs
  run "$INGOT" test --select "customers_count_orders order_report_with_vars"
  expect_ok
  expect_out "PASS customers_count_orders"
  expect_out "PASS order_report_with_vars" # format: sql input
  expect_out "Finished running 2 unit tests"
  # a wrong expectation: FAIL with the rows that differ
  sed -i 's/        - {customer_id: 2, orders: 0}/        - {customer_id: 2, orders: 1}/' models/unit.yml
  run "$INGOT" test --select customers
  expect_rc 14
  expect_out "FAIL 2 customers_count_orders"
  expect_out "Failure in unit_test customers_count_orders (models/unit.yml)"
  expect_out "- customer_id=2 | orders=1"
  expect_out "+ customer_id=2 | orders=0"
  # overrides: vars
  cat > models/uses_var.sql <<'EOF'
select id, id * {{ var('factor', 1) }} as scaled from {{ ref('raw_customers') }}
EOF
  cat > models/unit_var.yml <<'EOF'
version: 2
unit_tests:
  - name: scaled_by_var
    model: uses_var
    overrides:
      vars: {factor: 10}
    given:
      - input: ref('raw_customers')
        rows: [{id: 2}]
    expect:
      rows: [{id: 2, scaled: 20}]
EOF
  run "$INGOT" test --select uses_var
  expect_ok
  expect_out "PASS scaled_by_var"
}

# Snapshot results over four runs, compared with hand-checked tables. Times
# the snapshot records itself (check strategy, deletes) are shown as the run
# they came from (dense_rank over the distinct times).
snap_ts() {
  q "select string_agg(id || '/' || name || '/' || dbt_valid_from::date || '/' || case when dbt_valid_to is null then 'null' when dbt_valid_to < '2025-01-01' then dbt_valid_to::date::varchar else 'run' end, ';' order by id, dbt_valid_from) from snapshots.items_ts"
}
snap_check() {
  q "with t as (select *, dense_rank() over (order by dbt_valid_from) as f from main.items_check), r as (select *, (select max(f) from t t2 where t2.dbt_valid_from = t.dbt_valid_to) as tr from t) select string_agg(id || region || '/' || name || '/' || f || '/' || coalesce(tr::varchar, 'null') || '/' || dbt_is_deleted, ';' order by id, f, dbt_is_deleted) from r"
}
snap_yaml() {
  q "select string_agg(id || '/' || name || '/' || valid_from::date || '/' || valid_to::date, ';' order by id, valid_from) from main_snapshots.items_yaml"
}

test_tf_snapshot_scd2() {
  jaffle
  run "$INGOT" snapshot
  expect_ok
  expect_out "OK snapshotted snapshots.items_ts"
  expect_out "Done. PASS=3 WARN=0 ERROR=0 SKIP=0 TOTAL=3"
  expect_eq "$(snap_ts)" "1/a/2024-01-01/null;2/b/2024-01-01/null" "run 1 timestamp"
  expect_eq "$(snap_check)" "1eu/a/1/null/False;2us/b/1/null/False" "run 1 check"
  expect_eq "$(snap_yaml)" "1/a/2024-01-01/9999-12-31;2/b/2024-01-01/9999-12-31" "run 1 yaml"
  expect_eq "$(q "select dbt_scd_id from snapshots.items_ts where id = 1")" "$(printf '1|2024-01-01 00:00:00' | md5sum | cut -c1-32)" "dbt_scd_id"
  # run 2: an update, a delete, an insert
  run "$INGOT" query "update src.items set name = 'a2', updated_at = '2024-02-01' where id = 1; delete from src.items where id = 2; insert into src.items values (3, 'eu', 'c', '2024-02-01')"
  expect_ok
  run "$INGOT" snapshot
  expect_ok
  expect_eq "$(snap_ts)" "1/a/2024-01-01/2024-02-01;1/a2/2024-02-01/null;2/b/2024-01-01/run;3/c/2024-02-01/null" "run 2 timestamp (invalidate)"
  expect_eq "$(snap_check)" "1eu/a/1/2/False;1eu/a2/2/null/False;2us/b/1/2/False;2us/b/2/null/True;3eu/c/2/null/False" "run 2 check (new_record)"
  expect_eq "$(snap_yaml)" "1/a/2024-01-01/2024-02-01;1/a2/2024-02-01/9999-12-31;2/b/2024-01-01/9999-12-31;3/c/2024-02-01/9999-12-31" "run 2 yaml (ignore)"
  # run 3: nothing changed, nothing recorded
  run "$INGOT" snapshot
  expect_ok
  expect_eq "$(snap_ts)" "1/a/2024-01-01/2024-02-01;1/a2/2024-02-01/null;2/b/2024-01-01/run;3/c/2024-02-01/null" "run 3 timestamp"
  expect_eq "$(q "select count(*) from main.items_check")" "5" "run 3 check"
  # run 4: the deleted row comes back; a check column changes without updated_at moving
  run "$INGOT" query "insert into src.items values (2, 'us', 'b2', '2024-03-01'); update src.items set name = 'c2' where id = 3"
  expect_ok
  run "$INGOT" snapshot
  expect_ok
  expect_eq "$(snap_ts)" "1/a/2024-01-01/2024-02-01;1/a2/2024-02-01/null;2/b/2024-01-01/run;2/b2/2024-03-01/null;3/c/2024-02-01/null" "run 4 timestamp: c2 has the same updated_at"
  expect_eq "$(snap_check)" "1eu/a/1/2/False;1eu/a2/2/null/False;2us/b/1/2/False;2us/b/2/3/True;2us/b2/3/null/False;3eu/c/2/3/False;3eu/c2/3/null/False" "run 4 check"
  expect_eq "$(snap_yaml)" "1/a/2024-01-01/2024-02-01;1/a2/2024-02-01/9999-12-31;2/b/2024-01-01/2024-03-01;2/b2/2024-03-01/9999-12-31;3/c/2024-02-01/9999-12-31" "run 4 yaml"
  # the snapshot's column test runs with ingot test
  run "$INGOT" test --select items_yaml
  expect_ok
  expect_out "PASS not_null_items_yaml_id"
}

test_tf_snapshot_config_errors() {
  jaffle
  cat > snapshots/bad.sql <<'EOF'
{% snapshot bad %}
{{ config(unique_key='id', strategy='timestamp') }}
select 1 as id
{% endsnapshot %}
EOF
  run "$INGOT" snapshot --select bad
  expect_rc 14
  expect_out "the timestamp strategy needs updated_at"
  expect_out "set updated_at to the column"
}

test_tf_source_freshness() {
  jaffle
  run "$INGOT" source freshness
  expect_ok
  # items: loaded 2024 against warn_after 1 day (the source's); events: 3 hours old
  # (the 'ignored' row is filtered out) against warn 2 hours, error 1 day
  expect_out "WARN freshness of src.items"
  expect_out "WARN freshness of src.events"
  expect_out "Done. PASS=0 WARN=2 ERROR=0 SKIP=0 TOTAL=2"
  grep -q 'https://schemas.getdbt.com/dbt/sources/v3.json' target/sources.json || fail "sources.json"
  grep -q '"unique_id":"source.jaffle.src.events","status":"warn"' target/sources.json || fail "status"
  run "$INGOT" query "update src.events set loaded_at = now()::timestamp - interval 2 day"
  expect_ok
  run "$INGOT" source freshness
  expect_rc 14
  expect_out "ERROR STALE freshness of src.events"
  expect_out "configured to error after 86400 s"
}

# End-to-end tests of the built-in dbt_utils and dbt_expectations packages
# (src/transform/builtin_tests.c) on the project tests/dbt/expectations:
# - as users declare them: properties/pass.yml and properties/fail.yml list
#   every generic test of both packages in `data_tests:`, on data that passes
#   and on data that fails; one `ingot test` runs each file;
# - as macros called from SQL: models/checks/expect_pass.sql and
#   expect_fail.sql render the same tests in one `ingot run`, one row per
#   test with the number of failing rows, compared to expected_failures.txt.

EXP_DBT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../dbt" && pwd)

expectations_project() {
  cp -r "$EXP_DBT/expectations/." .
}

test_tf_expectations_pass_and_fail() {
  expectations_project
  run "$INGOT" run
  expect_ok
  expect_out "Done. PASS=10 WARN=0 ERROR=0 SKIP=0 TOTAL=10"
  # every test of both packages is exercised on both sides
  expect_eq "$(q "select count(distinct split_part(test, '/', 1)) from expect_pass where test like 'expect_%'")" "63" "dbt_expectations tests passing"
  expect_eq "$(q "select count(distinct split_part(test, '/', 1)) from expect_pass where test not like 'expect_%'")" "16" "dbt_utils tests passing"
  expect_eq "$(q "select count(distinct split_part(test, '/', 1)) from expect_fail")" "79" "tests failing"
  # passing data: no failing rows anywhere
  expect_eq "$(q "select coalesce(string_agg(test || '=' || failures, ' '), 'none') from expect_pass where failures <> 0")" "none" "failures on passing data"
  # failing data: exactly the rows a user would see
  q "select test || ' ' || failures from expect_fail order by test" > got.txt
  diff -u "$EXP_DBT/expectations/expected_failures.txt" got.txt || fail "failing rows differ from expected_failures.txt"
}

test_tf_expectations_yaml() {
  expectations_project
  rm -rf models/checks models/utils
  run "$INGOT" run
  expect_ok
  cp properties/pass.yml models/
  run "$INGOT" test
  expect_ok
  expect_out "Done. PASS=86 WARN=0 ERROR=0 SKIP=0 TOTAL=86"
  expect_no_out " FAIL "
  rm models/pass.yml
  cp properties/fail.yml models/
  run "$INGOT" test
  expect_fail
  expect_out "Done. PASS=0 WARN=0 ERROR=82 SKIP=0 TOTAL=82"
  expect_out "FAIL 6 dbt_utils_equality_good_id__name__ref_bad_ "
  expect_out "FAIL 2 dbt_utils_mutually_exclusive_ranges_bad_lo__hi "
  expect_out "FAIL 1 dbt_expectations_expect_column_to_exist_good_missing_col "
  # the same numbers of failing rows as the macros give when called from SQL
  diff <(grep -o " FAIL [0-9]* " <<<"$OUT" | awk '{print $2}' | sort -n) \
       <(awk '{print $2}' "$EXP_DBT/expectations/expected_failures.txt" | sort -n) >/dev/null ||
    fail "the failing-row counts of ingot test differ from expected_failures.txt"
}

test_tf_expectations_sql_helpers() {
  expectations_project
  run "$INGOT" run
  expect_ok
  expect_eq "$(q "select star_rows || '|' || replace(star_columns, ',', ' ') from utils_sql")" "5|id name amount category day lo hi seq" "star"
  expect_eq "$(q "select surrogate_key = md5('1-alice') from utils_sql")" "true" "generate_surrogate_key"
  expect_eq "$(q "select coalesce(cast(divided_by_zero as varchar), 'null') || '|' || divided from utils_sql")" "null|2.5" "safe_divide"
  expect_eq "$(q "select replace(categories, ',', ' ') || '|' || pivot_counts from utils_sql")" "a b c|2/2/1" "get_column_values, pivot"
  expect_eq "$(q "select spine_days || '|' || union_counts from utils_sql")" "7|11/2/5" "date_spine, union_relations"
}

# An installed package named dbt_utils replaces the built-in one whole; the
# built-in dbt_expectations stays.
test_tf_expectations_installed_package_wins() {
  mkdir -p models pkgs/dbt_utils/macros
  printf 'version: 1\nname: own\n' > ingot.yml
  printf 'name: own\nversion: "1.0"\nprofile: own\n' > dbt_project.yml
  printf 'packages:\n  - local: pkgs/dbt_utils\n' > packages.yml
  printf 'name: dbt_utils\nversion: "9.9.9"\nconfig-version: 2\n' > pkgs/dbt_utils/dbt_project.yml
  cat > pkgs/dbt_utils/macros/mine.sql <<'SQL'
{% test expression_is_true(model, expression) %}select 'installed' as which{% endtest %}
SQL
  cat > models/which.sql <<'SQL'
select
  (select which from ({{ dbt_utils.test_expression_is_true(ref('one'), expression='x = 1') }}) q) as utils,
  (select count(*) from ({{ dbt_expectations.test_expect_column_values_to_be_between(ref('one'), 'x', min_value=2) }}) q) as expectations
SQL
  echo "select 1 as x" > models/one.sql
  run "$INGOT" deps
  expect_ok
  run "$INGOT" run
  expect_ok
  expect_eq "$(q "select utils || '|' || expectations from which")" "installed|1" "installed dbt_utils, built-in dbt_expectations"
  # a dispatch search order lets the project replace a built-in test's SQL
  cat >> dbt_project.yml <<'YML'
dispatch:
  - macro_namespace: dbt_expectations
    search_order: [own, dbt_expectations]
YML
  mkdir -p macros
  cat > macros/own_between.sql <<'SQL'
{% macro default__test_expect_column_values_to_be_between(model, column_name, min_value, max_value, row_condition, strictly) %}
select 1 as a union all select 2 union all select 3
{% endmacro %}
SQL
  run "$INGOT" run
  expect_ok
  expect_eq "$(q "select utils || '|' || expectations from which")" "installed|3" "dispatched to the project's macro"
}

test_tf_expectations_errors() {
  expectations_project
  rm -rf models/checks models/utils
  echo "select * from ({{ dbt_expectations.test_expect_column_values_to_be_between(ref('good'), 'id') }}) q" > models/checks_bad.sql
  run "$INGOT" run
  expect_fail
  expect_err "a *_between test needs min_value, max_value or both"
  echo "select * from ({{ dbt_utils.test_mutually_exclusive_ranges(ref('good'), 'lo', 'hi', gaps='sometimes') }}) q" > models/checks_bad.sql
  run "$INGOT" run
  expect_fail
  expect_err "gaps must be one of not_allowed, allowed, required"
  # a test that reads the model's columns cannot take a `where` config: that
  # test errors, the others run
  rm models/checks_bad.sql
  run "$INGOT" run
  expect_ok
  cat > models/where.yml <<'YML'
version: 2
models:
  - name: bad
    columns:
      - name: amount
        data_tests:
          - dbt_expectations.expect_column_values_to_be_between:
              min_value: 10
              config:
                where: "id = 1"
          - dbt_expectations.expect_column_to_exist:
              config:
                where: "id = 1"
YML
  run "$INGOT" test
  expect_fail
  expect_out "Done. PASS=1 WARN=0 ERROR=1 SKIP=0 TOTAL=2"
  expect_out "remove \`where\` from the test's config"
}

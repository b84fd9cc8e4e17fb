# End-to-end tests of incremental models and hooks on small dbt projects
# written by the tests: every incremental strategy compared row for row
# across runs, incremental_predicates, on_schema_change, hooks outside the
# transaction (before_begin / after_commit) and their order, and errors
# with the position of the ref() that caused them.

# inc_project NAME: an ingot + dbt project in cwd, with a source table
# raw.events(id, k, v, ts) the tests change between runs
inc_project() {
  printf 'version: 1\nname: %s\n' "$1" > ingot.yml
  printf 'name: %s\nversion: "1.0"\nprofile: %s\n' "$1" "$1" > dbt_project.yml
  mkdir -p models macros
  cat > models/_sources.yml <<'YML'
version: 2
sources:
  - name: raw
    schema: raw
    tables:
      - name: events
YML
  run "$INGOT" query "create schema if not exists raw; create or replace table raw.events as select * from (values (1, 'a', 10, timestamp '2024-01-01 10:00'), (2, 'b', 20, timestamp '2024-01-02 10:00'), (3, 'c', 30, timestamp '2024-01-03 10:00')) t(id, k, v, ts)"
  expect_ok
}

# rows TABLE: "id:k:v;..." ordered by id
rows() { q "select string_agg(id || ':' || k || ':' || v, ';' order by id) from $1"; }

test_tf_hooks_outside_transaction() {
  inc_project hooks
  run "$INGOT" query "create table hook_log(i integer, what varchar, in_txn boolean)"
  expect_ok
  # dbt's order: before_begin, pre-hook, model, post-hook, COMMIT, after_commit.
  # Each hook logs the row count of hook_log so the order is visible.
  cat > models/m.sql <<'SQL'
{{ config(materialized='table',
   pre_hook=[before_begin("insert into hook_log select count(*), 'before_begin', false from hook_log"),
             "insert into hook_log select count(*), 'pre', true from hook_log"],
   post_hook=[after_commit("insert into hook_log select count(*), 'after_commit', false from hook_log"),
              "insert into hook_log select count(*), 'post', true from hook_log"]) }}
select 1 as x
SQL
  run "$INGOT" run
  expect_ok
  expect_eq "$(q "select string_agg(what, '>' order by i) from hook_log")" "before_begin>pre>post>after_commit" "hook order"
  # a failing model rolls back the in-transaction hooks, but a before_begin
  # hook has already committed, and after_commit never runs
  run "$INGOT" query "delete from hook_log"
  expect_ok
  sed -i 's/select 1 as x/select no_such_column/' models/m.sql
  run "$INGOT" run
  expect_fail
  expect_eq "$(q "select string_agg(what, '>' order by i) from hook_log")" "before_begin" "after a failure"
}

test_tf_hooks_in_project_yaml() {
  inc_project hooky
  run "$INGOT" query "create table hook_log(i integer, what varchar)"
  expect_ok
  cat >> dbt_project.yml <<'YML'
models:
  hooky:
    +post-hook:
      - sql: "insert into hook_log select count(*), 'after' from hook_log"
        transaction: false
      - "insert into hook_log select count(*), 'inside' from hook_log"
YML
  printf "select 1 as x\n" > models/m.sql
  run "$INGOT" run
  expect_ok
  expect_eq "$(q "select string_agg(what, '>' order by i) from hook_log")" "inside>after" "yaml hooks"
}

test_tf_ref_error_position() {
  inc_project refpos
  printf '{%% macro pick() %%}\n  select * from {{ ref("nope") }}\n{%% endmacro %%}\n' > macros/pick.sql
  printf 'select 1 as x\n-- the macro refs a model that does not exist\n{{ pick() }}\n' > models/a.sql
  run "$INGOT" run
  expect_fail
  expect_err "models/a.sql:3:4: Compilation Error: model 'model.refpos.a' (models/a.sql) depends on a node named 'nope' which was not found"
  expect_err "{{ pick() }}"
  printf 'select 1 as x\n' > models/a.sql
  printf 'select *\nfrom {{ ref("a") }} join {{ ref("aa") }} using (x)\n' > models/b.sql
  run "$INGOT" compile
  expect_fail
  expect_err "models/b.sql:2:29: Compilation Error"
  expect_err "did you mean ref('a')?"
}

# inc_model NAME CONFIG: an incremental model over raw.events
inc_model() {
  cat > "models/$1.sql" <<SQL
{{ config(materialized='incremental', $2) }}
select id, k, v, ts from {{ source('raw', 'events') }}
{% if is_incremental() %}where id >= (select max(id) from {{ this }}) - 1{% endif %}
SQL
}

test_tf_incremental_every_strategy() {
  inc_project strat
  inc_model s_append "incremental_strategy='append'"
  inc_model s_di "incremental_strategy='delete+insert', unique_key='id'"
  inc_model s_merge "incremental_strategy='merge', unique_key='id'"
  inc_model s_merge2 "incremental_strategy='merge', unique_key=['id', 'k']"
  inc_model s_io "incremental_strategy='insert_overwrite', partition_by='k'"
  run "$INGOT" run
  expect_ok
  expect_out "Done. PASS=5 WARN=0 ERROR=0 SKIP=0 TOTAL=5"
  for t in s_append s_di s_merge s_merge2 s_io; do
    expect_eq "$(rows $t)" "1:a:10;2:b:20;3:c:30" "first run of $t"
  done
  # change row 3, add row 4; the models reread ids >= 2
  run "$INGOT" query "update raw.events set v = 33 where id = 3; insert into raw.events values (4, 'd', 40, timestamp '2024-01-04 10:00')"
  expect_ok
  run "$INGOT" run
  expect_ok
  expect_eq "$(rows s_append)" "1:a:10;2:b:20;2:b:20;3:c:30;3:c:33;4:d:40" "append adds what it reads again"
  expect_eq "$(rows s_di)" "1:a:10;2:b:20;3:c:33;4:d:40" "delete+insert"
  expect_eq "$(rows s_merge)" "1:a:10;2:b:20;3:c:33;4:d:40" "merge"
  expect_eq "$(rows s_merge2)" "1:a:10;2:b:20;3:c:33;4:d:40" "merge on a compound key"
  expect_eq "$(rows s_io)" "1:a:10;2:b:20;3:c:33;4:d:40" "insert_overwrite by partition"
  # --full-refresh rebuilds append from scratch
  run "$INGOT" run --full-refresh --select s_append
  expect_ok
  expect_eq "$(rows s_append)" "1:a:10;2:b:20;3:c:33;4:d:40" "full refresh"
}

test_tf_incremental_insert_overwrite() {
  inc_project io
  # partition by day: a run replaces the days it selects, whole
  cat > models/daily.sql <<'SQL'
{{ config(materialized='incremental', incremental_strategy='insert_overwrite',
          partition_by={'field': 'day', 'data_type': 'date'}) }}
select id, k, v, ts::date as day from {{ source('raw', 'events') }}
{% if is_incremental() %}where ts::date >= date '2024-01-02'{% endif %}
SQL
  run "$INGOT" run
  expect_ok
  # day 2 loses row 2 and gains row 5; day 1 is not reread and stays
  run "$INGOT" query "delete from raw.events where id in (1, 2); insert into raw.events values (5, 'e', 50, timestamp '2024-01-02 11:00')"
  expect_ok
  run "$INGOT" run
  expect_ok
  expect_eq "$(rows daily)" "1:a:10;3:c:30;5:e:50" "partitions replaced"
  # without partition_by the whole table is replaced
  printf "{{ config(materialized='incremental', incremental_strategy='insert_overwrite') }}\nselect id, k, v, ts::date as day from {{ source('raw', 'events') }} where id > 3\n" > models/daily.sql
  run "$INGOT" run
  expect_ok
  expect_eq "$(rows daily)" "5:e:50" "whole table replaced"
}

test_tf_incremental_predicates() {
  inc_project preds
  # the predicate keeps rows with v < 25 out of the delete, so old versions stay
  inc_model p_di "incremental_strategy='delete+insert', unique_key='id', incremental_predicates=['DBT_INTERNAL_DEST.v >= 25']"
  inc_model p_merge "incremental_strategy='merge', unique_key='id', incremental_predicates=['DBT_INTERNAL_DEST.v >= 25']"
  run "$INGOT" run
  expect_ok
  run "$INGOT" query "update raw.events set v = v + 1 where id in (2, 3)"
  expect_ok
  run "$INGOT" run
  expect_ok
  # id 2 (v 20 < 25): not deleted, so delete+insert keeps both versions;
  # merge does not match it and inserts the new one beside it
  expect_eq "$(rows p_di)" "1:a:10;2:b:20;2:b:21;3:c:31" "delete+insert with predicates"
  expect_eq "$(rows p_merge)" "1:a:10;2:b:20;2:b:21;3:c:31" "merge with predicates"
  grep -q "(DBT_INTERNAL_DEST.v >= 25) and" target/run/preds/models/p_merge.sql || fail "predicate not in the merge"
}

test_tf_incremental_microbatch() {
  inc_project micro
  cat > models/mb.sql <<'SQL'
{{ config(materialized='incremental', incremental_strategy='microbatch',
          event_time='ts', batch_size='day', begin='2024-01-02', lookback=1) }}
select id, k, v, ts from {{ source('raw', 'events') }}
SQL
  run "$INGOT" run
  expect_ok
  # first run: from begin (row 1 is before it) to the end of today
  expect_eq "$(rows mb)" "2:b:20;3:c:30" "first run"
  # a late change to an old day is outside the lookback window; a row from
  # today is inside it; a row dated tomorrow is not yet
  run "$INGOT" query "update raw.events set v = 99 where id = 2; insert into raw.events values (6, 'f', 60, now()::timestamp), (7, 'g', 70, now()::timestamp + interval 2 day)"
  expect_ok
  run "$INGOT" run
  expect_ok
  expect_eq "$(rows mb)" "2:b:20;3:c:30;6:f:60" "second run"
  # the run again is idempotent: the window is replaced, not appended to
  run "$INGOT" run
  expect_ok
  expect_eq "$(rows mb)" "2:b:20;3:c:30;6:f:60" "third run"
  # --full-refresh rebuilds from begin and sees the late change
  run "$INGOT" run --full-refresh
  expect_ok
  expect_eq "$(rows mb)" "2:b:99;3:c:30;6:f:60" "full refresh"
  # a missing setting is an error that says what to set
  printf "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts') }}\nselect 1 as id, now()::timestamp as ts\n" > models/mb.sql
  run "$INGOT" run --full-refresh
  expect_fail
  expect_out "needs event_time, batch_size and begin"
}

test_tf_incremental_on_schema_change() {
  inc_project osc
  cat > models/o.sql <<'SQL'
{{ config(materialized='incremental', unique_key='id', on_schema_change=var('osc', 'ignore')) }}
select id, v{% if var('extra', false) %}, v * 2 as extra{% endif %} from {{ source('raw', 'events') }}
SQL
  run "$INGOT" run
  expect_ok
  # ignore: the new column is not added, the rows still merge
  run "$INGOT" run --vars '{extra: true}'
  expect_ok
  expect_eq "$(q "select count(*) from information_schema.columns where table_name = 'o'")" "2" "ignore"
  # fail: the run fails and says how to proceed; the table is untouched
  run "$INGOT" run --vars '{extra: true, osc: fail}'
  expect_fail
  expect_out "out of sync"
  # append_new_columns adds it and fills it for the rows it writes
  run "$INGOT" run --vars '{extra: true, osc: append_new_columns}'
  expect_ok
  expect_eq "$(q "select string_agg(id || ':' || extra, ';' order by id) from o")" "1:20;2:40;3:60" "append_new_columns"
  # sync_all_columns drops it again
  run "$INGOT" run --vars '{osc: sync_all_columns}'
  expect_ok
  expect_eq "$(q "select count(*) from information_schema.columns where table_name = 'o'")" "2" "sync_all_columns"
}

test_tf_project_materialization() {
  inc_project custom
  run "$INGOT" query "create table hook_log(i integer, what varchar)"
  expect_ok
  # a new materialization, with dbt's usual building blocks
  cat > macros/snapshot_table.sql <<'SQL'
{% materialization snapshot_table, default %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set tmp = make_temp_relation(target_relation) -%}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks) }}
  {% call statement('main') -%}
    create or replace table {{ target_relation }} as
    select *, '{{ config.get('stamp', 'none') }}' as stamp from ({{ sql }}) as s
  {%- endcall %}
  {% call statement('count', fetch_result=True) -%}
    select count(*) as n from {{ target_relation }}
  {%- endcall %}
  {%- set n = load_result('count')['data'][0][0] -%}
  {% call statement('log') %}insert into hook_log values ({{ n }}, 'rows {{ tmp.identifier }}'){% endcall %}
  {{ run_hooks(post_hooks) }}
  {{ adapter.commit() }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
SQL
  cat > models/snap.sql <<'SQL'
{{ config(materialized='snapshot_table', stamp='v1', pre_hook="insert into hook_log values (0, 'pre')",
          post_hook=after_commit("insert into hook_log values (9, 'after')")) }}
select id, k from {{ source('raw', 'events') }}
SQL
  # a project's `table` for duckdb replaces the built-in one
  cat > macros/table.sql <<'SQL'
{% materialization table, adapter='duckdb' %}
  {% call statement('main') -%}
    create or replace table {{ this }} as select 'mine' as built_by, * from ({{ sql }}) as s
  {%- endcall %}
  {{ return({'relations': [this]}) }}
{% endmaterialization %}
SQL
  printf "{{ config(materialized='table') }}\nselect 1 as x\n" > models/t.sql
  printf "select * from {{ ref('snap') }}\n" > models/downstream.sql
  run "$INGOT" run
  expect_ok
  expect_out "Done. PASS=3 WARN=0 ERROR=0 SKIP=0 TOTAL=3"
  expect_eq "$(q "select string_agg(id || k || stamp, ';' order by id) from snap")" "1av1;2bv1;3cv1" "custom materialization"
  expect_eq "$(q "select string_agg(i || ' ' || what, ';' order by i) from hook_log")" "0 pre;3 rows snap__dbt_tmp" "its statements and hooks"
  expect_eq "$(q "select built_by || x from t")" "mine1" "the project's table wins"
  expect_eq "$(q "select count(*) from downstream")" "3" "a view over it"
  # forgetting return() is an error that says what to write
  sed -i '/return(/d' macros/table.sql
  run "$INGOT" run --select t
  expect_fail
  expect_out "did not return the relations it built"
  # an unknown materialization names what exists and how to add one
  sed -i "s/materialized='table'/materialized='nothing_like_it'/" models/t.sql
  run "$INGOT" run --select t
  expect_fail
  expect_out "unknown materialization 'nothing_like_it'"
}

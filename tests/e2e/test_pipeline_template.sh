# End-to-end tests of task templating: command, sql, params (and dbt vars)
# are Jinja templates rendered with the run's variables, Airflow-like macros
# and env_var(); mistakes are reported with the task and the position.

test_pipeline_template_variables_and_macros() {
  "$INGOT" init . >/dev/null
  cat >> ingot.yml <<'Y'
pipelines:
  daily:
    schedule: "@daily"
    params:
      region: eu
      day_before: "{{ macros.ds_add(ds, -1) }}"
      regions: [eu, us]
    tasks:
      - name: echo
        kind: shell
        params: {region: "{{ params.region | upper }}-1"}
        command: >-
          printf '%s\n' "{{ ds }}|{{ ds_nodash }}|{{ ds | ds_add(1) }}|{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }}|{{ params.region }}|{{ params.day_before }}|{{ pipeline }}.{{ task }}.{{ try_number }}|{{ env_var('IG_T_X') }}|{{ env_var('IG_T_MISSING', 'dflt') }}|{% for r in params.regions %}{{ r }};{% endfor %}|{{ run_id[:6] }}|{{ data_interval_start[:10] }}|{{ ts_nodash[:8] }}" > out.txt
      - name: load
        kind: sql
        depends_on: echo
        params: {n: 21}
        sql: "create table t as select '{{ ds }}' as ds, {{ params.n * 2 }} as n"
Y
  IG_T_X=hello run "$INGOT" pipeline run daily; expect_ok
  ds=$(date -u -d yesterday +%F)
  exp="$ds|$(date -u -d yesterday +%Y%m%d)|$(date -u +%F)|$(date -u -d yesterday +%d/%m/%Y)|EU-1|$(date -u -d '2 days ago' +%F)|daily.echo.1|hello|dflt|eu;us;|manual|$ds|$(date -u -d yesterday +%Y%m%d)"
  expect_eq "$(cat out.txt)" "$exp" "rendered command"
  expect_eq "$(q "select ds || '|' || n from t")" "$ds|42" "rendered sql"
}

test_pipeline_template_errors_name_task_and_position() {
  "$INGOT" init . >/dev/null
  cp ingot.yml base.yml
  # a syntax error: caught when the pipelines are read, with its position
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  p:
    tasks:
      - {name: t, kind: shell, command: "echo {{ ds }"}
Y
  run "$INGOT" validate; expect_fail
  line=$(grep -n 'echo {{' ingot.yml | cut -d: -f1)
  expect_err "ingot.yml:$line:"
  expect_err "task 't' (pipeline 'p'), command:"
  # an undefined name: the try fails with the task, field and column
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  p:
    tasks:
      - name: t
        kind: shell
        command: "echo {{ dss }} > never.txt"
Y
  run "$INGOT" pipeline run p; expect_rc 14
  [ ! -e never.txt ] || fail "the command ran with an undefined variable"
  line=$(grep -n 'echo {{ dss' ingot.yml | cut -d: -f1)
  col=$(( $(grep 'echo {{ dss' ingot.yml | awk '{print index($0, "{{ dss")}') ))
  msg=$(q "select error from ingot.task_runs")
  grep -qF "task 't' (pipeline 'p'), command:" <<<"$msg" || fail "task error: $msg"
  grep -qF "dss" <<<"$msg" || fail "task error lacks the name: $msg"
  grep -qF "undefined" <<<"$msg" || fail "task error: $msg"
  run "$INGOT" pipeline logs p; expect_out "ingot.yml:$line:$col: task 't' (pipeline 'p'), command: 'dss' is undefined"
  # env_var without a default, unset
  cat base.yml - > ingot.yml <<'Y'
pipelines:
  p:
    tasks:
      - {name: t, kind: shell, command: "echo {{ env_var('IG_T_UNSET') }}"}
Y
  run "$INGOT" pipeline run p; expect_rc 14
  expect_eq "$(q "select count(*) from ingot.task_runs where error like '%IG_T_UNSET%is not set%'")" 1
}

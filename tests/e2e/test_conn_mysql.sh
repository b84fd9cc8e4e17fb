# End-to-end tests of the MySQL/MariaDB connector against a throwaway
# MariaDB on loopback (tests/servers/start.sh). A missing server is a
# failure, never a silent skip.

my_up() {
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  local envf=${INGOT_TEST_SERVERS_DIR:-/tmp/ingot-test-servers}/env.sh
  "$root/tests/servers/start.sh" mariadb >"$TMPT/servers.log" 2>&1 \
    || fail "MariaDB test server could not be started (tests/servers/start.sh mariadb): $(tail -5 "$TMPT/servers.log")"
  source "$envf"
  MYDB=t_${FUNCNAME[1]#test_}
  export MYH=$INGOT_TEST_MY_HOST MYP=$INGOT_TEST_MY_PORT MYU=$INGOT_TEST_MY_USER MYPW=$INGOT_TEST_MY_PASSWORD
  my -e "DROP DATABASE IF EXISTS $MYDB; CREATE DATABASE $MYDB" '' || fail "cannot create database $MYDB"
}
my() { mariadb --no-defaults --protocol=tcp -h "$MYH" -P "$MYP" -u "$MYU" -p"$MYPW" -N -B "$1" "$2" "${3-$MYDB}"; }
mysql_exec() { my -e "SET sql_mode=''; $1"; }

my_project() {
  "$INGOT" init . >/dev/null
  cat >> ingot.yml <<YML
sources:
  shop:
    type: mariadb
    host: \${MYH}
    port: \${MYP}
    database: $MYDB
    user: \${MYU}
    password: \${MYPW}
YML
  [ -n "${1:-}" ] && printf '    streams:\n%s\n' "$1" >> ingot.yml
  return 0
}

test_conn_mysql_types_and_zero_dates() {
  my_up
  mysql_exec "CREATE TABLE t (id int unsigned PRIMARY KEY, bu bigint unsigned, d decimal(12,3), dt datetime(6),
      ts timestamp(3) NULL, dd date, tm time, j json, b varbinary(8), e enum('a','b'), txt text, bt bit(8));
    INSERT INTO t VALUES (1, 18446744073709551615, -123.456, '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123',
      '2024-01-02', '-838:59:59', '{\"a\": [1, 2]}', X'00FF', 'b', 'x,\"y\"\nz', b'101'),
      (2, NULL, NULL, '0000-00-00 00:00:00', NULL, '2024-00-00', NULL, NULL, '', NULL, '', NULL);"
  my_project
  run "$INGOT" source check shop; expect_ok; expect_out "MariaDB"
  run "$INGOT" source discover shop; expect_ok; expect_out "UBIGINT"; expect_out "JSON"
  run "$INGOT" source sync shop; expect_ok
  expect_err "zero dates"; expect_err "were kept as NULL (2 rows)"
  expect_eq "$(q "select bu, d, dt, ts, dd, tm, j->'a'->>1, hex(b), e, bt from bronze.shop__t where id = 1")" \
    "18446744073709551615,-123.456,2024-01-02 03:04:05.123456,2024-01-02 03:04:05.123+00,2024-01-02,-838:59:59,2,00FF,b,5"
  expect_eq "$(q "select dt is null, dd is null, b = ''::blob, txt from bronze.shop__t where id = 2")" 'true,true,true,""'
  expect_eq "$(q "select txt from bronze.shop__t where id = 1")" '"x,""y""
z"'
}

test_conn_mysql_incremental() {
  my_up
  mysql_exec "CREATE TABLE o (id int PRIMARY KEY, amount decimal(10,2), updated_at datetime);
    INSERT INTO o VALUES (1, 1, '2024-01-01'), (2, 2, '2024-01-01'), (3, 3, '2024-01-02'), (4, 4, NULL);"
  my_project '      o: {mode: incremental_dedup, cursor: updated_at}'
  run "$INGOT" source sync shop --batch-rows 1; expect_ok; expect_err "1 rows have NULL in cursor"
  mysql_exec "INSERT INTO o VALUES (5, 5, '2024-01-02'); UPDATE o SET amount = 10, updated_at = '2024-01-03' WHERE id = 1;"
  run "$INGOT" source sync shop; expect_ok
  expect_eq "$(q 'select count(*) from bronze.shop__o')" "6"
  expect_eq "$(q 'select count(*), sum(amount) from silver.shop__o')" "5,24.00"
  run "$INGOT" source state shop; expect_out "updated_at >= 2024-01-03 00:00:00"
}

test_conn_mysql_errors() {
  my_up
  my_project
  MYPW=wrong-pw-123 run "$INGOT" source check shop; expect_rc 12
  expect_err "Access denied"; ! grep -q wrong-pw-123 <<<"$ERR" || fail "password shown"
  sed -i "s/^    port: .*/    port: 1/" ingot.yml
  run "$INGOT" source check shop; expect_rc 11; expect_err "check that the server is running"
}

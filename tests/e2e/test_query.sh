# End-to-end tests of `ingot query`: every output format, errors as a user
# sees them, files written atomically, SQL from files and stdin, and the
# interactive shell driven through a pseudo-terminal.

setup() {
  "$INGOT" init . >/dev/null 2>&1 || printf 'name: t\n' > ingot.yml
  run "$INGOT" query "create table people as select * from (values
      (1, 'alice', 12.50::decimal(10,2), true, date '2024-01-31', timestamp '2024-01-31 12:00:00'),
      (2, 'bob, \"the builder\"', null, false, null, null),
      (3, 'zoë|東京', 3.00, null, date '1999-12-31', timestamp '1999-12-31 23:59:59'))
      t(id, name, amount, active, born, seen)"
  expect_ok
}

# Run a program on a pseudo-terminal, typing the lines of stdin (one per
# line; "^C" sends Ctrl-C, "^D" Ctrl-D); prints what the program wrote.
pty_run() {
  python3 - "$@" <<'EOF'
import os, pty, sys, time, select
lines = os.environ["PTY_INPUT"].split("\n")
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "dumb"
    os.environ["COLUMNS"] = "100"
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
def pump(t, until=None, since=0):
    # read for t seconds, or until what arrived after `since` ends with `until`
    global out
    end = time.time() + t
    while time.time() < end:
        if until is not None and len(out) > since and out.endswith(until):
            return True
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                d = os.read(fd, 65536)
            except OSError:
                return False
            if not d:
                return False
            out += d
    return True
pump(30, b"> ")
for l in lines:
    if l == "":
        continue
    mark = len(out)
    if l == "^C": os.write(fd, b"\x03")
    elif l == "^D": os.write(fd, b"\x04")
    else: os.write(fd, l.encode() + b"\r")
    pump(30, b"> ", mark)
pump(2)
deadline = time.time() + 30
while True:  # never hang the suite: a shell that does not leave fails the test
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    if time.time() > deadline:
        os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
        out += b"\n[pty_run: the program did not exit]\n"
        break
    pump(0.2)
sys.stdout.write(out.decode("utf-8", "replace").replace("\r\n", "\n"))
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)
EOF
}

test_query_table() {
  setup
  run "$INGOT" query "select id, name, amount from people order by id"
  expect_ok
  expect_out "│ id │ name"
  expect_out "│  1 │ alice"
  expect_out "│  12.50 │"       # numbers right-aligned
  expect_out "│   NULL │"       # NULL shown
  expect_out "3 rows ("
  expect_out "ms)"
  run "$INGOT" query "select 1 as x where false"
  expect_ok
  expect_out "0 rows"
  run "$INGOT" query "insert into people (id, name) values (4, 'dan'), (5, 'eve')"
  expect_ok
  expect_out "OK, 2 rows changed"
}

test_query_table_fits_terminal_width() {
  setup
  COLUMNS=40 run "$INGOT" query "select id, repeat('x', 100) as long, repeat('y', 60) as other from people"
  expect_ok
  expect_out "…"
  python3 - "$OUT" <<'EOF'
import sys, unicodedata
for line in sys.argv[1].splitlines():
    w = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
    assert w <= 40, (w, line)
EOF
  # unicode: the wide name lines up with the others
  run "$INGOT" query "select name from people order by id"
  expect_ok
  expect_out "│ zoë|東京           │"
  expect_out "│ alice              │"
}

test_query_max_rows() {
  setup
  run "$INGOT" query --max-rows 3 "select * from range(10) t(n)"
  expect_ok
  expect_out "… 7 more rows"
  expect_out "10 rows"
  expect_no_out "│ 3 │"
  run "$INGOT" query "select * from range(100) t(n)"   # not a terminal: all rows
  expect_out "│ 99 │"
  run "$INGOT" query --max-rows -5 "select 1"
  expect_rc 2
}

test_query_csv() {
  setup
  run "$INGOT" query --format csv "select id, name, amount, active from people order by id"
  expect_ok
  expect_eq "$OUT" 'id,name,amount,active
1,alice,12.50,true
2,"bob, ""the builder""",,false
3,zoë|東京,3.00,'
  run "$INGOT" query --format csv --no-header "select 'a\"b' as q, '' as empty, null as n"
  expect_ok
  expect_eq "$OUT" '"a""b","",'
  # a CSV reader gets the same values back
  "$INGOT" query --format csv "select name, 'x
y' as nl from people order by id" > out.csv
  python3 - <<'EOF'
import csv
rows = list(csv.reader(open("out.csv", newline="")))
assert rows[0] == ["name", "nl"], rows
assert rows[2][0] == 'bob, "the builder"', rows
assert rows[1][1] == "x\ny", rows
EOF
}

test_query_tsv() {
  setup
  run "$INGOT" query --format tsv "select 'a	b' as t, 'line
two' as n, null as z"
  expect_ok
  expect_eq "$OUT" "t	n	z
a\\tb	line\\ntwo	"
}

test_query_json() {
  setup
  "$INGOT" query --format json "select id, name, amount, active, born, '{\"k\": [1, 2]}'::json as j,
      170141183460469231731687303715884105727::hugeint as big, 'nan'::double as nan
      from people order by id" > out.json
  python3 - <<'EOF'
import json
from decimal import Decimal
rows = json.load(open("out.json"), parse_float=Decimal)
assert len(rows) == 3, rows
a, b, c = rows
assert a["id"] == 1 and isinstance(a["id"], int), a
assert a["amount"] == Decimal("12.50"), a
assert a["active"] is True and b["active"] is False and c["active"] is None, rows
assert b["amount"] is None, b
assert b["name"] == 'bob, "the builder"', b
assert c["name"] == "zoë|東京", c
assert a["born"] == "2024-01-31", a
assert a["j"] == {"k": [1, 2]}, a
assert a["big"] == 170141183460469231731687303715884105727, a
assert a["nan"] == "NaN", a
EOF
  run "$INGOT" query --format json "select 1 as x where false"
  expect_eq "$OUT" "[]"
}

test_query_ndjson() {
  setup
  run "$INGOT" query --format ndjson "select id, name from people order by id"
  expect_ok
  expect_eq "$(wc -l <<<"$OUT" | tr -d ' ')" 3
  expect_eq "$(head -1 <<<"$OUT")" '{"id":1,"name":"alice"}'
}

test_query_markdown() {
  setup
  run "$INGOT" query --format markdown "select id, name from people order by id"
  expect_ok
  expect_eq "$OUT" '| id | name |
| ---: | --- |
| 1 | alice |
| 2 | bob, "the builder" |
| 3 | zoë\|東京 |'
}

test_query_xlsx() {
  setup
  run "$INGOT" query --output out.xlsx "select id, name, amount, active, born, seen from people order by id"
  expect_ok
  [ -f out.xlsx ] || fail "out.xlsx not written"
  ls -A | grep -q '\.tmp\.' && fail "temporary file left: $(ls -A)"
  sheet=$(unzip -p out.xlsx xl/worksheets/sheet1.xml)
  styles=$(unzip -p out.xlsx xl/styles.xml)
  grep -q '<c r="A2"[^>]*><v>1</v></c>' <<<"$sheet" || fail "id is not a number: $sheet"
  grep -q '<c r="C2"[^>]*><v>12.5</v></c>' <<<"$sheet" || fail "amount is not a number: $sheet"
  grep -q '<c r="D2"[^>]*t="b"[^>]*><v>1</v></c>' <<<"$sheet" || fail "active is not a boolean: $sheet"
  grep -q '<c r="E2" s="[0-9]*"><v>45322</v></c>' <<<"$sheet" || fail "born is not a date serial: $sheet"
  grep -q '<c r="F2" s="[0-9]*"><v>45322.5</v></c>' <<<"$sheet" || fail "seen is not a timestamp serial: $sheet"
  grep -q 't="inlineStr"><is><t>alice</t>' <<<"$sheet" || fail "name missing: $sheet"
  grep -q 'formatCode="yyyy-mm-dd"' <<<"$styles" || fail "no date format: $styles"
  grep -q '<b/>' <<<"$styles" || fail "no bold header: $styles"
  # to a pipe: the workbook streams out
  "$INGOT" query --format xlsx "select 1 as one" > piped.xlsx
  unzip -p piped.xlsx xl/worksheets/sheet1.xml | grep -q '<v>1</v>' || fail "piped xlsx"
}

test_query_xlsx_refused_on_terminal() {
  setup
  out=$(script -qec "$INGOT query --format xlsx 'select 1'" /dev/null 2>&1) && fail "xlsx to a terminal succeeded"
  grep -q "refusing to write an XLSX workbook to the terminal" <<<"$out" || fail "no refusal: $out"
  grep -q "\-\-output" <<<"$out" || fail "no hint: $out"
}

test_query_syntax_error_caret() {
  setup
  run "$INGOT" query "selec 1"
  expect_fail
  expect_err 'Parser Error: syntax error at or near "selec"'
  expect_eq "$(grep -A1 'LINE 1:' <<<"$ERR")" "  LINE 1: selec 1
          ^"
  run "$INGOT" query "select id, nope from people"
  expect_fail
  expect_err 'Referenced column "nope" not found'
  expect_eq "$(grep -A1 'LINE 1:' <<<"$ERR")" "  LINE 1: select id, nope from people
                     ^"
  expect_eq "$OUT" ""
}

test_query_sql_file() {
  setup
  printf 'create table t2 as select 41 as v;\n-- the last statement is shown\nselect v + 1 as answer from t2;\n' > q.sql
  run "$INGOT" query --format csv -f q.sql
  expect_ok
  expect_eq "$OUT" "answer
42"
  printf 'select\n  1 +\n  nope;\n' > bad.sql
  run "$INGOT" query -f bad.sql
  expect_fail
  expect_err "bad.sql:3:"
  expect_err "LINE 3:   nope;"
}

test_query_missing_file() {
  setup
  run "$INGOT" query -f missing.sql
  expect_rc 4
  expect_err "SQL file missing.sql does not exist"
}

test_query_stdin() {
  setup
  run bash -c "echo 'select count(*) as n from people' | '$INGOT' query --format csv"
  expect_ok
  expect_eq "$OUT" "n
3"
  run bash -c "printf 'select 7 as x;' | '$INGOT' query --format csv -f -"
  expect_ok
  expect_eq "$OUT" "x
7"
}

test_query_output_missing_dir() {
  setup
  run "$INGOT" query --output nodir/out.csv "select 1"
  expect_fail
  expect_err "directory nodir does not exist"
  [ ! -e nodir ] || fail "nodir was created"
  ls -A | grep -q 'tmp' && fail "temporary file left: $(ls -A)"
  true
}

test_query_output_is_atomic() {
  setup
  echo "old content" > keep.csv
  run "$INGOT" query --output keep.csv "select * from no_such_table"
  expect_fail
  expect_eq "$(cat keep.csv)" "old content"
  # an error in the middle of the result (a failing cast on a later row)
  run "$INGOT" query --output keep.csv "select (case when range < 5000 then '1' else 'x' end)::int as v from range(10000)"
  expect_fail
  expect_eq "$(cat keep.csv)" "old content"
  ls -A | grep -q '\.tmp\.' && fail "temporary file left: $(ls -A)"
  run "$INGOT" query --output keep.csv "select 1 as v"
  expect_ok
  expect_eq "$(cat keep.csv)" "v
1"
  # the format follows the extension
  run "$INGOT" query --output r.json "select 1 as v"
  expect_eq "$(cat r.json)" '[
{"v":1}
]'
}

test_query_usage_errors() {
  setup
  run "$INGOT" query --format yaml "select 1"
  expect_rc 2
  expect_err "unknown format 'yaml'"
  run "$INGOT" query select 1
  expect_rc 2
  expect_err "quote the whole statement"
  run "$INGOT" query -f q.sql "select 1"
  expect_rc 2
}

test_query_big_result_streams() {
  setup
  run "$INGOT" query --format csv --no-header "select range as n from range(300000)"
  expect_ok
  expect_eq "$(wc -l <<<"$OUT" | tr -d ' ')" 300000
  expect_eq "$(tail -1 <<<"$OUT")" 299999
  # a reader that stops early is not an error
  run bash -c "'$INGOT' query --format csv 'select range from range(1000000)' | head -2"
  expect_ok
  expect_eq "$ERR" ""
}

test_query_shell() {
  setup
  export PTY_INPUT="select 40 + 2 as answer;
select name
  from people
  where id = 1;
.tables
.schema people
selec oops;
.format csv
select 'still here' as s;
.quit"
  run pty_run "$INGOT" query
  expect_ok
  expect_out "ingot SQL shell"
  expect_out "│     42 │"
  expect_out "│ alice │"
  expect_out "│ main   │ people │ table │"
  expect_out "│ amount │ DECIMAL(10,2)"
  expect_out 'syntax error at or near "selec"'
  expect_out "still here"
  grep -q "from people" "$HOME/.ingot_history" || fail "history not saved: $(cat "$HOME/.ingot_history")"
  grep -q "^select 40 + 2 as answer;$" "$HOME/.ingot_history" || fail "history entry"
}

test_query_shell_ctrl_c_and_ctrl_d() {
  setup
  export PTY_INPUT="select 'never
^C
select 'fine' as ok;
^D"
  run pty_run "$INGOT" query
  expect_ok
  expect_out "│ fine │"
  expect_no_out "never'"
}

# End-to-end tests of `ingot ingest`: formats, sources (file, files folder,
# http_file), schema evolution, rejects, idempotency, crash safety (kill -9
# at many points), hostile files. Data is generated here; the XLSX fixtures
# are written by tests/data/ingest/mkxlsx.py (a plain zip of XML parts).
SLOW="test_ingest_crash_kill9 test_ingest_hostile_big_line"
DATA=$(cd "$(dirname "${BASH_SOURCE[0]}")/../data/ingest" && pwd)

proj() { "$INGOT" init p >/dev/null && cd p; }
orders_csv() { printf 'id,name,amount,day\n1,apple,1.5,2024-01-01\n2,pear,2.25,2024-01-02\n3,"fig, dried",3,2024-01-03\n' > "${1:-orders.csv}"; }

test_ingest_csv_basic() {
  proj; orders_csv
  run "$INGOT" ingest file orders.csv --source shop; expect_ok
  expect_out "loaded     orders.csv -> bronze.shop__orders: 3 rows"
  expect_eq "$(q "select count(*) from bronze.shop__orders")" 3
  expect_eq "$(q "select replace(name, ',', ';') from bronze.shop__orders where id = 3")" "fig; dried"
  expect_eq "$(q "select typeof(amount) || ' ' || typeof(day) from bronze.shop__orders limit 1")" "DOUBLE DATE"
  expect_eq "$(q "select string_agg(_ingot_row_number::varchar, '|' order by id) from bronze.shop__orders")" "1|2|3"
  expect_eq "$(q "select count(distinct _ingot_batch_id) || ' ' || min(_ingot_source_file) from bronze.shop__orders")" "1 orders.csv"
  expect_eq "$(q "select status || ' ' || rows_accepted || ' ' || rows_rejected from ingot.loads")" "loaded 3 0"
  expect_eq "$(q "select status || ' ' || rows from ingot.runs where kind = 'ingest'")" "ok 3"
  # the raw zone: the file as received, and its manifest
  raw=$(ls lake/raw/shop/orders/dt=*/*-orders.csv); man=$(ls lake/raw/shop/orders/dt=*/*.manifest.json)
  cmp "$raw" orders.csv || fail "raw file differs from the original"
  grep -q "\"sha256\": \"$(sha256sum orders.csv | cut -d' ' -f1)\"" "$man" || fail "manifest sha256"
  grep -q '"status": "loaded"' "$man" || fail "manifest status"
  grep -q '"rows_accepted": 3' "$man" || fail "manifest rows"
}

test_ingest_idempotent_and_force() {
  proj; orders_csv
  run "$INGOT" ingest file orders.csv --source shop; expect_ok
  run "$INGOT" ingest file orders.csv --source shop; expect_ok; expect_out "unchanged  orders.csv"
  cp orders.csv copy.csv; touch -d '2020-01-01' copy.csv
  run "$INGOT" ingest file copy.csv --source shop --stream orders; expect_ok; expect_out "unchanged  copy.csv"
  expect_eq "$(q "select count(*) from bronze.shop__orders")" 3
  expect_eq "$(ls lake/raw/shop/orders/dt=*/ | grep -vc manifest)" 1
  run "$INGOT" ingest file orders.csv --source shop --force; expect_ok; expect_out "loaded"
  expect_eq "$(q "select count(*) from bronze.shop__orders")" 6
}

test_ingest_schema_evolution() {
  proj; orders_csv
  "$INGOT" ingest file orders.csv --source shop >/dev/null
  printf 'id,name,amount,day,channel\n4,kiwi,not a number,2024-01-05,web\n5,plum,7,2024-01-06,shop\n' > o2.csv
  run "$INGOT" ingest file o2.csv --source shop --stream orders; expect_ok
  expect_eq "$(q "select count(*) from bronze.shop__orders")" 5
  expect_eq "$(q "select typeof(amount) from bronze.shop__orders limit 1")" "VARCHAR"
  expect_eq "$(q "select count(channel) from bronze.shop__orders")" 2
  expect_eq "$(q "select amount from bronze.shop__orders where id = 4")" "not a number"
  expect_eq "$(q "select string_agg(column_name || ':' || change, ' ' order by change) from ingot.schema_changes")" "channel:add_column amount:widen"
  # a file without a column: NULL there
  printf 'id,name\n6,lime\n' > o3.csv
  run "$INGOT" ingest file o3.csv --source shop --stream orders; expect_ok
  expect_eq "$(q "select coalesce(amount, 'NULL') from bronze.shop__orders where id = 6")" "NULL"
}

test_ingest_late_type_change_widens() {
  # the sniffer sees only a sample: a late value that does not fit widens
  # the column instead of losing the row
  proj
  { echo "id,code"; for i in $(seq 1 30000); do echo "$i,$i"; done; echo "30001,X-1"; } > big.csv
  run "$INGOT" ingest file big.csv --source s; expect_ok
  expect_out "30,001 rows"
  expect_eq "$(q "select code from bronze.s__big where id = 30001")" "X-1"
  expect_eq "$(q "select count(*) from ingot.loads where rows_rejected = 0")" 1
}

test_ingest_rejects() {
  proj
  printf 'id,name,day\n1,a,2024-01-01\n2,b\n3,c,2024-01-03,extra\n4,d,2024-01-04\n5,e,2024-01-05\n6,f,2024-01-06\n7,g,2024-01-07\n8,h,2024-01-08\n9,i,2024-01-09\n10,j,2024-01-10\n11,k,2024-01-11\n12,l,2024-01-12\n13,m,2024-01-13\n14,n,2024-01-14\n15,o,2024-01-15\n16,p,2024-01-16\n17,q,2024-01-17\n18,r,2024-01-18\n19,s,2024-01-19\n20,t,2024-01-20\n21,u,2024-01-21\n22,v,2024-01-22\n' > r.csv
  run "$INGOT" ingest file r.csv --source s; expect_ok
  expect_out "20 rows, 2 rejected"
  expect_eq "$(q "select string_agg(line::varchar, '|' order by line) from bronze.s__r__rejects")" "3|4"
  expect_eq "$(q "select replace(raw, ',', ';') from bronze.s__r__rejects where line = 3")" "2;b"
  expect_eq "$(q "select count(*) from bronze.s__r__rejects where reason like '%Expected Number of Columns%'")" 2
  # past the limit: nothing visible, the batch recorded as failed, and a clear error
  printf 'id,name,day\n1,a,2024-01-01\n2,b\n3,c\n' > bad.csv
  run "$INGOT" ingest file bad.csv --source s; expect_rc 9
  expect_err "2 of 3 rows could not be read"; expect_err "line 3:"; expect_err "hint:"
  expect_eq "$(q "select count(*) from bronze.s__r" 2>/dev/null)" 20
  ! "$INGOT" query "select 1 from bronze.s__bad" >/dev/null 2>&1 || fail "failed batch visible"
  expect_eq "$(q "select status from ingot.loads where stream = 'bad'")" "failed"
  # retry with a higher limit: the same landed batch... or a new one; loaded once
  run "$INGOT" ingest file bad.csv --source s --max-bad-fraction 1; expect_ok; expect_out "1 rows, 2 rejected"
  run "$INGOT" ingest file bad.csv --source s --max-bad-fraction 1; expect_ok; expect_out "unchanged"
  # an overridden type: values that do not fit are rejected, not lost
  printf 'id,amount\n1,10\n2,ten\n3,30\n' > t.csv
  run "$INGOT" ingest file t.csv --source s --column amount=INTEGER --max-bad-fraction 1; expect_ok
  expect_out "2 rows, 1 rejected"
  expect_eq "$(q "select column_name || ' ' || error_type from bronze.s__t__rejects")" "amount CAST"
}

test_ingest_formats() {
  proj
  printf 'a\tb\n1\tx\n2\ty\n' > t.tsv
  printf '[{"a": 1, "b": "x"}, {"a": 2, "b": "y", "c": true}]' > j.json
  printf '{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n' > n.ndjson
  orders_csv o.csv; gzip -k o.csv; mv o.csv.gz og.csv.gz
  "$INGOT" query "copy (select range as id, 'v' || range as v from range(5)) to '$PWD/p.parquet' (format parquet)" >/dev/null
  orders_csv z.csv; zstd -q z.csv -o zs.csv.zst 2>/dev/null || cp z.csv zs.csv
  for f in t.tsv j.json n.ndjson og.csv.gz p.parquet zs.csv.zst; do
    [ -e "$f" ] || continue
    run "$INGOT" ingest file "$f" --source fmt; expect_ok
  done
  expect_eq "$(q "select string_agg(b, '' order by a) from bronze.fmt__t")" "xy"
  expect_eq "$(q "select count(*) || ' ' || count(c) from bronze.fmt__j")" "2 1"
  expect_eq "$(q "select count(*) from bronze.fmt__n")" 2
  expect_eq "$(q "select count(*) from bronze.fmt__og")" 3
  expect_eq "$(q "select sum(id) from bronze.fmt__p")" 10
  expect_eq "$(q "select format from ingot.loads where stream = 'og'")" "csv"
}

test_ingest_ndjson_bad_lines() {
  proj
  printf '{"a": 1}\n{"a": 2, broken\n{"a": 3}\nnot json\n{"a": 5}\n' > e.ndjson
  run "$INGOT" ingest file e.ndjson --source s --max-bad-fraction 1; expect_ok
  expect_out "3 rows, 2 rejected"
  expect_eq "$(q "select string_agg(line::varchar, '|' order by line) from bronze.s__e__rejects")" "2|4"
  expect_eq "$(q "select raw from bronze.s__e__rejects where line = 4")" "not json"
}

test_ingest_xlsx() {
  proj
  python3 "$DATA/mkxlsx.py" book.xlsx
  run "$INGOT" ingest file book.xlsx --source hr --stream people --sheet People; expect_ok
  expect_out "3 rows"
  expect_eq "$(q "select name || ' ' || age || ' ' || started from bronze.hr__people where age = 41")" "Ann 41 2020-03-15"
  expect_eq "$(q "select typeof(age) || ' ' || typeof(started) || ' ' || typeof(active) from bronze.hr__people limit 1")" "BIGINT DATE BOOLEAN"
  # the header was on row 3 (a title above it): row numbers are the sheet's
  expect_eq "$(q "select min(_ingot_row_number) from bronze.hr__people")" 4
  run "$INGOT" ingest file book.xlsx --source hr --stream people2 --sheet Peeple; expect_fail
  expect_err "People"
}

test_ingest_files_source() {
  proj
  mkdir -p drop
  cat >> ingot.yml <<'YML'
sources:
  shop_drop:
    type: files
    path: drop
    streams:
      orders:
        pattern: "orders_*.csv"
        max_bad_rows: 5
      customers:
        patterns: ["customers*.json"]
YML
  orders_csv drop/orders_1.csv
  printf 'id,name,amount,day\n9,melon,4,2024-02-01\n' > drop/orders_2.csv
  printf '[{"id": 1, "name": "Zoe"}]' > drop/customers.json
  run "$INGOT" ingest shop_drop; expect_ok; expect_out "3 loaded, 0 unchanged, 0 failed"
  expect_eq "$(q "select count(*) from bronze.shop_drop__orders")" 4
  expect_eq "$(q "select name from bronze.shop_drop__customers")" "Zoe"
  printf 'id,name,amount,day\n10,lemon,5,2024-02-02\n' > drop/orders_3.csv
  run "$INGOT" ingest --all; expect_ok; expect_out "1 loaded, 3 unchanged, 0 failed"
  expect_eq "$(q "select count(*) from bronze.shop_drop__orders")" 5
  # config errors name the key
  sed -i 's/max_bad_rows: 5/max_bad_row: 5/' ingot.yml
  run "$INGOT" ingest shop_drop; expect_fail; expect_err "max_bad_row"; expect_err "max_bad_rows"
}

# A tiny HTTP server with ETag / Last-Modified support on a free loopback port.
start_http() {
  cat > srv.py <<'PY'
import http.server, hashlib, os, sys, email.utils
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            self.send_error(404); return
        data = open(path, 'rb').read()
        etag = '"' + hashlib.md5(data).hexdigest() + '"'
        with open('hits.log', 'a') as f: f.write(self.path + ' ' + str(self.headers.get('If-None-Match')) + '\n')
        if self.headers.get('If-None-Match') == etag:
            self.send_response(304); self.send_header('ETag', etag); self.end_headers(); return
        self.send_response(200)
        self.send_header('Content-Type', 'text/csv')
        self.send_header('ETag', etag)
        self.send_header('Last-Modified', email.utils.formatdate(os.path.getmtime(path), usegmt=True))
        self.send_header('Content-Length', str(len(data)))
        self.end_headers(); self.wfile.write(data)
    def log_message(self, *a): pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
open('port', 'w').write(str(s.server_address[1]))
s.serve_forever()
PY
  mkdir -p www; (cd www && exec python3 ../srv.py) & HTTP_PID=$!
  for _ in $(seq 600); do [ -s www/port ] && break; sleep 0.1; done
  PORT=$(cat www/port)
}

test_ingest_http_file() {
  proj; start_http
  trap 'kill $HTTP_PID 2>/dev/null' RETURN
  printf 'month,budget\n2024-01,100\n2024-02,120\n' > www/budget.csv
  cat >> ingot.yml <<YML
sources:
  finance:
    type: http_file
    url: http://127.0.0.1:$PORT/budget.csv
    stream: budget
YML
  run "$INGOT" ingest finance; expect_ok; expect_out "1 loaded"
  expect_eq "$(q "select sum(budget) from bronze.finance__budget")" 220
  run "$INGOT" ingest finance; expect_ok; expect_out "1 unchanged"
  grep -q 'budget.csv "' www/hits.log || fail "no conditional request: $(cat www/hits.log)"
  printf 'month,budget\n2024-01,100\n2024-02,120\n2024-03,90\n' > www/budget.csv
  run "$INGOT" ingest finance; expect_ok; expect_out "1 loaded"
  expect_eq "$(q "select count(*) from bronze.finance__budget")" 5
  expect_eq "$(q "select value->>'etag' is not null from ingot.source_state where source = 'finance'")" "true"
  sed -i "s#budget.csv#missing.csv#" ingot.yml
  run "$INGOT" ingest finance; expect_fail; expect_err "HTTP 404"
}

test_ingest_external() {
  proj; orders_csv
  run "$INGOT" ingest file orders.csv --source ext --external; expect_ok
  expect_eq "$(q "select table_type from information_schema.tables where table_name = 'ext__orders'")" "VIEW"
  printf 'id,name,amount,day\n4,kiwi,1,2024-01-05\n' > o2.csv
  run "$INGOT" ingest file o2.csv --source ext --stream orders --external; expect_ok
  expect_eq "$(q "select count(*) || ' ' || count(distinct _ingot_batch_id) from bronze.ext__orders")" "4 2"
}

test_ingest_hostile_files() {
  proj
  : > empty.csv
  run "$INGOT" ingest file empty.csv --source h; expect_ok; expect_out "0 rows"
  printf 'a,b,c\n' > header_only.csv
  run "$INGOT" ingest file header_only.csv --source h; expect_ok; expect_out "0 rows"
  printf '\xef\xbb\xbfid,name\n1,caf\xc3\xa9\n2,na\xefve\n3,ok\n' > bom.csv
  run "$INGOT" ingest file bom.csv --source h --max-bad-fraction 1; expect_ok
  expect_eq "$(q "select count(*) from bronze.h__bom where id = 1 and name = 'café'")" 1
  expect_eq "$(q "select (select count(*) from bronze.h__bom) + coalesce((select count(*) from bronze.h__bom__rejects), 0)")" 3
  printf 'a,b\n1,2\n3\n4,5,6\n' > ragged.csv
  run "$INGOT" ingest file ragged.csv --source h --max-bad-fraction 1; expect_ok; expect_out "1 rows, 2 rejected"
  run "$INGOT" ingest file ragged.csv --source h --stream ragged_padded --null-padding --max-bad-fraction 1; expect_ok
  mkdir -p "dir with spaces/ünïcødé"; orders_csv "dir with spaces/ünïcødé/Örders 2024 (v2).csv"
  run "$INGOT" ingest file "dir with spaces/ünïcødé/Örders 2024 (v2).csv" --source h; expect_ok
  expect_out "bronze.h__rders_2024_v2"
  expect_eq "$(q "select count(*) from bronze.h__rders_2024_v2")" 3
  ls lake/raw/h/rders_2024_v2/dt=*/ | grep -q 'Örders_2024__v2_.csv' || fail "raw name: $(ls lake/raw/h/rders_2024_v2/dt=*/)"
  head -c 3000 /dev/urandom > trunc.parquet; "$INGOT" query "copy (select range as id from range(1000)) to '$PWD/good.parquet' (format parquet)" >/dev/null
  head -c 300 good.parquet > trunc.parquet
  run "$INGOT" ingest file trunc.parquet --source h; expect_fail; expect_err "trunc.parquet"
  expect_eq "$(q "select status from ingot.loads where stream = 'trunc'")" "failed"
  python3 "$DATA/mkxlsx.py" --bomb bomb.xlsx
  run "$INGOT" ingest file bomb.xlsx --source h; expect_fail
  grep -qiE "limit|ratio|more than|larger" <<<"$ERR" || fail "zip bomb error: $ERR"
  printf 'this is not a workbook' > fake.xlsx
  run "$INGOT" ingest file fake.xlsx --source h; expect_fail; expect_err "fake.xlsx"
  run "$INGOT" ingest file nosuch.csv --source h; expect_rc 4
  run "$INGOT" ingest file orders.csv --source Bad-Name; expect_rc 2; expect_err "not a valid source name"
}

test_ingest_hostile_big_line() {
  proj
  { echo "id,blob"; printf '1,'; head -c 10000000 /dev/zero | tr '\0' 'x'; echo; echo "2,small"; } > long.csv
  run "$INGOT" ingest file long.csv --source h --max-bad-fraction 1; expect_ok
  expect_eq "$(q "select count(*) || ' ' || max(length(blob)) from bronze.h__long")" "2 10000000"
}

# kill -9 at many points of an ingest, then rerun: every file is loaded exactly once.
test_ingest_crash_kill9() {
  proj
  "$INGOT" query "copy (select range as id, md5(range::varchar) as h, range * 1.5 as v from range(400000)) to '$PWD/big.csv'" >/dev/null
  orders_csv small.csv
  for delay in 0.05 0.1 0.2 0.3 0.45 0.6 0.8 1.0 1.3 1.7 2.2; do
    rm -rf lake warehouse
    "$INGOT" ingest file big.csv small.csv --source c -q >/dev/null 2>&1 &
    pid=$!; sleep "$delay"; kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    run "$INGOT" ingest file big.csv small.csv --source c -q; expect_ok
    expect_eq "$(q "select count(*) from bronze.c__big")" 400000 "rows after kill at ${delay}s"
    expect_eq "$(q "select count(*) from bronze.c__small")" 3 "small rows after kill at ${delay}s"
    expect_eq "$(q "select count(*) from ingot.loads where status = 'loaded'")" 2 "loads after kill at ${delay}s"
    expect_eq "$(ls -a lake/raw/c/*/dt=*/ | grep -v '^\.\.\?$' | grep -c '^\.\|\.tmp\.')" 0 \
      "temp files left after kill at ${delay}s"
    # every landed raw file is accounted for in ingot.loads
    n_raw=$(find lake/raw -type f ! -name '*.manifest.json' | wc -l)
    expect_eq "$(q "select count(*) from ingot.loads")" "$n_raw" "raw files vs loads after kill at ${delay}s"
  done
}

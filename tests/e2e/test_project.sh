# End-to-end tests for the project file: `ingot init` and `ingot validate`,
# on a fresh project and on each kind of broken ingot.yml. Every failure must
# name file:line:col and the key, and exit non-zero.

# write_yml TEXT: replace ingot.yml of the project in cwd
write_yml() { printf '%s' "$1" > ingot.yml; }

# a project in cwd, then its ingot.yml replaced by $1
broken() {
  if [ ! -f ingot.yml ]; then
    run "$INGOT" init --name shop .
    expect_ok
  fi
  write_yml "$1"
}

test_init_fresh_dir() {
  run "$INGOT" init shop
  expect_ok
  expect_out "created shop/ingot.yml"
  expect_out "created shop/models/"
  expect_out "ingot validate"
  for f in ingot.yml .gitignore models/example.sql; do [ -f "shop/$f" ] || fail "shop/$f missing"; done
  for d in models seeds tests macros lake warehouse; do [ -d "shop/$d" ] || fail "shop/$d/ missing"; done
  grep -q '^name: shop$' shop/ingot.yml || fail "name not written"
  grep -q '^/warehouse/' shop/.gitignore || fail ".gitignore lacks warehouse"
  grep -q '^/lake/' shop/.gitignore || fail ".gitignore lacks lake"
  grep -q '^/target/' shop/.gitignore || fail ".gitignore lacks target"
  grep -qi '^select 1 as id' shop/models/example.sql || fail "example model"
  # the file it writes is valid and commented
  [ "$(grep -c '^ *#' shop/ingot.yml)" -gt 15 ] || fail "ingot.yml is not commented"
  cd shop
  run "$INGOT" validate
  expect_ok
  expect_out "ingot.yml is valid (project shop)"
}

test_init_here_and_name_from_folder() {
  mkdir -p "My Shop-2" && cd "My Shop-2"
  run "$INGOT" init
  expect_ok
  grep -q '^name: my_shop_2$' ingot.yml || fail "derived name: $(grep ^name ingot.yml)"
  run "$INGOT" validate
  expect_ok
  expect_out "(project my_shop_2)"
}

test_init_with_C() {
  mkdir base
  run "$INGOT" -C base init proj --name p1
  expect_ok
  [ -f base/proj/ingot.yml ] || fail "not created under -C"
  run "$INGOT" -C base/proj validate
  expect_ok
  expect_out "(project p1)"
}

test_init_refuses_existing() {
  run "$INGOT" init shop
  expect_ok
  echo "# mine" >> shop/ingot.yml
  run "$INGOT" init shop
  expect_fail
  expect_err "already has an ingot.yml"
  expect_err "--force"
  grep -q '^# mine' shop/ingot.yml || fail "ingot.yml was overwritten"
}

test_init_force() {
  run "$INGOT" init shop
  expect_ok
  printf -- '-- mine\nselect 2 as id\n' > shop/models/example.sql
  echo "# mine" >> shop/ingot.yml
  run "$INGOT" init shop --force --name other
  expect_ok
  grep -q '^name: other$' shop/ingot.yml || fail "not replaced"
  grep -q '^# mine' shop/ingot.yml.bak || fail "old file not kept"
  grep -q 'select 2' shop/models/example.sql || fail "user file overwritten"
  expect_out "ingot.yml.bak"
}

test_init_bad_name() {
  run "$INGOT" init shop --name Bad-Name
  expect_fail
  expect_rc 2
  expect_err "not a valid project name"
  expect_err "bad_name"
  [ ! -e shop ] || fail "created a folder anyway"
}

test_validate_no_project() {
  run "$INGOT" validate
  expect_fail
  expect_rc 4
  expect_err "no ingot.yml"
  expect_err "ingot init"
}

test_validate_from_subfolder() {
  run "$INGOT" init --name shop .
  cd models
  run "$INGOT" validate
  expect_ok
  expect_out "(project shop)"
  printf 'name: shop\nwarehouse:\n  threads: two\n' > ../ingot.yml
  run "$INGOT" validate
  expect_fail
  expect_err "../ingot.yml:3:12: warehouse.threads"
}

test_validate_empty_file() {
  broken ""
  run "$INGOT" validate
  expect_fail
  expect_rc 3
  expect_err "ingot.yml: ingot.yml is empty"
}

test_validate_syntax_error() {
  broken $'name: shop\nwarehouse:\n  type: duckdb\n   threads: 4\n'
  run "$INGOT" validate
  expect_fail
  expect_rc 3
  expect_err "ingot.yml:4:"
  expect_err "YAML syntax error"
  expect_err "4 |    threads: 4"
  expect_err "^"
}

test_validate_wrong_type() {
  broken $'name: shop\nwarehouse:\n  threads: two\n'
  run "$INGOT" validate
  expect_fail
  expect_rc 3
  expect_err "ingot.yml:3:12: warehouse.threads: expected an integer, got 'two'"
}

test_validate_unknown_key() {
  broken $'name: shop\nwarehous:\n  type: duckdb\n'
  run "$INGOT" validate
  expect_fail
  expect_err "ingot.yml:2:1: unknown key 'warehous' in ingot.yml; did you mean 'warehouse'?"
  broken $'name: shop\nserve:\n  lisen: 127.0.0.1:9000\n'
  run "$INGOT" validate
  expect_fail
  expect_err "ingot.yml:3:3: unknown key 'serve.lisen' in ingot.yml; did you mean 'serve.listen'?"
}

test_validate_unset_env() {
  broken $'name: shop\nwarehouse:\n  path: ${IG_E2E_UNSET}/db.duckdb\n'
  unset IG_E2E_UNSET || true
  run "$INGOT" validate
  expect_fail
  expect_err "ingot.yml:3:9: warehouse.path: environment variable IG_E2E_UNSET is not set"
  expect_err "\${IG_E2E_UNSET:-default}"
  # set, it is valid; with a default, too
  IG_E2E_UNSET=/tmp run "$INGOT" validate
  expect_ok
  write_yml $'name: shop\nwarehouse:\n  path: ${IG_E2E_UNSET:-warehouse}/db.duckdb\n'
  run "$INGOT" validate
  expect_ok
}

test_validate_secret_not_shown() {
  broken $'name: shop\nwarehouse:\n  threads: ${IG_E2E_SECRET}\n'
  IG_E2E_SECRET=hunter2-secret run "$INGOT" validate
  expect_fail
  expect_err "warehouse.threads"
  expect_err "\${IG_E2E_SECRET}"
  ! grep -q hunter2 <<<"$ERR$OUT" || fail "secret printed: $ERR"
}

test_validate_bad_name() {
  broken $'name: My-Shop\n'
  run "$INGOT" validate
  expect_fail
  expect_err "ingot.yml:1:7: name: 'My-Shop' is not a valid project name"
  expect_err "my_shop"
  broken $'version: 1\n'
  run "$INGOT" validate
  expect_fail
  expect_err "missing required key 'name'"
}

test_validate_newer_version() {
  broken $'name: shop\nversion: 7\nfuture_key: 1\n'
  run "$INGOT" validate
  expect_fail
  expect_err "ingot.yml:2:10: ingot.yml is version 7"
  expect_err "too old"
  expect_err "upgrade"
  ! grep -q future_key <<<"$ERR" || fail "reported keys of a newer file"
}

test_validate_postgres_reserved() {
  broken $'name: shop\nwarehouse:\n  type: postgres\n'
  run "$INGOT" validate
  expect_fail
  expect_err "ingot.yml:3:9: warehouse.type: 'postgres' is not supported yet"
}

test_validate_duplicate_key() {
  broken $'name: shop\nlake:\n  path: a\n  path: b\n'
  run "$INGOT" validate
  expect_fail
  expect_err "ingot.yml:4:3: duplicate key 'lake.path'"
}

test_validate_reports_every_problem() {
  broken $'name: Bad\nwarehouse:\n  threads: two\n  tpye: duckdb\nserve:\n  listen: nowhere\nextra: 1\n'
  run "$INGOT" validate
  expect_fail
  expect_rc 3
  expect_err "ingot.yml:1:7: name:"
  expect_err "ingot.yml:3:12: warehouse.threads"
  expect_err "ingot.yml:4:3: unknown key 'warehouse.tpye'"
  expect_err "ingot.yml:6:11: serve.listen"
  expect_err "ingot.yml:7:1: unknown key 'extra'"
  expect_err "5 problems in the project"
}

test_validate_anchors_and_merge() {
  broken $'name: shop\nx_defaults: &d\n  threads: 2\n'
  run "$INGOT" validate
  expect_fail # x_defaults is not a key of ingot.yml
  write_yml $'name: shop\nvars:\n  base: &d {threads: 2}\nwarehouse:\n  <<: *d\n  memory_limit: 1GB\n'
  run "$INGOT" validate
  expect_ok
}

# warehouse.memory_limit and temp_directory reach the engine; the spill
# folder is relative to the project
test_warehouse_memory_limit_and_temp_directory() {
  "$INGOT" init . >/dev/null
  python3 - <<'P'
s = open('ingot.yml').read()
s = s.replace('  threads: 0\n', '  threads: 0\n  memory_limit: 300MB\n  temp_directory: spill\n', 1)
open('ingot.yml', 'w').write(s)
P
  run "$INGOT" query --format csv --no-header \
    "SELECT current_setting('temp_directory'), current_setting('memory_limit')"
  expect_rc 0
  expect_eq "$OUT" "$PWD/spill,286.1 MiB"
}

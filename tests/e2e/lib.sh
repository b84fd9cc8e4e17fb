# Helpers for end-to-end tests. Each tests/e2e/test_*.sh file defines shell
# functions named test_<something>; run.sh runs every one in its own fresh
# temporary directory (cwd) in a subshell with `set -eu`, and counts it passed
# when it returns 0. $INGOT is the binary under test. Tests tagged slow list
# their names in a variable SLOW="test_a test_b" in their file.

fail() { echo "    FAIL: $*" >&2; return 1; }

# run CMD...: run a command, keep stdout in $OUT, stderr in $ERR, exit in $RC.
run() {
  set +e
  "$@" >"$TMPT/.out" 2>"$TMPT/.err"
  RC=$?
  set -e
  OUT=$(cat "$TMPT/.out"); ERR=$(cat "$TMPT/.err")
}

# expect_rc N: the last run exited N.
expect_rc() {
  [ "$RC" = "$1" ] || fail "exit code $RC, expected $1
stdout: $(head -c 2000 <<<"$OUT")
stderr: $(head -c 2000 <<<"$ERR")"
}
expect_ok() { expect_rc 0; }
# expect_fail: non-zero exit.
expect_fail() {
  [ "$RC" != 0 ] || fail "expected failure, got exit 0
stdout: $(head -c 2000 <<<"$OUT")"
}
# expect_out / expect_err TEXT: fixed string appears in stdout / stderr.
expect_out() { grep -qF -- "$1" <<<"$OUT" || fail "stdout lacks '$1'
stdout: $(head -c 3000 <<<"$OUT")
stderr: $(head -c 1000 <<<"$ERR")"; }
expect_err() { grep -qF -- "$1" <<<"$ERR" || fail "stderr lacks '$1'
stderr: $(head -c 3000 <<<"$ERR")"; }
expect_no_out() { ! grep -qF -- "$1" <<<"$OUT" || fail "stdout has '$1'"; }
# expect_eq A B [what]
expect_eq() { [ "$1" = "$2" ] || fail "${3:-value}: got '$1', expected '$2'"; }

# q SQL: one value from the project in cwd, as CSV without header.
q() { "$INGOT" query --format csv --no-header "$1"; }

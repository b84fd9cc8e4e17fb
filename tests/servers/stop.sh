#!/usr/bin/env bash
# Stops the test servers started by tests/servers/start.sh (idempotent).
# With --clean also removes their data directory.
set -uo pipefail
DIR=${INGOT_TEST_SERVERS_DIR:-/tmp/ingot-test-servers}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
as_user() { local u=$1; shift; if [ "$(id -u)" = 0 ]; then runuser -u "$u" -- "$@"; else "$@"; fi; }
if [ -f "$DIR/pg/data/postmaster.pid" ]; then
  as_user postgres "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -m fast -w stop >/dev/null 2>&1 && echo "postgres: stopped"
fi
if [ -f "$DIR/my/mariadb.pid" ]; then
  pid=$(cat "$DIR/my/mariadb.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"; for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    echo "mariadb: stopped"
  fi
fi
rm -f "$DIR/env.sh"
[ "${1:-}" = --clean ] && rm -rf "$DIR"
exit 0

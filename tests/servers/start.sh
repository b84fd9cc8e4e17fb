#!/usr/bin/env bash
# Starts the throwaway database servers the connector tests use, on loopback
# and non-default ports, in a temporary directory: PostgreSQL 15 (with
# wal_level=logical, for CDC) and MariaDB. Idempotent: a server already
# running from an earlier call is left alone. Writes the connection settings
# as shell exports to $INGOT_TEST_SERVERS_DIR/env.sh, which the tests source.
#
#   tests/servers/start.sh [pg] [mariadb]     (default: both)
#
# Runs as root (CI) or as an ordinary user. As root the servers run as the
# `postgres` / `mysql` users. Nothing here touches a system-wide instance.
set -euo pipefail
DIR=${INGOT_TEST_SERVERS_DIR:-/tmp/ingot-test-servers}
PG_PORT=${INGOT_TEST_PG_PORT:-55432}
MY_PORT=${INGOT_TEST_MY_PORT:-53306}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PASS=ingot_test_pw
want=${*:-pg mariadb}
mkdir -p "$DIR"; chmod 755 "$DIR"

as_user() { # as_user USER CMD...: run CMD as USER when root, else as ourselves
  local u=$1; shift
  if [ "$(id -u)" = 0 ]; then runuser -u "$u" -- "$@"; else "$@"; fi
}

start_pg() {
  [ -x "$PG_BIN/initdb" ] || { echo "start.sh: PostgreSQL 15 is not installed ($PG_BIN/initdb missing); apt-get install -y postgresql-15" >&2; return 1; }
  local d=$DIR/pg
  if [ -f "$d/data/postmaster.pid" ] && as_user postgres "$PG_BIN/pg_ctl" -D "$d/data" status >/dev/null 2>&1; then
    echo "postgres: already running on 127.0.0.1:$PG_PORT"; return 0
  fi
  mkdir -p "$d"
  [ "$(id -u)" = 0 ] && chown postgres: "$d"
  if [ ! -f "$d/data/PG_VERSION" ]; then
    echo "$PASS" > "$d/pw"; [ "$(id -u)" = 0 ] && chown postgres: "$d/pw"
    as_user postgres "$PG_BIN/initdb" -D "$d/data" -U ingot_test --pwfile="$d/pw" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$d/initdb.log" 2>&1 \
      || { cat "$d/initdb.log" >&2; return 1; }
    cat >> "$d/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$d'
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
max_connections = 50
CONF
    echo "host replication all 127.0.0.1/32 scram-sha-256" >> "$d/data/pg_hba.conf"
  fi
  as_user postgres "$PG_BIN/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 start >/dev/null \
    || { tail -20 "$d/server.log" >&2; return 1; }
  PGPASSWORD=$PASS psql -h 127.0.0.1 -p "$PG_PORT" -U ingot_test -d postgres -qAt \
    -c "SELECT 1 FROM pg_database WHERE datname='ingot_test'" | grep -q 1 \
    || PGPASSWORD=$PASS psql -h 127.0.0.1 -p "$PG_PORT" -U ingot_test -d postgres -q -c "CREATE DATABASE ingot_test"
  echo "postgres: started on 127.0.0.1:$PG_PORT"
}

start_mariadb() {
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] \
    || { echo "start.sh: MariaDB is not installed; apt-get install -y mariadb-server" >&2; return 1; }
  local d=$DIR/my mysqld=/usr/sbin/mariadbd
  local cli=(mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MY_PORT" -u root)
  if [ -f "$d/mariadb.pid" ] && kill -0 "$(cat "$d/mariadb.pid")" 2>/dev/null; then
    echo "mariadb: already running on 127.0.0.1:$MY_PORT"; return 0
  fi
  mkdir -p "$d"
  local user=$(id -un); [ "$(id -u)" = 0 ] && { user=mysql; chown mysql: "$d"; }
  if [ ! -d "$d/data/mysql" ]; then
    as_user "$user" mariadb-install-db --no-defaults --datadir="$d/data" --user="$user" \
      --auth-root-authentication-method=normal --skip-test-db >"$d/install.log" 2>&1 \
      || { cat "$d/install.log" >&2; return 1; }
  fi
  as_user "$user" "$mysqld" --no-defaults --datadir="$d/data" --port="$MY_PORT" \
    --bind-address=127.0.0.1 --socket="$d/mariadb.sock" --pid-file="$d/mariadb.pid" \
    --log-error="$d/server.log" --skip-name-resolve --innodb-flush-log-at-trx-commit=0 \
    --innodb-buffer-pool-size=256M >/dev/null 2>&1 &
  for _ in $(seq 120); do
    mariadb-admin --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MY_PORT" -u root ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  mariadb-admin --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MY_PORT" -u root ping >/dev/null 2>&1 \
    || { echo "start.sh: MariaDB did not start" >&2; tail -20 "$d/server.log" >&2; return 1; }
  "${cli[@]}" -e "CREATE DATABASE IF NOT EXISTS ingot_test;
    CREATE USER IF NOT EXISTS 'ingot_test'@'127.0.0.1' IDENTIFIED BY '$PASS';
    GRANT ALL ON *.* TO 'ingot_test'@'127.0.0.1'; FLUSH PRIVILEGES;"
  echo "mariadb: started on 127.0.0.1:$MY_PORT"
}

for w in $want; do
  case $w in pg|postgres) start_pg ;; my|mysql|mariadb) start_mariadb ;;
    *) echo "start.sh: unknown server '$w' (pg, mariadb)" >&2; exit 2 ;; esac
done

cat > "$DIR/env.sh.tmp" <<ENV
# Written by tests/servers/start.sh: connection settings of the test servers.
export INGOT_TEST_PG_HOST=127.0.0.1 INGOT_TEST_PG_PORT=$PG_PORT INGOT_TEST_PG_USER=ingot_test
export INGOT_TEST_PG_PASSWORD=$PASS INGOT_TEST_PG_DB=ingot_test
export INGOT_TEST_MY_HOST=127.0.0.1 INGOT_TEST_MY_PORT=$MY_PORT INGOT_TEST_MY_USER=ingot_test
export INGOT_TEST_MY_PASSWORD=$PASS INGOT_TEST_MY_DB=ingot_test
export INGOT_TEST_SERVERS_UP="$want"
ENV
mv "$DIR/env.sh.tmp" "$DIR/env.sh"

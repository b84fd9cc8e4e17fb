#!/usr/bin/env bash
# Installs what building and testing ingot needs, and nothing when it is all
# there already (a second run needs no network).
#   - Debian -dev packages through apt-get (as root), only those missing;
#   - DuckDB 1.4.4 (LTS) from the npm registry into deps/duckdb, checksummed,
#     unless a libduckdb is already on the system (pkg-config or the linker).
# Usage: scripts/bootstrap.sh [--test]   (--test adds the test-only packages)
set -euo pipefail
cd "$(dirname "$0")/.."

DUCKDB_VERSION=1.4.4
LIB_PKG="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
LIB_SHA256=732fac4dc6b8f198870b9c4bb6ddf13544466daca00ad28ba2f1d80de5d7aa4b
HDR_PKG="duckdb@1.4.4"
HDR_SHA256=5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed

BUILD_PKGS="build-essential pkg-config libyaml-dev libjansson-dev libcurl4-openssl-dev
 libssl-dev libzip-dev libexpat1-dev libxlsxwriter-dev libreadline-dev libcmocka-dev
 zlib1g-dev libzstd-dev libpq-dev libmariadb-dev libevent-dev"
TEST_PKGS="clang libclang-rt-14-dev postgresql mariadb-server nginx wrk hyperfine
 python3 curl valgrind"

want="$BUILD_PKGS"
[ "${1:-}" = "--test" ] && want="$want $TEST_PKGS"

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node.js and npm (for DuckDB and, in tests, the SDKs) may come from another
# repository than Debian's; the command is what counts.
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bootstrap: missing Debian packages:$missing" >&2
    echo "bootstrap: run as root, or: sudo apt-get install$missing" >&2
    exit 1
  fi
  echo "bootstrap: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# DuckDB: a system copy wins.
if pkg-config --exists duckdb 2>/dev/null || { [ -f /usr/include/duckdb.h ] && ldconfig -p | grep -q libduckdb.so; }; then
  exit 0
fi
if [ -f deps/duckdb/libduckdb.so ] && [ -f deps/duckdb/duckdb.h ] && [ "$(cat deps/duckdb/VERSION 2>/dev/null)" = "$DUCKDB_VERSION" ]; then
  exit 0
fi
echo "bootstrap: fetching DuckDB $DUCKDB_VERSION from the npm registry"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && npm pack --silent "$LIB_PKG" "$HDR_PKG" >/dev/null 2>&1 ) || {
  echo "bootstrap: npm pack failed; is the npm registry reachable?" >&2; exit 1; }
check() { local f=$1 want=$2 got; got=$(sha256sum "$f" | cut -d' ' -f1)
  [ "$got" = "$want" ] || { echo "bootstrap: checksum mismatch for $(basename "$f"): $got (want $want)" >&2; exit 1; }; }
check "$tmp"/duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz "$LIB_SHA256"
check "$tmp"/duckdb-1.4.4.tgz "$HDR_SHA256"
mkdir -p deps/duckdb
tar xzf "$tmp"/duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz -C "$tmp" package/libduckdb.so
tar xzf "$tmp"/duckdb-1.4.4.tgz -C "$tmp" package/src/duckdb/src/include/duckdb.h
mv "$tmp"/package/libduckdb.so deps/duckdb/libduckdb.so
mv "$tmp"/package/src/duckdb/src/include/duckdb.h deps/duckdb/duckdb.h
echo "$DUCKDB_VERSION" > deps/duckdb/VERSION
echo "bootstrap: DuckDB $DUCKDB_VERSION in deps/duckdb"

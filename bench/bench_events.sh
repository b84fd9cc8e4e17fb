#!/usr/bin/env bash
# Benchmark of the event collector (`ingot serve`) with durability on (every
# 200 after the WAL fsync), against nginx answering a static 200 to the same
# requests, as the ceiling. Load generator: wrk with the Lua scripts beside
# this file. Prints events/s and p50/p99 latency for
#   (a) /v1/batch with 100 events per request
#   (b) /v1/track, one event per request, over keep-alive
# then, with SOAK=SECONDS, the daemon's RSS at the start and end of a soak.
# Env: DURATION (s, default 15), CONNS_A (16), CONNS_B (64), THREADS (2),
# SOAK (0), LOADER (1: the loader runs during the test; 0: only at stop).
# Needs wrk and nginx (apt-get install -y wrk nginx); skips without them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${INGOT:?set INGOT to the ingot binary}"
DURATION=${DURATION:-15}; CONNS_A=${CONNS_A:-16}; CONNS_B=${CONNS_B:-64}; THREADS=${THREADS:-2}
SOAK=${SOAK:-0}; LOADER=${LOADER:-1}
for t in wrk nginx; do
  command -v $t >/dev/null || [ -x /usr/sbin/$t ] || { echo "skip: $t is not installed (apt-get install -y wrk nginx)"; exit 0; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d /tmp/ingot-bench-events.XXXXXX)
cleanup() {
  [ -n "${spid:-}" ] && kill -TERM "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
  [ -f "$work/ngx/nginx.pid" ] && kill "$(cat "$work/ngx/nginx.pid")" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
"$INGOT" init proj >/dev/null
# the loader shares two CPUs with the HTTP workers: one warehouse thread
sed -i "s/^  threads: 0/  threads: ${WH_THREADS:-1}/" proj/ingot.yml
cat >>proj/ingot.yml <<'EOF'
sources:
  bench:
    type: events
    write_key: benchkey
    max_batch_bytes: 1MB
EOF
export WRITE_KEY_B64=$(printf 'benchkey:' | base64)

# wrk_run NAME URL SCRIPT CONNS EVENTS_PER_REQ: prints one figure line.
wrk_run() {
  local name=$1 url=$2 script=$3 conns=$4 per=$5 out
  out=$(RUN="r$RANDOM$RANDOM" wrk -t"$THREADS" -c"$conns" -d"${DURATION}s" --latency -s "$here/$script" "$url")
  awk -v name="$name" -v per="$per" '
    /Requests\/sec/ {rps=$2}
    /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    /Non-2xx/ {bad=$NF}
    END {printf "%-34s %10.0f req/s %12.0f events/s   p50 %-9s p99 %-9s%s\n", name, rps, rps*per, p50, p99, bad ? "  non-2xx: " bad : ""}' <<<"$out"
  awk '/Requests\/sec/ {print $2}' <<<"$out" >"$work/last_rps"
}

# --- ingot serve ---
interval=1000; [ "$LOADER" = 0 ] && interval=-1
"$INGOT" --log-level warn -C proj serve --listen 127.0.0.1:0 --ready-file "$work/ready" \
  --load-interval $interval >"$work/serve.log" 2>&1 &
spid=$!
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
[ -s "$work/ready" ] || { cat "$work/serve.log"; exit 1; }
url="http://$(cat "$work/ready")"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); ${DURATION}s per run, $THREADS wrk threads; loader running: $LOADER"
echo "-- ingot serve (durable: fsync before every 200)"
wrk_run "(a) batch of 100, ingot" "$url" bench_events_batch.lua "$CONNS_A" 100
ing_a=$(cat "$work/last_rps")
wrk_run "(b) single event, ingot" "$url" bench_events_track.lua "$CONNS_B" 1
ing_b=$(cat "$work/last_rps")
metrics=$(curl -s "$url/metrics")
fsyncs=$(awk '/^ingot_wal_fsyncs_total/ {print $2}' <<<"$metrics")
recs=$(awk '/^ingot_wal_records_total/ {print $2}' <<<"$metrics")
accepted=$(awk '/^ingot_events_accepted_total/ {print $2}' <<<"$metrics")
echo "   group commit: $recs requests in $fsyncs fsyncs ($(awk -v a="$recs" -v b="$fsyncs" 'BEGIN{printf "%.1f", a/b}') per fsync); $accepted events accepted"

if [ "$SOAK" -gt 0 ]; then
  rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$spid/status"; }
  echo "-- soak: ${SOAK}s of single events; RSS at start $(rss)"
  DURATION=$SOAK wrk_run "soak, single events" "$url" bench_events_track.lua "$CONNS_B" 1
  echo "   RSS at end $(rss)"
  accepted=$(curl -s "$url/metrics" | awk '/^ingot_events_accepted_total/ {print $2}')
fi
t0=$(date +%s)
kill -TERM "$spid"; wait "$spid" || true; spid=
loaded=$("$INGOT" -C proj query --format csv --no-header "select count(*) from bronze.bench__events")
echo "   stop (with up to 10 s of loading) took $(( $(date +%s) - t0 ))s; bronze.bench__events rows: $loaded of $accepted accepted"
# the rest waits in the WAL for the next start: load it now, timed (the loader alone)
t1=$(date +%s%N)
"$INGOT" --log-level warn -C proj serve --once >/dev/null
t2=$(date +%s%N)
loaded2=$("$INGOT" -C proj query --format csv --no-header "select count(*) from bronze.bench__events")
dups=$("$INGOT" -C proj query --format csv --no-header "select count(*) from bronze.bench__events where _ingot_duplicate")
awk -v n=$((loaded2 - loaded)) -v ns=$((t2 - t1)) -v tot="$loaded2" -v acc="$accepted" 'BEGIN {
  printf "   loader alone (serve --once): %d rows in %.1fs = %.0f rows/s; bronze now %d of %d accepted\n", n, ns/1e9, n/(ns/1e9), tot, acc }'
echo "   rows flagged duplicate: $dups (every messageId is unique: expect 0)"

# --- nginx, the ceiling ---
mkdir -p ngx/logs
cat >ngx/nginx.conf <<EOF
worker_processes $(nproc);
daemon on;
pid $work/ngx/nginx.pid;
error_log $work/ngx/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_buffer_size 2m;
  client_max_body_size 4m;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:0;
    location / { default_type application/json; return 200 '{"success":true}'; }
  }
}
EOF
# nginx cannot print a port it picked: choose a free one
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s/listen 127.0.0.1:0;/listen 127.0.0.1:$port;/" ngx/nginx.conf
"$NGINX" -c "$work/ngx/nginx.conf" -p "$work/ngx" 2>/dev/null
sleep 0.5
echo "-- nginx (static 200, no body parsing, no disk)"
wrk_run "(a) batch of 100, nginx" "http://127.0.0.1:$port" bench_events_batch.lua "$CONNS_A" 100
ng_a=$(cat "$work/last_rps")
wrk_run "(b) single event, nginx" "http://127.0.0.1:$port" bench_events_track.lua "$CONNS_B" 1
ng_b=$(cat "$work/last_rps")
echo "-- summary"
awk -v a="$ing_a" -v b="$ing_b" -v na="$ng_a" -v nb="$ng_b" 'BEGIN {
  printf "(a) %.0f events/s (target >= 150000): %s\n", a*100, a*100 >= 150000 ? "met" : "NOT met";
  printf "(b) %.0f%% of nginx requests/s (target >= 50%%): %s\n", 100*b/nb, b/nb >= 0.5 ? "met" : "NOT met";
  printf "    batch requests: %.0f%% of nginx\n", 100*a/na }'

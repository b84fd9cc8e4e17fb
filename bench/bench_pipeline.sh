#!/usr/bin/env bash
# Scheduling lag of the pipeline runner: 1,000 trivial tasks in one pipeline,
# in a wide shape (all independent, concurrency 16) and a deep one (a chain).
# Lag = from the moment a task is ready (its upstreams done, a slot free or
# not) to the moment it starts; for the wide shape it includes waiting for
# one of the 16 slots, so the deep shape shows the runner's own overhead.
# Target: p99 < 50 ms. Also: total wall time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N=${TASKS:-1000}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$INGOT" init "$work/p" >/dev/null
{
  echo "pipelines:"
  echo "  wide:"
  echo "    concurrency: 16"
  echo "    tasks:"
  for i in $(seq "$N"); do echo "      - {name: t$i, kind: shell, command: \"true\"}"; done
  echo "  deep:"
  echo "    tasks:"
  echo "      - {name: t1, kind: shell, command: \"true\"}"
  for i in $(seq 2 "$N"); do echo "      - {name: t$i, kind: shell, command: \"true\", depends_on: t$((i-1))}"; done
} >> "$work/p/ingot.yml"
for shape in wide deep; do
  s=$(date +%s%N)
  "$INGOT" -C "$work/p" pipeline run "$shape" --quiet
  e=$(date +%s%N)
  wall=$(awk -v a="$s" -v b="$e" 'BEGIN{printf "%.2f", (b-a)/1e9}')
  stats=$("$INGOT" -C "$work/p" query --format csv --no-header \
    "select round(quantile_cont(queue_ms, 0.5), 2), round(quantile_cont(queue_ms, 0.99), 2), round(max(queue_ms), 2), count(*)
     from ingot.task_runs t join ingot.pipeline_runs r using (run_id) where r.pipeline = '$shape' and t.queue_ms is not null")
  IFS=, read -r p50 p99 mx n <<<"$stats"
  echo "pipeline $shape ($n tasks): ready->started lag p50 ${p50} ms, p99 ${p99} ms, max ${mx} ms (target p99 < 50 ms); wall ${wall} s"
done

#!/usr/bin/env bash
# The pipeline runner with 1,000 trivial tasks (`sh -c true`) in one
# pipeline, in three shapes:
#   wide   - all independent, concurrency 16 (slots are the bottleneck)
#   fanout - one root, then every other task depends on it, concurrency 64
#   deep   - a chain t1 -> t2 -> ... (one task at a time: the runner's own cost)
# Figures, from ingot.task_runs:
#   lag      ready -> started (queue_ms), p50 / p99 / max; target p99 < 50 ms.
#            For wide and fanout it includes waiting for a free slot.
#   handoff  deep only: a task's finish -> its dependent's start, p50 / p99:
#            the scheduler's overhead per task (including making the
#            success durable before the dependent starts).
#   task     mean duration of one try (fork + exec of the shell).
#   wall     the whole `ingot pipeline run`, and tasks per second.
# TASKS=N changes the size; SHAPES="deep" runs a subset.
set -euo pipefail
N=${TASKS:-1000}
SHAPES=${SHAPES:-"wide fanout deep"}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$INGOT" init "$work/p" >/dev/null
{
  echo "pipelines:"
  echo "  wide:"
  echo "    concurrency: 16"
  echo "    tasks:"
  for i in $(seq "$N"); do echo "      - {name: t$i, kind: shell, command: \"true\"}"; done
  echo "  fanout:"
  echo "    concurrency: 64"
  echo "    tasks:"
  echo "      - {name: t1, kind: shell, command: \"true\"}"
  for i in $(seq 2 "$N"); do echo "      - {name: t$i, kind: shell, command: \"true\", depends_on: t1}"; done
  echo "  deep:"
  echo "    tasks:"
  echo "      - {name: t1, kind: shell, command: \"true\"}"
  for i in $(seq 2 "$N"); do echo "      - {name: t$i, kind: shell, command: \"true\", depends_on: t$((i-1))}"; done
} >> "$work/p/ingot.yml"
q() { "$INGOT" -C "$work/p" query --format csv --no-header "$1"; }
for shape in $SHAPES; do
  s=$(date +%s%N)
  "$INGOT" -C "$work/p" pipeline run "$shape" --quiet
  e=$(date +%s%N)
  wall=$(awk -v a="$s" -v b="$e" 'BEGIN{printf "%.2f", (b-a)/1e9}')
  rate=$(awk -v a="$s" -v b="$e" -v n="$N" 'BEGIN{printf "%.0f", n/((b-a)/1e9)}')
  stats=$(q "select round(quantile_cont(queue_ms, 0.5), 2), round(quantile_cont(queue_ms, 0.99), 2),
                    round(max(queue_ms), 2), count(*),
                    round(avg(epoch_us(t.finished_at) - epoch_us(t.started_at)) / 1000, 2)
             from ingot.task_runs t join ingot.pipeline_runs r using (run_id)
             where r.pipeline = '$shape' and t.queue_ms is not null")
  IFS=, read -r p50 p99 mx n task <<<"$stats"
  echo "pipeline $shape ($n tasks): ready->started lag p50 ${p50} ms, p99 ${p99} ms, max ${mx} ms (target p99 < 50 ms); task ${task} ms; wall ${wall} s (${rate} tasks/s)"
  if [ "$shape" = deep ]; then
    h=$(q "with t as (select epoch_us(t.started_at) - lag(epoch_us(t.finished_at)) over (order by t.started_at) as gap
                      from ingot.task_runs t join ingot.pipeline_runs r using (run_id) where r.pipeline = 'deep')
           select round(quantile_cont(gap, 0.5) / 1000, 2), round(quantile_cont(gap, 0.99) / 1000, 2),
                  round(avg(gap) / 1000, 2) from t where gap is not null")
    IFS=, read -r h50 h99 havg <<<"$h"
    echo "pipeline deep: handoff (finish -> dependent starts) p50 ${h50} ms, p99 ${h99} ms, mean ${havg} ms: the scheduler's overhead per task"
  fi
done

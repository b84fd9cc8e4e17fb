#!/usr/bin/env bash
# `ingot build` on the generated dbt project (gen_dbt_project.sh) with two
# data tests per model (not_null and unique on column c): seeds none, N
# table models, 2N tests, in DAG order with every test gating the children
# of its model. Prints the total wall and CPU time and the time outside the
# warehouse, from the run's own accounting (the debug line of the runner:
# warehouse time is summed over the threads, outside = wall - that / threads).
# BUILD_SIZE (default 10000) sets N; THREADS the --threads (default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
n=${BUILD_SIZE:-10000}
threads=${THREADS:-2}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$here/gen_dbt_project.sh" "$work/p" "$n"
cd "$work/p"
for f in models/*/_models.yml; do
  sed -i 's/^        description: cents$/        description: cents\n        data_tests: [not_null, unique]/' "$f"
done
"$INGOT" parse >/dev/null
t0=$(date +%s.%N)
out=$(/usr/bin/time -f 'CPU %U %S' "$INGOT" --log-level debug build --threads "$threads" 2>&1)
t1=$(date +%s.%N)
done_line=$(grep 'Done\.' <<<"$out" | tail -1 || true)
line=$(grep 'in the warehouse.*outside' <<<"$out" | tail -1 || true)
cpu=$(grep '^CPU' <<<"$out" | awk '{printf "%.2f", $2 + $3}')
echo "build: $n models + $((2 * n)) tests, $threads threads: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}') s wall, ${cpu} s CPU"
echo "build: ${done_line#*  }"
# "run Xs, in the warehouse Ys, outside Zs: A ms per node (CPU outside the warehouse B ms per node)"
echo "build: $(sed -n 's/.*debug //p' <<<"$line" | sed 's/per model/per node/g')"

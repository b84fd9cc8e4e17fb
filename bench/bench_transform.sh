#!/usr/bin/env bash
# The transform layer on generated dbt projects of 1k and 10k models
# (gen_dbt_project.sh: refs to 1-3 parents, a macro call, a for loop and an
# if per model, a properties YAML per folder of 100):
#   parse     `ingot parse` (load, parse every file, parse render, DAG)
#   compile   `ingot compile` (parse + compile + write target/compiled)
#   run       `ingot run` on the 1k project (trivial SQL, tables), with the
#             time spent outside the warehouse per model, from the run's own
#             accounting (debug line transform.overhead)
# Wall times are medians; CPU (user+sys) is printed too, since a loaded
# machine inflates wall time. Targets: parse + compile of 10k models < 0.5 s
# on 2 cores; run overhead < 2 ms per model.
# SIZES="1000 10000" and RUN_SIZE=1000 change the sizes; RUNS the repeats.
# CALLGRIND=1 also counts the instructions of one `ingot compile` per size
# under valgrind (stable on a shared, loaded machine, unlike times).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
RUNS=${RUNS:-3}
SIZES=${SIZES:-"1000 10000"}
RUN_SIZE=${RUN_SIZE:-1000}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

cpu_s() { # cpu_s CMD...: user+sys seconds of one run
  /usr/bin/time -f '%U %S' "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.2f", $1 + $2}'
}

for n in $SIZES; do
  "$here/gen_dbt_project.sh" "$work/p$n" "$n"
  cd "$work/p$n"
  "$INGOT" parse >/dev/null # warm the page cache
  p=$(median_ms "$RUNS" "$INGOT" parse)
  c=$(median_ms "$RUNS" "$INGOT" compile)
  pc=$(cpu_s "$INGOT" parse); cc=$(cpu_s "$INGOT" compile)
  echo "transform: $n models: parse ${p} ms (cpu ${pc} s), parse+compile ${c} ms (cpu ${cc} s)"
  if [ "${CALLGRIND:-0}" = 1 ]; then
    ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$INGOT" compile 2>&1 >/dev/null |
         sed -n 's/.*refs: *//p' | tr -d ,)
    echo "transform: $n models: parse+compile $ir instructions (callgrind)"
  fi
  cd - >/dev/null
done

n=$RUN_SIZE
[ -d "$work/p$n" ] || "$here/gen_dbt_project.sh" "$work/p$n" "$n"
cd "$work/p$n"
"$INGOT" run >/dev/null 2>&1 # first run creates the tables
line=$("$INGOT" --log-level debug run 2>&1 >/dev/null | grep 'transform.overhead\|outside' | tail -1)
per=$(sed -n 's/.*: \([0-9.]*\) ms per model.*/\1/p' <<<"$line")
cpu=$(sed -n 's/.*warehouse \([0-9.]*\) ms per model)/\1/p' <<<"$line")
echo "transform: run of $n models: $(sed -n 's/.*debug //p' <<<"$line")"
echo "transform: run overhead ${per} ms per model outside the warehouse (wall), ${cpu} ms CPU (target < 2 ms)"

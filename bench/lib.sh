# Helpers for benchmarks: timing of whole commands, medians, ratios.

# median_ms N CMD...: run CMD N times, print the median wall time in ms.
median_ms() {
  local n=$1; shift
  local times=()
  for _ in $(seq "$n"); do
    local s e
    s=$(date +%s%N)
    "$@" >/dev/null 2>&1 || { echo "benchmark command failed: $*" >&2; return 1; }
    e=$(date +%s%N)
    times+=($(( (e - s) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f\n", m/1000}'
}

# peak_rss_kb CMD...: peak resident memory of CMD in KiB.
peak_rss_kb() {
  /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

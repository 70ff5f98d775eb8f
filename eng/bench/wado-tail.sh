#!/usr/bin/env bash
# WADO-RS instance tail, A/B with load-insensitive proxies: per target, interleaved (A, B, …), a fresh server,
# database and blob folder; the harness's full pass (3,000 instances, STOW, QIDO, 1,000 retrievals of each kind,
# every retrieval's latency logged), then a second pass of WADO-RS instance requests alone (--retrievals N) around
# which the server's CPU (utime+stime), its threads' context switches (voluntary and involuntary, summed over
# /proc/<pid>/task/*/status), its thread count and PostgreSQL's CPU are read, divided by the requests.
#   eng/bench/wado-tail.sh [--runs 4] [--targets "A B"] [--retrievals 4000] [--clients 4]
# --clients: the second pass's concurrent clients (1: every thread wake-up of a request is counted, none shared).
# Targets: A = $A_ROOT (/work/wt/base), B = $B_ROOT (this checkout), B2 = B with the environment $B2_ENV
# ("NAME=value NAME=value"). Environment: WADO_TAIL_PORT (7610), EVENTSOURCED_PG_PORT (eng/local-postgres.sh's cluster).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
runs=4; targets="A B"; retrievals=4000; clients=4
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --targets) targets="$2"; shift 2 ;;
    --retrievals) retrievals="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
port="${WADO_TAIL_PORT:-7610}"
out="$root/eng/bench/results/wado-tail-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
echo "eng/bench/wado-tail.sh --runs $runs --targets \"$targets\" --retrievals $retrievals --clients $clients (A_ROOT=${A_ROOT:-/work/wt/base} B_ROOT=${B_ROOT:-$root} B2_ENV=${B2_ENV:-})" > "$out/command.txt"
source "$root/eng/bench/ours.sh"
bench_cluster

# counters <pid>: CPU ms, voluntary and involuntary context switches summed over its threads, thread count.
counters() {
  local cpu switches
  cpu="$(awk '{ print ($14 + $15) * 10 }' "/proc/$1/stat")"
  switches="$(cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ { v += $2 } /^nonvoluntary_ctxt_switches/ { n += $2 } END { print v, n }')"
  echo "$cpu $switches $(ls /proc/"$1"/task | wc -l)"
}
pg_cpu() { local t=0; for p in $postmaster $(pgrep -P "$postmaster"); do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $((t * 10)); }

trap '[ -n "${ours_pid:-}" ] && stop_ours' EXIT
for run in $(seq 1 "$runs"); do
  for target in $targets; do
    name="run$run-$target"; bin="${B_ROOT:-$root}"; [ "$target" = A ] && bin="${A_ROOT:-/work/wt/base}"
    if [ "$target" = B2 ]; then for kv in ${B2_ENV:-}; do export "${kv?}"; done; fi
    OURS_BIN_ROOT="$bin" start_ours "$out" "$port"
    if [ "$target" = B2 ]; then for kv in ${B2_ENV:-}; do unset "${kv%%=*}"; done; fi
    database="$ours_database"
    l0="$(load)"
    harness --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --name "$name" \
      --server-pid "$ours_pid" --db-pid "$postmaster" --latencies "$out/$name.latencies" --out "$out/$name.json" >/dev/null
    l1="$(load)"; before="$(counters "$ours_pid") $(pg_cpu)"
    harness --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --name "$name" --skip-stow --queries 0 \
      --phases wado_instance --retrievals "$retrievals" --clients "$clients" --out "$out/$name-pass2.json" >/dev/null
    after="$(counters "$ours_pid") $(pg_cpu)"; l2="$(load)"
    echo "$before" > "$out/$name.before"; echo "$after" > "$out/$name.after"; echo "$l0 $l1 $l2" > "$out/$name.load"
    awk '/^VmHWM:/ { print $2 }' "/proc/$ours_pid/status" > "$out/$name.peak-rss-kb"
    stop_ours; ours_pid=
    psql_ "drop database $database with (force)" >/dev/null
  done
done

python3 "$root/eng/bench/wado-tail-table.py" "$out" "$retrievals" | tee "$out/table.md"
echo "results: $out"

#!/usr/bin/env bash
# One node against two nodes on one database and one blob folder (docs/benchmarks.md, "One node
# against two"). Each run: a fresh database and blob folder, two load-harness processes at once (seeds
# 42 and 43, so their corpora differ), either both against node one (1 node) or one against each node
# (2 nodes); both nodes in EventStore:NodeMode=Balanced, so only the node count differs. Runs are
# interleaved (1, 2, 1, 2, …). Per run: the sum of the two harnesses' rates, the servers' and the
# database backends' CPU (utime+stime from /proc) over the whole run, and the load average.
#   eng/bench/nodes.sh [runs=3] [harness args…]   (ports 5180 and 5181; default --studies 100)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
runs="${1:-3}"; shift || true
extra=("$@"); [ ${#extra[@]} -eq 0 ] && extra=(--studies 100 --queries 1000 --retrievals 500)
out="$root/eng/bench/results/nodes-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
[ -n "${EVENTSOURCED_SKIP_BUILD:-}" ] || {
  dotnet build eng/bench/LoadHarness -c Release --nologo -v q -clp:ErrorsOnly
  dotnet build src/Web -c Release --nologo -v q -clp:ErrorsOnly
}
harness() { dotnet "$root/eng/bench/LoadHarness/bin/Release/net10.0/LoadHarness.dll" "$@"; }
cs="$(bash "$root/eng/local-postgres.sh")"; pgport="$(sed 's/.*Port=\([0-9]*\);.*/\1/' <<<"$cs")"; password="${cs##*Password=}"
psql_() { PGPASSWORD="$password" psql -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -Atqc "$1"; }
ticks() { local t=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $((t * 1000 / $(getconf CLK_TCK))); }

run() {
  local nodes="$1" i="$2" database blobs pids=() key second
  database="nodes_${nodes}_${i}_$(date +%s)"; blobs="$out/blobs-$nodes-$i"
  psql_ "create database $database" >/dev/null
  export ConnectionStrings__EventStore="Host=127.0.0.1;Port=$pgport;Database=$database;Username=postgres;Password=$password;Maximum Pool Size=100"
  export Blobs__Root="$blobs" Logging__LogLevel__Default=Warning EventStore__NodeMode=Balanced
  key="$(EVENTSOURCED_SKIP_BUILD=1 bash "$root/eng/tenants.sh" ensure bench --scopes studies.read,studies.write | grep -o 'esk_[A-Za-z0-9_-]*' | head -1)"
  for port in $(seq 5180 $((5179 + nodes))); do
    (cd "$root/src/Web" && exec dotnet "$root/src/Web/bin/Release/net10.0/EventSourced.Web.dll" --urls "http://127.0.0.1:$port" > "$out/node-$nodes-$i-$port.log" 2>&1) &
    pids+=($!)
  done
  for port in $(seq 5180 $((5179 + nodes))); do
    for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done
  done
  second=$((5179 + nodes))
  local cpu0 start load
  cpu0="$(ticks "${pids[@]}")"; start=$(date +%s.%N)
  harness --base-url http://127.0.0.1:5180/dicomweb --header "Authorization: $key" --seed 42 --name a --out "$out/run-$nodes-$i-a.json" "${extra[@]}" >/dev/null &
  local a=$!
  harness --base-url "http://127.0.0.1:$second/dicomweb" --header "Authorization: $key" --seed 43 --name b --out "$out/run-$nodes-$i-b.json" "${extra[@]}" >/dev/null &
  local b=$!
  sleep 10; load="$(cut -d' ' -f1 /proc/loadavg)"
  wait "$a" "$b"
  local cpu1 backends pgms instances
  cpu1="$(ticks "${pids[@]}")"
  backends="$(psql_ "select pid from pg_stat_activity where datname = '$database'" | tr '\n' ' ')"
  # shellcheck disable=SC2086
  pgms="$(ticks $backends)"
  instances="$(PGPASSWORD="$password" psql -h 127.0.0.1 -p "$pgport" -U postgres -d "$database" -Atqc "select coalesce(sum(case when type = 'instances_stored' then jsonb_array_length(data -> 'Instances') else 1 end), 0) from eventsourced.mt_events where type in ('instance_stored', 'instances_stored')")"
  kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true
  python3 - "$out" "$nodes" "$i" "$((cpu1 - cpu0))" "$pgms" "$instances" "$load" "$(echo "$(date +%s.%N) - $start" | bc)" <<'PY' | tee -a "$out/summary.md"
import json, sys, pathlib
out, nodes, i, server_ms, pg_ms, instances, load, seconds = sys.argv[1:]
a, b = (json.loads((pathlib.Path(out) / f"run-{nodes}-{i}-{x}.json").read_text()) for x in "ab")
def s(k, f): return a[k][f] + b[k][f]
print(f"| {nodes} | {i} | {s('stow','instances_per_s'):.0f} | {s('qido','queries_per_s'):.0f} | {max(a['qido']['p99_ms'], b['qido']['p99_ms'])} "
      f"| {s('wado_instance','requests_per_s'):.0f} | {int(server_ms)/1000:.1f} | {int(pg_ms)/1000:.1f} | {instances} | {float(seconds):.0f} | {load} |")
PY
  psql_ "drop database $database with (force)" >/dev/null; rm -rf "$blobs"
}

echo "| nodes | run | STOW inst/s (sum) | QIDO q/s (sum) | QIDO p99 ms (worse) | WADO inst req/s (sum) | servers' CPU s (whole run) | PG backends' CPU s |  instances | wall s | load at +10 s |" | tee "$out/summary.md"
echo "|---|---|---|---|---|---|---|---|---|---|---|" | tee -a "$out/summary.md"
for i in $(seq 1 "$runs"); do run 1 "$i"; run 2 "$i"; done
echo "results: $out"

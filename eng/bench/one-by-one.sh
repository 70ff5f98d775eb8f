#!/usr/bin/env bash
# A study stored instance by instance: the load harness's --one-by-one (one study of N instances, each in a STOW-RS
# request of its own, one client, one after the other) against each target, interleaved, a fresh server, database and
# blob folder per run. Per block of N/10 requests: how many instances the study held before it, latency p50 and mean,
# and the server's (and for ours PostgreSQL's) CPU per request: whether a store costs more as its study grows.
#   bash eng/bench/one-by-one.sh [--n 600] [--pairs 2] [--targets "A B O"]
# Targets: A = the Release build of A_ROOT (default this checkout), B = of B_ROOT (default this checkout),
# O = Orthanc with its SQLite index (eng/bench/orthanc.sh). Output: one table per run on stdout and the harness's JSON
# under eng/bench/results/one-by-one-<time>/ (git-ignored).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
n=600; pairs=2; targets="A B O"
while [ $# -gt 0 ]; do
  case "$1" in
    --n) n="$2"; shift 2 ;;
    --pairs) pairs="$2"; shift 2 ;;
    --targets) targets="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
out="$root/eng/bench/results/one-by-one-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
port="${ONE_BY_ONE_PORT:-6460}"
source "$root/eng/bench/ours.sh"
bench_cluster
orthanc_pid=
trap '[ -n "${ours_pid:-}" ] && stop_ours; stop_orthanc' EXIT
table() { # <json> <label>
  python3 - "$1" "$2" <<'PY'
import json, sys
blocks = json.load(open(sys.argv[1]))["one_by_one"]
print(f"{sys.argv[2]}: instances before | requests | p50 ms | mean ms | server CPU ms/request | PostgreSQL CPU ms/request")
for b in blocks:
    print(f"  {b['instances_before']} | {b['requests']} | {b['p50_ms']} | {b['mean_ms']} | {b.get('server_cpu_ms_per_unit', '')} | {b.get('db_cpu_ms_per_unit', '')}")
PY
}
for pair in $(seq 1 "$pairs"); do
  for target in $targets; do
    label="$target$pair"
    echo "$(date -u +%T) $label, load $(load)" | tee -a "$out/run.txt"
    if [ "$target" = O ]; then
      orthanc_pid="$(bash "$root/eng/bench/orthanc.sh" sqlite "$port" "$out/orthanc" | tail -1)"
      for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/system" >/dev/null && break; sleep 0.5; done
      harness --base-url "http://127.0.0.1:$port/dicom-web" --studies 8 --seed 7 --queries 1 --retrievals 1 >/dev/null
      harness --base-url "http://127.0.0.1:$port/dicom-web" --one-by-one "$n" --seed 77 --server-pid "$orthanc_pid" --out "$out/$label.json" >/dev/null
      stop_orthanc; rm -rf "$out/orthanc"
    else
      [ "$target" = A ] && bin="${A_ROOT:-$root}" || bin="${B_ROOT:-$root}"
      OURS_BIN_ROOT="$bin" start_ours "$out" "$port"
      harness --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --studies 8 --seed 7 --queries 1 --retrievals 1 >/dev/null
      harness --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --one-by-one "$n" --seed 77 \
        --server-pid "$ours_pid" --db-pid "$postmaster" --out "$out/$label.json" >/dev/null
      database="$ours_database"
      stop_ours; ours_pid=
      psql_ "drop database $database with (force)" >/dev/null
    fi
    table "$out/$label.json" "$label" | tee -a "$out/table.txt"
  done
done

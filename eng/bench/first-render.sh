#!/usr/bin/env bash
# A study's first retrievals on a node, one client, A/B interleaved (A = the build in $A_ROOT, /work/wt/base; B = this
# checkout), each run a fresh server, database and blob folder (eng/bench/ours.sh): the harness's corpus stored
# (200 studies of 15 instances; the harness then makes one retrieval of each kind), then eng/bench/first-render.py: each study's first WADO-RS instance request, then N
# study-metadata requests each rendered afresh (a new Host header each, so nothing kept answers), then the same N again
# (each answered from its kept rendering). CPU ms per request of the server and of PostgreSQL survive a loaded machine.
#   eng/bench/first-render.sh [--runs 3] [--renders 2000]
# Environment: FIRST_PORT (7200), EVENTSOURCED_PG_PORT (the cluster of eng/local-postgres.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
runs=3; renders=2000
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --renders) renders="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
port="${FIRST_PORT:-7200}"
out="$root/eng/bench/results/first-render-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
source "$root/eng/bench/ours.sh"
bench_cluster
trap '[ -n "${ours_pid:-}" ] && stop_ours' EXIT
for run in $(seq 1 "$runs"); do
  for variant in A B; do
    bin="$root"; [ "$variant" = A ] && bin="${A_ROOT:-/work/wt/base}"
    OURS_BIN_ROOT="$bin" start_ours "$out" "$port"
    database="$ours_database"
    harness --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --queries 0 --retrievals 1 --out "$out/run$run-$variant-stow.json" >/dev/null
    l0="$(cut -d' ' -f1 /proc/loadavg)"
    psql_ "select json_agg(json_build_array(study_instance_uid, series_instance_uid, sop_instance_uid)) from (select distinct on (study_instance_uid) study_instance_uid, series_instance_uid, sop_instance_uid from eventsourced.mt_doc_qidoinstance order by study_instance_uid, series_instance_uid, sop_instance_uid) x" "$database" \
      | python3 eng/bench/first-render.py "$port" "$ours_key" "$ours_pid" "$postmaster" "$renders" > "$out/run$run-$variant.json"
    echo "{\"run\": \"$run $variant\", \"load\": \"$l0 $(cut -d' ' -f1 /proc/loadavg)\", \"result\": $(cat "$out/run$run-$variant.json")}" | tee -a "$out/all.jsonl"
    stop_ours; ours_pid=
    psql_ "drop database $database with (force)" >/dev/null
  done
done
echo "results: $out"

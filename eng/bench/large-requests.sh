#!/usr/bin/env bash
# STOW-RS requests of many instances of one study (a viewer's or a tool's upload of a whole series in one request,
# dcm4che's stowrs, a router's batch): the load harness with one client, three studies of N instances each, one
# request per study, for each N in turn, against two Release builds of ours and Orthanc-SQLite, interleaved
# (A, B, Orthanc per pair; a fresh server, database and folder for each). Every folder is kept until the end: on
# ext4 without a journal a removal of thousands of files slows the next run's file creations (docs/benchmarks.md,
# "Group commit across requests").
#   eng/bench/large-requests.sh <checkout A> [checkout B] [--sizes "1000 3000"] [--pairs 2]
# A checkout is a folder with a Release build of src/Web (dotnet build -c Release src/Web); the harness is this
# checkout's. With no B only A and Orthanc run. One line per target, pair and size on stdout, and the harness's
# JSON in eng/bench/results/large-requests-<time>/:
#   target pair instances_per_request instances/s server_ms/instance db_ms/instance mean_ms/request
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
a="$(cd "$1" && pwd)"; shift
b=""
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then b="$(cd "$1" && pwd)"; shift; fi
sizes="1000 3000"; pairs=2; port="${LARGE_REQUESTS_PORT:-6510}"; orthanc_port="${LARGE_REQUESTS_ORTHANC_PORT:-8143}"
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --pairs) pairs="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
out="$root/eng/bench/results/large-requests-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
HARNESS_ROOT="$root"
source "$root/eng/bench/ours.sh"
bench_cluster
export OURS_KEEP_BLOBS=1
orthanc_pid=""; databases=()
finish() {
  [ -z "${ours_pid:-}" ] || stop_ours
  stop_orthanc
  for db in "${databases[@]}"; do psql_ "drop database if exists $db with (force)" >/dev/null || true; done
  rm -rf "$out"/*-blobs "$out"/*-orthanc
}
trap finish EXIT
echo "A $a ($(git -C "$a" rev-parse --short HEAD))${b:+, B $b ($(git -C "$b" rev-parse --short HEAD))}; sizes $sizes; $pairs pairs; load $(load)" | tee "$out/run.txt"

# measure <target> <pair> <base-url> <server-pid> [db-pid]: the harness for each size, one line each.
measure() {
  local target="$1" pair="$2" url="$3" server="$4" db="${5:-}" n auth=()
  [ "$target" = O ] || auth=(--header "Authorization: $ours_key")
  for n in $sizes; do
    harness --base-url "$url" "${auth[@]}" --studies 4 --series 1 --instances "$n" --clients 1 \
      --seed "$n" --queries 1 --retrievals 1 --server-pid "$server" ${db:+--db-pid "$db"} --out "$out/$target$pair-$n.json" >/dev/null
    python3 - "$out/$target$pair-$n.json" "$target" "$pair" "$n" <<'PY'
import json, sys
path, target, pair, n = sys.argv[1:]
r = json.load(open(path)); s = r["stow"]; count = r["instances"]
db = f'{s["db_cpu_ms"] / count:.3f}' if s.get("db_cpu_ms") is not None else "-"
print(f'{target} {pair} {n} {s["instances_per_s"]} {s["server_cpu_ms"] / count:.3f} {db} {s["mean_ms"]}', flush=True)
PY
  done | tee -a "$out/results.txt"
}

for pair in $(seq 1 "$pairs"); do
  for target in A B; do
    [ "$target" = A ] && bin="$a" || bin="$b"
    [ -n "$bin" ] || continue
    export OURS_BLOBS="$out/$target$pair-blobs"
    OURS_BIN_ROOT="$bin" start_ours "$out" "$port"
    databases+=("$ours_database")
    measure "$target" "$pair" "http://127.0.0.1:$port/dicomweb" "$ours_pid" "$postmaster"
    stop_ours; ours_pid=""
  done
  orthanc_pid="$(bash eng/bench/orthanc.sh sqlite "$orthanc_port" "$out/O$pair-orthanc")"
  measure O "$pair" "http://127.0.0.1:$orthanc_port/dicom-web" "$orthanc_pid"
  stop_orthanc
done

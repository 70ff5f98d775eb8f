#!/usr/bin/env bash
# Side by side on one machine with identical synthetic data: the load harness against this product,
# Orthanc with its SQLite index and Orthanc with its PostgreSQL index, in interleaved runs
# (ours, sqlite, pg, ours, sqlite, pg, ...), each on a fresh server, database and folder.
#   eng/bench/compare.sh [--runs N] [harness options, e.g. --studies 200 --queries 2000 --retrievals 1000]
# Per run: the harness's JSON (rates, p50/p95/p99, server and PostgreSQL CPU ms per phase from /proc)
# plus the server's peak RSS (VmHWM from /proc/<pid>/status, Orthanc included), the disk after the run
# (ours: blob folder + pg_database_size; Orthanc: storage + index folders, + pg_database_size for its
# PostgreSQL index) and the load average before and after. Prints a markdown table of the median
# (min-max) per target and the ratio ours / Orthanc-SQLite; saved as table.md next to the JSON files in
# eng/bench/results/compare-<time>/.
# Environment: COMPARE_OURS_PORT (5090), COMPARE_ORTHANC_PORT (8043), EVENTSOURCED_PG_PORT (the cluster
# of eng/local-postgres.sh, 5433), EVENTSOURCED_SKIP_BUILD=1 to skip the builds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
runs=3; harness_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    *) harness_args+=("$1"); shift ;;
  esac
done
ours_port="${COMPARE_OURS_PORT:-5090}"; orthanc_port="${COMPARE_ORTHANC_PORT:-8043}"
out="$root/eng/bench/results/compare-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
echo "eng/bench/compare.sh --runs $runs ${harness_args[*]}" > "$out/command.txt"
if [ -z "${EVENTSOURCED_SKIP_BUILD:-}" ]; then
  bash eng/pack-local-feed.sh
  dotnet build eng/bench/LoadHarness -c Release --nologo -v q -clp:ErrorsOnly
  dotnet build src/Web -c Release --nologo -v q -clp:ErrorsOnly
fi
export EVENTSOURCED_SKIP_BUILD=1
source "$root/eng/bench/ours.sh"
bench_cluster

peak_rss() { awk '/^VmHWM:/ { print $2 * 1024 }' "/proc/$1/status"; }
folder_bytes() { du -sb "$@" | awk '{ s += $1 } END { print s + 0 }'; }
# Adds what the harness cannot see to its JSON: peak RSS, disk, load average before/after.
annotate() { # file rss disk load_before
  python3 - "$@" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, sys
path, rss, disk, before, after = sys.argv[1:]
r = json.load(open(path))
r.update(peak_rss_bytes=int(rss), disk_bytes=int(disk), disk_bytes_per_instance=round(int(disk) / r["instances"]),
         load_before=before, load_after=after)
json.dump(r, open(path, "w"), indent=2)
PY
}
orthanc_pid=
cleanup() {
  [ -n "${ours_pid:-}" ] && stop_ours
  stop_orthanc
  rm -rf "$out"/ours-blobs-run* "$out"/orthanc-*/run*/storage "$out"/orthanc-*/run*/index
}
trap cleanup EXIT

for run in $(seq 1 "$runs"); do
  # This product, on a database and blob folder of its own.
  load="$(cut -d' ' -f1-3 /proc/loadavg)"
  # Each run's files are kept until the end: on this ext4 volume a folder of thousands of files removed just
  # before a run leaves freed inodes that the next run's file creations scan past (a cost that would land on
  # whichever target runs next).
  export OURS_BLOBS="$out/ours-blobs-run$run" OURS_KEEP_BLOBS=1
  start_ours "$out" "$ours_port"
  database="$ours_database"
  harness --base-url "http://127.0.0.1:$ours_port/dicomweb" --header "Authorization: $ours_key" --name ours \
    --server-pid "$ours_pid" --db-pid "$postmaster" --out "$out/run$run-ours.json" "${harness_args[@]}" >/dev/null
  rss="$(peak_rss "$ours_pid")"
  disk=$(( $(folder_bytes "$Blobs__Root") + $(psql_ "select pg_database_size('$database')") ))
  annotate "$out/run$run-ours.json" "$rss" "$disk" "$load"
  stop_ours; ours_pid=
  psql_ "drop database $database with (force)" >/dev/null

  for mode in sqlite postgresql; do
    load="$(cut -d' ' -f1-3 /proc/loadavg)"
    folder="$out/orthanc-$mode/run$run"
    orthanc_pid="$(bash eng/bench/orthanc.sh "$mode" "$orthanc_port" "$folder")"
    db_args=(); [ "$mode" = postgresql ] && db_args=(--db-pid "$postmaster")
    harness --base-url "http://127.0.0.1:$orthanc_port/dicom-web" --name "orthanc-$mode" --server-pid "$orthanc_pid" "${db_args[@]}" \
      --out "$out/run$run-orthanc-$mode.json" "${harness_args[@]}" >/dev/null
    rss="$(peak_rss "$orthanc_pid")"
    disk="$(folder_bytes "$folder/storage" "$folder/index")"
    if [ "$mode" = postgresql ]; then
      database="$(grep -o '"Database": "[^"]*"' "$folder/orthanc.json" | cut -d'"' -f4)"
      disk=$(( disk + $(psql_ "select pg_database_size('$database')") ))
    fi
    annotate "$out/run$run-orthanc-$mode.json" "$rss" "$disk" "$load"
    stop_orthanc
    [ "$mode" = postgresql ] && psql_ "drop database $database with (force)" >/dev/null
  done
done

python3 - "$out" <<'PY' | tee "$out/table.md"
import json, sys, pathlib, statistics
out = pathlib.Path(sys.argv[1])
targets = ["ours", "orthanc-sqlite", "orthanc-postgresql"]
runs = {t: [json.loads(p.read_text()) for p in sorted(out.glob(f"run*-{t}.json"))] for t in targets}
def get(r, path):
    for k in path.split("."):
        r = r.get(k) if isinstance(r, dict) else None
    return r
rows = [("STOW-RS, instances/s", "stow.instances_per_s", 1), ("STOW server CPU ms/instance", "stow.server_cpu_ms_per_unit", 1),
        ("STOW PostgreSQL CPU ms/instance", "stow.db_cpu_ms_per_unit", 1),
        ("QIDO-RS mix, requests/s", "qido.queries_per_s", 1), ("QIDO-RS p99 ms", "qido.p99_ms", 1),
        ("WADO-RS instance, requests/s", "wado_instance.requests_per_s", 1), ("WADO-RS instance p99 ms", "wado_instance.p99_ms", 1),
        ("WADO-RS study metadata, requests/s", "wado_study_metadata.requests_per_s", 1), ("WADO-RS metadata p99 ms", "wado_study_metadata.p99_ms", 1),
        ("peak server RSS, MB", "peak_rss_bytes", 1 / 2**20), ("disk bytes per instance", "disk_bytes_per_instance", 1)]
def fmt(v):
    return "-" if v is None else f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}" if abs(v) < 1 else f"{v:.1f}"
def cell(values):
    values = [v for v in values if v is not None]
    if not values: return None, "-"
    m = statistics.median(values)
    return m, f"{fmt(m)} ({fmt(min(values))}–{fmt(max(values))})"
n = min(len(v) for v in runs.values())
print(f"| path (median of {n} interleaved runs, min–max) | ours | Orthanc-SQLite | Orthanc-PostgreSQL | ours / Orthanc-SQLite |")
print("|---|---:|---:|---:|---:|")
for label, path, scale in rows:
    medians, cells = {}, []
    for t in targets:
        m, c = cell([get(r, path) * scale if get(r, path) is not None else None for r in runs[t]])
        medians[t] = m; cells.append(c)
    ratio = f"{medians['ours'] / medians['orthanc-sqlite']:.2f}×" if medians["ours"] is not None and medians["orthanc-sqlite"] else "-"
    print(f"| {label} | " + " | ".join(cells) + f" | {ratio} |")
fails = {t: sum(sum((get(r, f"{p}.failures") or 0) for p in ["stow", "qido", "wado_instance", "wado_study_metadata"]) + r["qido_count_check"]["mismatches"] for r in runs[t]) for t in targets}
print()
print("Failed requests + QIDO count mismatches over all runs: " + ", ".join(f"{t} {fails[t]}" for t in targets) + ".")
print("Load average (1/5/15 min) before each run: " + "; ".join(f"{r['target']} {r['load_before']}" for t in zip(*runs.values()) for r in t) + ".")
PY
echo "results: $out (command: $(cat "$out/command.txt"))"

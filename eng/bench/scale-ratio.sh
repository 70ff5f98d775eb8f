#!/usr/bin/env bash
# The scale run's flatness figure: the load harness on the grown archive of a scale run and on a fresh
# database of the same PostgreSQL cluster, interleaved (archive, fresh, archive, fresh, …), same build,
# same harness, so that "the rate at 1M against the rate at 3k" compares like with like (the 3k point of
# a scale run was taken hours earlier, at another load, often by another build).
#
#   bash eng/bench/scale-ratio.sh <scale-results-dir> [--pairs 2] [--port 5163] [--bin-root DIR]
#
# <scale-results-dir>: a folder written by eng/bench/scale.sh (its run.txt names the database and the
# cluster's port; the cluster is the one of the checkout holding the folder, started if stopped and left
# as found). Each archive run adds the harness's 3,000 instances to the archive (a seed of its own, from
# 1000 up, so no earlier run's studies are sent again); each fresh run gets a new database and blob
# folder, dropped when the script ends (not between runs). Per run: the harness's JSON (STOW, the QIDO mix per kind with the mean
# results per answer, WADO-RS instance and study metadata; server and PostgreSQL CPU per unit) and the
# load average. Output: <scale-results-dir>/ratio-<time>/, its table.md (medians and ratio per path).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
[ $# -ge 1 ] || { echo "usage: $0 <scale-results-dir> [--pairs 2] [--port 5163] [--bin-root DIR]" >&2; exit 2; }
scale="$(cd "$1" && pwd)"; shift
pairs=2; port=5163; bin="$root"
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) pairs="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --bin-root) bin="$(cd "$2" && pwd)"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
data_root="$(cd "$scale/../../../.." && pwd)"
database="$(sed -n 's/^database: \([^ ]*\) on port \([0-9]*\);.*/\1/p' "$scale/run.txt" | head -1)"
export EVENTSOURCED_PG_PORT="$(sed -n 's/^database: \([^ ]*\) on port \([0-9]*\);.*/\2/p' "$scale/run.txt" | head -1)"
[ -n "$database" ] && [ -n "$EVENTSOURCED_PG_PORT" ] || { echo "no 'database: … on port …' line in $scale/run.txt" >&2; exit 2; }
out="$scale/ratio-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
pgbin="$(ls -d /usr/lib/postgresql/*/bin | tail -1)"
as_owner() { if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_was_running=0
as_owner "$pgbin/pg_ctl" -D "$data_root/.data/postgres" status >/dev/null 2>&1 && pg_was_running=1
export OURS_PG_ROOT="$data_root" OURS_BIN_ROOT="$bin" OURS_KEEP_BLOBS=1 HARNESS_ROOT="$bin"
source eng/bench/ours.sh
root_saved="$root"; root="$data_root"; bench_cluster; root="$root_saved"
# The fresh runs' databases and blob folders are removed when the script ends, not between runs: on ext4 without a
# journal a removal of thousands of files slows every file creation for minutes (docs/benchmarks.md, "Group commit
# across requests"), which would land on the next archive run's STOW.
fresh_dbs=(); fresh_blobs=()
finish() {
  [ -z "${ours_pid:-}" ] || { kill "$ours_pid" 2>/dev/null || true; wait "$ours_pid" 2>/dev/null || true; }
  for db in "${fresh_dbs[@]}"; do psql_ "drop database if exists $db" >/dev/null || true; done
  for blobs in "${fresh_blobs[@]}"; do rm -rf "$blobs"; done
  if [ "$pg_was_running" = 0 ]; then as_owner "$pgbin/pg_ctl" -D "$data_root/.data/postgres" -w -t 120 stop -m fast >/dev/null || true; fi
}
trap finish EXIT
echo "archive $database on port $pgport; build $bin ($(git -C "$bin" rev-parse --short HEAD)); $pairs pairs" | tee "$out/run.txt"

seed=1000
while [ -f "$scale/.ratio-seed-$seed" ]; do seed=$((seed + 1)); done
run() { # <label> archive|fresh
  local label="$1" which="$2"
  if [ "$which" = archive ]; then
    export OURS_DATABASE="$database" OURS_BLOBS="$scale/ours-blobs"
    touch "$scale/.ratio-seed-$seed"
  else
    unset OURS_DATABASE; export OURS_BLOBS="$out/$label-blobs"
  fi
  export OURS_LOG="$out/$label-ours.log"
  OURS_READY_TIMEOUT=900 start_ours "$out" "$port"
  local db; db="$ours_database"
  local instances; instances="$(psql_ "select count(*) from eventsourced.mt_doc_qidoinstance" "$db")"
  echo "$(date -u +%T) $label ($which, $instances instances, seed $seed); load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/run.txt"
  harness --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --seed "$seed" --name "$label" \
    --server-pid "$ours_pid" --db-pid "$postmaster" --out "$out/$label.json" >/dev/null 2>"$out/$label.err"
  echo "$instances" > "$out/$label-instances.txt"; load > "$out/$label-load.txt"
  stop_ours; ours_pid=""
  if [ "$which" = fresh ]; then fresh_dbs+=("$db"); fresh_blobs+=("$OURS_BLOBS"); fi
  seed=$((seed + 1))
}
for i in $(seq 1 "$pairs"); do
  run "archive-$i" archive
  run "fresh-$i" fresh
done

/usr/bin/python3 - "$out" "$pairs" <<'PY' | tee "$out/table.md"
import json, statistics, sys
out, pairs = sys.argv[1], int(sys.argv[2])
runs = {w: [json.load(open(f"{out}/{w}-{i}.json")) for i in range(1, pairs + 1)] for w in ("archive", "fresh")}
size = {w: [open(f"{out}/{w}-{i}-instances.txt").read().strip() for i in range(1, pairs + 1)] for w in ("archive", "fresh")}
def med(w, path, key): return statistics.median(r[path][key] for r in runs[w])
print(f"archive {', '.join(size['archive'])} instances before each run; fresh {', '.join(size['fresh'])}")
print()
print("| path | archive (each run) | fresh (each run) | archive / fresh (medians) |")
print("|---|---|---|---:|")
for path, key in (("stow", "instances_per_s"), ("qido", "queries_per_s"), ("wado_instance", "requests_per_s"), ("wado_study_metadata", "requests_per_s")):
    a = [r[path][key] for r in runs["archive"]]; f = [r[path][key] for r in runs["fresh"]]
    print(f"| {path} {key} | {', '.join(map(str, a))} | {', '.join(map(str, f))} | {med('archive', path, key) / med('fresh', path, key):.2f}× |")
for path in ("stow", "qido", "wado_instance", "wado_study_metadata"):
    for cpu in ("server_cpu_ms_per_unit", "db_cpu_ms_per_unit"):
        if cpu in runs["archive"][0][path]:
            print(f"| {path} {cpu} | {', '.join(str(r[path][cpu]) for r in runs['archive'])} | {', '.join(str(r[path][cpu]) for r in runs['fresh'])} | {med('archive', path, cpu) / med('fresh', path, cpu):.2f}× |")
print()
print("| QIDO kind | archive p50 / p99 ms (results per answer) | fresh p50 / p99 ms (results per answer) |")
print("|---|---|---|")
for kind in runs["archive"][0]["qido_by_query"]:
    def cell(w): return "; ".join(f"{r['qido_by_query'][kind]['p50_ms']} / {r['qido_by_query'][kind]['p99_ms']} ({r['qido_by_query'][kind].get('results_mean')})" for r in runs[w])
    print(f"| {kind} | {cell('archive')} | {cell('fresh')} |")
PY

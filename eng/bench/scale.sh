#!/usr/bin/env bash
# The scale run: one server process and one database grown to 1,000,000 instances, measured at each
# point on the way (successor of eng/bench/scaling.sh, which stopped at 100,000).
#
#   bash eng/bench/scale.sh [--points 3000,100000,1000000] [--port 5161] [--max-gb 50] [--skip-build]
#                           [--clients 8] [--studies-per-request 4]
#
# PostgreSQL: a cluster of this worktree's own (eng/local-postgres.sh on port $EVENTSOURCED_PG_PORT,
# 5179 unless set) with auto_explain logging the plan of every statement slower than 1 s to
# .data/postgres.log; a fresh database in it (eng/bench/ours.sh). Blobs under the results folder.
#
# At each point P the archive is first grown to P − 3,050 instances by eng/bench/ScaleRun `load`
# (seed 7 studies of 3 series × 5 instances of 32×32, 4 studies per STOW request, 8 clients, bodies
# built ahead; unmeasured apart from its own rate), then measured:
#   - eng/bench/LoadHarness with a seed of its own (3,000 more instances of 64×64 by STOW, one study
#     per request, 4 clients: the STOW rate comparable across points; then its 7-kind QIDO mix with
#     p50/p99 per kind, WADO-RS instance and study metadata);
#   - ScaleRun `wide`: the queries whose answers span the whole archive (series by StationName at
#     offsets 0 and 800 with limit 1000, by Modality, StudyDate ranges, PatientName prefix and fuzzy…);
#   - eng/bench/feed-freshness.py (50 STOWs: STOW response → waiting study-feed consumer);
#   - database size (pg_database_size, the largest relations), blob folder size (apparent and on disk),
#     instances in the archive (QIDO instance rows), server VmRSS/VmHWM.
# Each point's figures are written to the results folder as soon as they are taken
# (<label>-*.json/txt, then table.md rebuilt), so a run cut short keeps the points it reached.
# samples.tsv: every 5 s, time, server VmRSS and VmHWM (kB), server CPU ticks (utime+stime), load average.
# After the first point past 50,000 instances the size at 1,000,000 is projected; above --max-gb the run stops.
# To end a run early, stop its `ScaleRun.dll load` process (kill <pid>): the script then measures the
# point at the size reached and writes its figures as usual.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
points=3000,100000,1000000; port=5161; max_gb=50; skip_build=0; clients=8; per_request=4
while [ $# -gt 0 ]; do
  case "$1" in
    --points) points="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --max-gb) max_gb="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --studies-per-request) per_request="$2"; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export EVENTSOURCED_PG_PORT="${EVENTSOURCED_PG_PORT:-5179}"
out="$root/eng/bench/results/$(date -u +%Y%m%dT%H%M%SZ)-scale"; mkdir -p "$out"
echo "results: $out"
if [ "$skip_build" = 0 ]; then
  bash eng/pack-local-feed.sh
  for project in eng/bench/LoadHarness eng/bench/ScaleRun src/Web; do
    nice -n 10 dotnet build "$project" -c Release --nologo -v q -clp:ErrorsOnly
  done
fi

# Our own cluster, with slow plans logged.
bash eng/local-postgres.sh >/dev/null
pgconf="$root/.data/postgres/postgresql.conf"
if ! grep -q '^session_preload_libraries' "$pgconf"; then
  as_owner() { if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  cat >> "$pgconf" <<'CONF'
session_preload_libraries = 'auto_explain'
auto_explain.log_min_duration = '1s'
auto_explain.log_analyze = on
auto_explain.log_timing = off
auto_explain.log_buffers = on
log_min_duration_statement = '1s'
CONF
  pgbin="$(ls -d /usr/lib/postgresql/*/bin | tail -1)"
  as_owner "$pgbin/pg_ctl" -D "$root/.data/postgres" -w -t 60 restart -l "$root/.data/postgres.log" >/dev/null
fi

pglog="$root/.data/postgres.log"; pglog_from="$(stat -c %s "$pglog")"
source eng/bench/ours.sh
OURS_READY_TIMEOUT=120 start_ours "$out" "$port"
cs="$ConnectionStrings__EventStore"
export PGPASSWORD="${cs##*Password=}"; PGPASSWORD="${PGPASSWORD%%;*}"
pgport="$(sed 's/.*Port=\([0-9]*\);.*/\1/' <<<"$cs")"; database="$(sed 's/.*Database=\([^;]*\);.*/\1/' <<<"$cs")"
echo "database: $database on port $pgport; server pid $ours_pid on port $port" | tee "$out/run.txt"
q() { psql -h 127.0.0.1 -p "$pgport" -U postgres -d "$database" -X -qtA "$@"; }
base="http://127.0.0.1:$port"

( while kill -0 "$ours_pid" 2>/dev/null; do
    echo "$(date +%s) $(awk '/VmRSS/{r=$2} /VmHWM/{h=$2} END{print r, h}' "/proc/$ours_pid/status" 2>/dev/null) $(awk '{print $14 + $15}' "/proc/$ours_pid/stat" 2>/dev/null) $(cut -d' ' -f1-3 /proc/loadavg)"
    sleep 5
  done >> "$out/samples.tsv" ) &
sampler=$!
finish() { kill "$sampler" 2>/dev/null || true; stop_ours; }
trap finish EXIT

harness() { dotnet "$root/eng/bench/LoadHarness/bin/Release/net10.0/LoadHarness.dll" --base-url "$base/dicomweb" --header "Authorization: $ours_key" "$@"; }
scalerun() { dotnet "$root/eng/bench/ScaleRun/bin/Release/net10.0/ScaleRun.dll" "$1" --base-url "$base/dicomweb" --header "Authorization: $ours_key" "${@:2}"; }
instances() { q -c "select count(*) from eventsourced.mt_doc_qidoinstance" 2>/dev/null || echo 0; }

measure() { # <label> <seed>
  local label="$1" seed="$2" t0 t1
  echo "$(date -u +%T) measuring $label at $(instances) instances; load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/run.txt"
  t0="$(awk '{print $14 + $15}' "/proc/$ours_pid/stat")"
  harness --seed "$seed" --name "$label" --out "$out/$label-harness.json" >/dev/null 2>"$out/$label-harness.err" || echo "harness exited $?" >> "$out/$label-harness.err"
  t1="$(awk '{print $14 + $15}' "/proc/$ours_pid/stat")"
  echo "$((t1 - t0))" > "$out/$label-harness-cpu-ticks.txt"
  scalerun wide --repeat 20 --clients 2 --out "$out/$label-wide.json" 2>"$out/$label-wide.err" || echo "wide exited $?" >> "$out/$label-wide.err"
  /usr/bin/python3 eng/bench/feed-freshness.py "$base" "$ours_key" 50 > "$out/$label-feed.txt" 2>&1 || true
  q -c "select pg_database_size(current_database())" > "$out/$label-db-bytes.txt"
  q -F ' ' -c "select c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid), coalesce(pg_total_relation_size(c.reltoastrelid), 0)
               from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'eventsourced' and c.relkind = 'r'
               order by 2 desc limit 15" > "$out/$label-db-relations.txt"
  du -sb "$Blobs__Root" | cut -f1 > "$out/$label-blob-bytes.txt"
  du -sB1 "$Blobs__Root" | cut -f1 > "$out/$label-blob-disk-bytes.txt"
  instances > "$out/$label-instances.txt"
  awk '/VmRSS/{r=$2} /VmHWM/{h=$2} END{print r, h}' "/proc/$ours_pid/status" > "$out/$label-rss-kb.txt"
  cut -d' ' -f1-3 /proc/loadavg > "$out/$label-loadavg.txt"
  tail -c +"$((pglog_from + 1))" "$pglog" > "$out/slow-statements.log" || true
  /usr/bin/python3 eng/bench/scale-table.py "$out" > "$out/table.md" || true
  echo "$(date -u +%T) measured $label: $(cat "$out/$label-instances.txt") instances, db $(cat "$out/$label-db-bytes.txt") B, blobs $(cat "$out/$label-blob-bytes.txt") B" | tee -a "$out/run.txt"
}

load_from=0; seed=42; previous=0
IFS=, read -ra targets <<<"$points"
for target in "${targets[@]}"; do
  have="$(instances)"
  studies=$(( (target - have - 3050) / 15 ))
  if [ "$studies" -gt 0 ]; then
    label="load-to-$target"
    echo "$(date -u +%T) loading $studies studies ($((studies * 15)) instances) from $have; load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/run.txt"
    t0="$(awk '{print $14 + $15}' "/proc/$ours_pid/stat")"
    scalerun load --seed 7 --from "$load_from" --studies "$studies" --clients "$clients" --studies-per-request "$per_request" \
      --out "$out/$label.json" 2>"$out/$label.err" || echo "load exited $?" >> "$out/$label.err"
    t1="$(awk '{print $14 + $15}' "/proc/$ours_pid/stat")"
    echo "$((t1 - t0))" > "$out/$label-cpu-ticks.txt"
    load_from=$((load_from + studies))
  fi
  label="at-$target"
  measure "$label" "$seed"; seed=$((seed + 1))
  # Projection to 1,000,000 from what one instance costs now; stop if it would not fit.
  now="$(cat "$out/$label-instances.txt")"
  if [ "$now" -ge 50000 ] && [ "$previous" -lt 50000 ]; then
    projected=$(( ( $(cat "$out/$label-db-bytes.txt") + $(cat "$out/$label-blob-disk-bytes.txt") ) / now * 1000000 / 1000000000 ))
    free_gb=$(( $(df -B1 --output=avail "$root" | tail -1) / 1000000000 ))
    echo "projected at 1,000,000 instances: $projected GB (database + blobs); free: $free_gb GB; limit $max_gb GB" | tee -a "$out/run.txt"
    if [ "$projected" -gt "$max_gb" ] || [ "$projected" -gt "$free_gb" ]; then
      echo "stopping: the projected size exceeds the limit" | tee -a "$out/run.txt"; break
    fi
  fi
  previous="$now"
done

# Plans of the slow statements (auto_explain, > 1 s) during this run, from the cluster's log.
tail -c +"$((pglog_from + 1))" "$pglog" > "$out/slow-statements.log" || true
cat "$out/table.md"
echo "results: $out"

#!/usr/bin/env bash
# The scale run: one server process and one database grown to 1,000,000 instances, measured at each
# point on the way (successor of eng/bench/scaling.sh, which stopped at 100,000).
#
#   bash eng/bench/scale.sh [--points 3000,100000,1000000] [--port 5161] [--max-gb 50] [--skip-build]
#                           [--clients 8] [--studies-per-request 4]
#   bash eng/bench/scale.sh --resume <results-dir> [--points 1000000] [--bin-root DIR]... [--stop-load-at HH:MM]
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
# To end a run early, stop its `ScaleRun.dll load` process (kill <pid>, also in <results>/loader.pid;
# --stop-load-at HH:MM, UTC, does it at that time): the script then measures the point at the size
# reached and writes its figures as usual. The blob folder is kept when the run ends.
#
# --resume <results-dir> continues that run: the same cluster (the checkout holding the results folder,
# its .data and eng/local-postgres.sh, on the port in its run.txt), the same database (a new key for its
# tenant), the same blob folder; nothing is built. The loader goes on after the last study any earlier
# load was given (studies are numbered, their UIDs follow the number), the harness with the next seed.
# A point whose label is measured again is first renamed after the size it was taken at (at-1000000 →
# at-709581, with its load-to-1000000 files). If the blob folder is gone (runs before the folder was
# kept removed it), the last point's blob bytes (blob-base.txt) are added to what is on disk; run.txt says so.
# --bin-root DIR (repeatable, searched in order; default this checkout): where the Release builds of
# src/Web, eng/bench/LoadHarness and eng/bench/ScaleRun are taken from.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
points=3000,100000,1000000; port=5161; max_gb=50; skip_build=0; clients=8; per_request=4
resume=""; bin_roots=(); stop_load_at=""
while [ $# -gt 0 ]; do
  case "$1" in
    --points) points="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --max-gb) max_gb="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --studies-per-request) per_request="$2"; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    --resume) resume="$(cd "$2" && pwd)"; skip_build=1; [ "$points" != 3000,100000,1000000 ] || points=1000000; shift 2 ;;
    --bin-root) bin_roots+=("$(cd "$2" && pwd)"); shift 2 ;;
    --stop-load-at) stop_load_at="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ "${#bin_roots[@]}" -gt 0 ] || bin_roots=("$root")
built() { # <path under a bin root>: the first bin root that has it
  local r; for r in "${bin_roots[@]}"; do [ -f "$r/$1" ] && { echo "$r/$1"; return; }; done
  echo "not built in ${bin_roots[*]}: $1" >&2; return 1
}
data_root="$root"; database=""; blob_base=0; blob_disk_base=0
if [ -n "$resume" ]; then
  out="$resume"; data_root="$(cd "$out/../../../.." && pwd)"
  database="$(sed -n 's/^database: \([^ ]*\) on port \([0-9]*\);.*/\1/p' "$out/run.txt" | head -1)"
  export EVENTSOURCED_PG_PORT="$(sed -n 's/^database: \([^ ]*\) on port \([0-9]*\);.*/\2/p' "$out/run.txt" | head -1)"
  [ -n "$database" ] && [ -n "$EVENTSOURCED_PG_PORT" ] || { echo "no 'database: … on port …' line in $out/run.txt" >&2; exit 2; }
  export OURS_DATABASE="$database" OURS_PG_ROOT="$data_root" OURS_LOG="$out/ours-resume-$(date -u +%H%M%S).log"
  last="$(ls "$out" | sed -n 's/^at-\([0-9]*\)-instances\.txt$/\1/p' | sort -n | tail -1)"
  if [ ! -d "$out/ours-blobs" ] && [ ! -f "$out/blob-base.txt" ]; then # looked at before the server starts (it creates the folder)
    echo "$(cat "$out/at-$last-blob-bytes.txt") $(cat "$out/at-$last-blob-disk-bytes.txt")" > "$out/blob-base.txt"
    echo "$(date -u +%T) blob folder $out/ours-blobs was removed after the earlier run: adding at-$last's bytes" \
      "($(cat "$out/blob-base.txt"): apparent, on disk; $(cat "$out/at-$last-instances.txt") instances) to the new folder's (blob-base.txt)" | tee -a "$out/run.txt"
  fi
  [ ! -f "$out/blob-base.txt" ] || read -r blob_base blob_disk_base < "$out/blob-base.txt"
else
  export EVENTSOURCED_PG_PORT="${EVENTSOURCED_PG_PORT:-5179}"
  out="$root/eng/bench/results/$(date -u +%Y%m%dT%H%M%SZ)-scale"; mkdir -p "$out"
fi
echo "results: $out"
if [ "$skip_build" = 0 ]; then
  bash eng/pack-local-feed.sh
  for project in eng/bench/LoadHarness eng/bench/ScaleRun src/Web; do
    nice -n 10 dotnet build "$project" -c Release --nologo -v q -clp:ErrorsOnly
  done
fi
export OURS_KEEP_BLOBS=1 OURS_BIN_ROOT
web_dll="$(built src/Web/bin/Release/net10.0/EventSourced.Web.dll)"; OURS_BIN_ROOT="${web_dll%/src/Web/bin/Release/net10.0/EventSourced.Web.dll}"
harness_dll="$(built eng/bench/LoadHarness/bin/Release/net10.0/LoadHarness.dll)"
scalerun_dll="$(built eng/bench/ScaleRun/bin/Release/net10.0/ScaleRun.dll)"

# Our own cluster, with slow plans logged.
pg_was_running=0
pgbin="$(ls -d /usr/lib/postgresql/*/bin | tail -1)"
as_owner() { if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_owner "$pgbin/pg_ctl" -D "$data_root/.data/postgres" status >/dev/null 2>&1 && pg_was_running=1
bash "$data_root/eng/local-postgres.sh" >/dev/null
pgconf="$data_root/.data/postgres/postgresql.conf"
if ! grep -q '^session_preload_libraries' "$pgconf"; then
  cat >> "$pgconf" <<'CONF'
session_preload_libraries = 'auto_explain'
auto_explain.log_min_duration = '1s'
auto_explain.log_analyze = on
auto_explain.log_timing = off
auto_explain.log_buffers = on
log_min_duration_statement = '1s'
CONF
  as_owner "$pgbin/pg_ctl" -D "$data_root/.data/postgres" -w -t 60 restart -l "$data_root/.data/postgres.log" >/dev/null
fi

pglog="$data_root/.data/postgres.log"; pglog_from="$(stat -c %s "$pglog")"
slow_log="$out/slow-statements${resume:+-resume}.log"
source eng/bench/ours.sh
OURS_READY_TIMEOUT=300 start_ours "$out" "$port"
[ -n "$ours_key" ] || { echo "no API key issued" >&2; stop_ours; exit 1; }
cs="$ConnectionStrings__EventStore"
export PGPASSWORD="${cs##*Password=}"; PGPASSWORD="${PGPASSWORD%%;*}"
pgport="$(sed 's/.*Port=\([0-9]*\);.*/\1/' <<<"$cs")"; database="$(sed 's/.*Database=\([^;]*\);.*/\1/' <<<"$cs")"
build="server $OURS_BIN_ROOT ($(git -C "$OURS_BIN_ROOT" rev-parse --short HEAD)), harness $harness_dll, loader $scalerun_dll"
if [ -n "$resume" ]; then
  echo "$(date -u +%T) resumed: database: $database on port $pgport; server pid $ours_pid on port $port; $build" | tee -a "$out/run.txt"
else
  echo "database: $database on port $pgport; server pid $ours_pid on port $port" | tee "$out/run.txt"
  echo "$build" | tee -a "$out/run.txt"
fi
q() { psql -h 127.0.0.1 -p "$pgport" -U postgres -d "$database" -X -qtA "$@"; }
base="http://127.0.0.1:$port"

( while kill -0 "$ours_pid" 2>/dev/null; do
    echo "$(date +%s) $(awk '/VmRSS/{r=$2} /VmHWM/{h=$2} END{print r, h}' "/proc/$ours_pid/status" 2>/dev/null) $(awk '{print $14 + $15}' "/proc/$ours_pid/stat" 2>/dev/null) $(cut -d' ' -f1-3 /proc/loadavg)"
    sleep 5
  done >> "$out/samples.tsv" ) &
sampler=$!
finish() {
  kill "$sampler" 2>/dev/null || true; stop_ours
  # A resumed run leaves the cluster as it found it.
  if [ -n "$resume" ] && [ "$pg_was_running" = 0 ]; then as_owner "$pgbin/pg_ctl" -D "$data_root/.data/postgres" -w -t 120 stop -m fast >/dev/null || true; fi
}
trap finish EXIT

harness() { dotnet "$harness_dll" --base-url "$base/dicomweb" --header "Authorization: $ours_key" "$@"; }
scalerun() { dotnet "$scalerun_dll" "$1" --base-url "$base/dicomweb" --header "Authorization: $ours_key" "${@:2}"; }
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
  echo $(( $(du -sb "$Blobs__Root" | cut -f1) + blob_base )) > "$out/$label-blob-bytes.txt"
  echo $(( $(du -sB1 "$Blobs__Root" | cut -f1) + blob_disk_base )) > "$out/$label-blob-disk-bytes.txt"
  instances > "$out/$label-instances.txt"
  awk '/VmRSS/{r=$2} /VmHWM/{h=$2} END{print r, h}' "/proc/$ours_pid/status" > "$out/$label-rss-kb.txt"
  cut -d' ' -f1-3 /proc/loadavg > "$out/$label-loadavg.txt"
  tail -c +"$((pglog_from + 1))" "$pglog" > "$slow_log" || true
  /usr/bin/python3 eng/bench/scale-table.py "$out" > "$out/table.md" || true
  echo "$(date -u +%T) measured $label: $(cat "$out/$label-instances.txt") instances, db $(cat "$out/$label-db-bytes.txt") B, blobs $(cat "$out/$label-blob-bytes.txt") B" | tee -a "$out/run.txt"
}

load_from=0; seed=42; previous=0
if [ -n "$resume" ]; then
  # Studies after the last one any earlier load was given; the harness's next seed (one per point taken).
  load_from="$(/usr/bin/python3 -c 'import json,sys; print(max([0] + [d["from_study"] + d["studies"] for d in map(lambda p: json.load(open(p)), sys.argv[1:])]))' "$out"/load-to-*.json)"
  seed=$((42 + $(ls "$out" | grep -c -- '^at-.*-instances\.txt$')))
  previous="$(cat "$out/at-$last-instances.txt")"
  echo "resuming at $(instances) instances: loader from study $load_from, harness seed $seed" | tee -a "$out/run.txt"
fi
relabel() { # <target>: a point of an earlier run measured again is renamed after the size it was taken at
  local target="$1" n f
  [ -f "$out/at-$target-instances.txt" ] || return 0
  n="$(cat "$out/at-$target-instances.txt")"
  [ "$n" != "$target" ] && [ ! -e "$out/at-$n-instances.txt" ] || { echo "at-$target already measured" >&2; exit 2; }
  for f in "$out"/at-"$target"-* "$out"/load-to-"$target".* "$out"/load-to-"$target"-*; do
    [ -e "$f" ] || continue
    mv "$f" "$(sed "s/\(at\|load-to\)-$target\([-.]\)/\1-$n\2/" <<<"$f")"
  done
  echo "renamed the earlier at-$target and load-to-$target files after their size: at-$n, load-to-$n" | tee -a "$out/run.txt"
}
IFS=, read -ra targets <<<"$points"
for target in "${targets[@]}"; do
  have="$(instances)"
  studies=$(( (target - have - 3050) / 15 ))
  if [ -n "$resume" ]; then
    [ "$studies" -gt 0 ] || { echo "skipping $target: the archive is past it ($have instances)" | tee -a "$out/run.txt"; continue; }
    relabel "$target"
  fi
  if [ "$studies" -gt 0 ]; then
    label="load-to-$target"
    echo "$(date -u +%T) loading $studies studies ($((studies * 15)) instances) from $have (studies $load_from…); load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/run.txt"
    t0="$(awk '{print $14 + $15}' "/proc/$ours_pid/stat")"
    dotnet "$scalerun_dll" load --base-url "$base/dicomweb" --header "Authorization: $ours_key" --seed 7 --from "$load_from" --studies "$studies" \
      --clients "$clients" --studies-per-request "$per_request" --out "$out/$label.json" 2>"$out/$label.err" &
    loader=$!; echo "$loader" > "$out/loader.pid"; echo "loader pid $loader" | tee -a "$out/run.txt"
    if [ -n "$stop_load_at" ]; then
      ( while kill -0 "$loader" 2>/dev/null; do
          if [ "$(date -u +%H:%M)" \> "$stop_load_at" ] || [ "$(date -u +%H:%M)" = "$stop_load_at" ]; then
            echo "loader $loader stopped at $(date -u +%T) (--stop-load-at $stop_load_at)" >> "$out/run.txt"; kill "$loader"; break
          fi
          sleep 5
        done ) &
    fi
    wait "$loader" || echo "load exited $?" >> "$out/$label.err"
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
tail -c +"$((pglog_from + 1))" "$pglog" > "$slow_log" || true
cat "$out/table.md"
echo "results: $out"

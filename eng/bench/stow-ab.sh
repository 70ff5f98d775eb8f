#!/usr/bin/env bash
# Interleaved STOW-RS A/B runs of two Release builds on this checkout's PostgreSQL cluster
# (eng/local-postgres.sh, with pg_stat_statements preloaded when available), for the STOW per-instance figures.
#   eng/bench/stow-ab.sh <checkout A> <checkout B> [pairs=3] [studies=200]
# Per run: a fresh server, database and blob folder (eng/bench/ours.sh), an unmeasured warm-up
# (8 studies, another seed), then the harness's STOW phase (queries and retrievals reduced to one), with
# the server's and PostgreSQL's CPU from /proc; pg_stat_statements reset after the warm-up gives the
# top-level statements and the commits of the measured phase. One line per run on stdout:
#   side inst/s server_ms/inst db_ms/inst statements/request commits/request load_before load_after
# Environment: STOW_AB_PORT (6400), EVENTSOURCED_PG_PORT (the cluster's port), STOW_AB_A_CS_EXTRA /
# STOW_AB_B_CS_EXTRA (appended to side A's / B's connection string: a driver setting tried on one side),
# STOW_AB_KEEP_BLOBS=1 (each run's blob folder is kept until all runs are done: on ext4 without a journal a
# folder removed just before a run leaves thousands of recently freed inodes that the next run's file
# creations scan past, a cost that lands on whichever side runs next).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
a="$1"; b="$2"; pairs="${3:-3}"; studies="${4:-200}"; port="${STOW_AB_PORT:-6400}"
out="$root/eng/bench/results/stow-ab-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
HARNESS_ROOT="${HARNESS_ROOT:-$a}"
source "$root/eng/bench/ours.sh"
bench_cluster
statements=0; psql_ "select 1 from pg_extension where extname = 'pg_stat_statements'" | grep -q 1 && statements=1
trap '[ -n "${ours_pid:-}" ] && stop_ours' EXIT
for pair in $(seq 1 "$pairs"); do
  for side in A B; do
    [ "$side" = A ] && bin="$a" || bin="$b"
    [ "$side" = A ] && extra="${STOW_AB_A_CS_EXTRA:-}" || extra="${STOW_AB_B_CS_EXTRA:-}"
    if [ -n "${STOW_AB_KEEP_BLOBS:-}" ]; then export OURS_BLOBS="$out/$side$pair-blobs" OURS_KEEP_BLOBS=1; fi
    OURS_BIN_ROOT="$bin" OURS_CS_EXTRA="$extra" start_ours "$out" "$port"
    database="$ours_database"
    harness --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --studies 8 --seed 7 \
      --queries 1 --retrievals 1 >/dev/null
    sleep 2
    [ "$statements" = 1 ] && psql_ "select pg_stat_statements_reset()" >/dev/null
    commits0="$(psql_ "select xact_commit from pg_stat_database where datname = '$database'")"
    load0="$(cut -d' ' -f1 /proc/loadavg)"
    harness --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --studies "$studies" \
      --queries 1 --retrievals 1 --server-pid "$ours_pid" --db-pid "$postmaster" --out "$out/$side$pair.json" >/dev/null
    load1="$(cut -d' ' -f1 /proc/loadavg)"
    commits1="$(psql_ "select xact_commit from pg_stat_database where datname = '$database'")"
    calls=0
    if [ "$statements" = 1 ]; then
      calls="$(psql_ "select coalesce(sum(calls), 0) from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = '$database' and s.toplevel")"
      psql_ "select calls, round(total_exec_time::numeric, 1), left(regexp_replace(query, '\s+', ' ', 'g'), 140) from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = '$database' and s.toplevel order by total_exec_time desc limit 40" > "$out/$side$pair-statements.txt"
    fi
    stop_ours; ours_pid=
    psql_ "drop database $database with (force)" >/dev/null
    python3 - "$out/$side$pair.json" "$side$pair" "$calls" "$((commits1 - commits0))" "$studies" "$load0" "$load1" <<'PY'
import json, sys
path, name, calls, commits, studies, l0, l1 = sys.argv[1:]
r = json.load(open(path)); s = r["stow"]; n = r["instances"]
print(f'{name} {s["instances_per_s"]} {s["server_cpu_ms"] / n:.2f} {s["db_cpu_ms"] / n:.2f} '
      f'{int(calls) / int(studies):.1f} {int(commits) / int(studies):.2f} {l0} {l1}', flush=True)
PY
  done
done
if [ -n "${STOW_AB_KEEP_BLOBS:-}" ]; then rm -rf "$out"/*-blobs; fi

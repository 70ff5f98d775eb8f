#!/usr/bin/env bash
# Retrieval A/B: WADO-RS instance and study metadata of two builds of this product, interleaved
# (A, B, A, B, ...), each on a fresh server, database and blob folder (eng/bench/ours.sh).
#   eng/bench/retrieval.sh [--runs 3] [--retrievals 4000] [--a /work/wt/base] [--b <this checkout>]
# Per run: the LoadHarness with its defaults (3,000 instances, STOW, QIDO, 1,000 retrievals of each kind:
# the figures of eng/bench/compare.sh), then a second pass on the same server (--skip-stow --queries 0
# --retrievals N) whose rates, p50/p99, server and PostgreSQL CPU per request are read on their own, with
# pg_stat_statements reset before it and its statements per request printed after it (the cluster needs
# shared_preload_libraries = 'pg_stat_statements'; without it that part is skipped), and the load average
# (1 min) before and after each pass. Prints a markdown table; the JSON files and statements go to
# eng/bench/results/retrieval-<time>/.
# Environment: RETRIEVAL_PORT (6501), EVENTSOURCED_PG_PORT (the cluster of eng/local-postgres.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
runs=3; retrievals=4000; a_root=/work/wt/base; b_root="$root"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --retrievals) retrievals="$2"; shift 2 ;;
    --a) a_root="$2"; shift 2 ;;
    --b) b_root="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
port="${RETRIEVAL_PORT:-6501}"
out="$root/eng/bench/results/retrieval-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
echo "eng/bench/retrieval.sh --runs $runs --retrievals $retrievals --a $a_root --b $b_root" > "$out/command.txt"
source "$root/eng/bench/ours.sh"
bench_cluster
statements=; [ "$(psql_ "show shared_preload_libraries")" = pg_stat_statements ] && statements=1

trap '[ -n "${ours_pid:-}" ] && stop_ours' EXIT
for run in $(seq 1 "$runs"); do
  for variant in A B; do
    bin="$a_root"; [ "$variant" = B ] && bin="$b_root"
    OURS_BIN_ROOT="$bin" start_ours "$out" "$port"
    database="$ours_database"
    l0="$(load)"
    harness --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --name "$variant" \
      --server-pid "$ours_pid" --db-pid "$postmaster" --out "$out/run$run-$variant-full.json" >/dev/null
    l1="$(load)"
    if [ -n "$statements" ]; then psql_ "create extension if not exists pg_stat_statements; select pg_stat_statements_reset()" "$database" >/dev/null; fi
    harness --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --name "$variant" \
      --server-pid "$ours_pid" --db-pid "$postmaster" --skip-stow --queries 0 --retrievals "$retrievals" --out "$out/run$run-$variant-pass2.json" >/dev/null
    l2="$(load)"
    if [ -n "$statements" ]; then
      psql_ "select calls, round(total_exec_time::numeric, 1), rows, left(regexp_replace(query, '\s+', ' ', 'g'), 300) from pg_stat_statements
             where dbid = (select oid from pg_database where datname = '$database') order by calls desc limit 15" "$database" > "$out/run$run-$variant-statements.txt"
    fi
    echo "$l0 $l1 $l2" > "$out/run$run-$variant-load.txt"
    stop_ours; ours_pid=
    psql_ "drop database $database with (force)" >/dev/null
  done
done

python3 - "$out" "$retrievals" <<'PY' | tee "$out/table.md"
import json, sys, pathlib
out, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
print("| run | WADO inst req/s (p50/p99 ms) | metadata req/s (p50/p99 ms) | pass 2: WADO inst req/s (p50/p99) | CPU ms/req server+PG | pass 2: metadata req/s (p50/p99) | CPU ms/req server+PG | load 1-min: start / end of pass 1 / end of pass 2 |")
print("|---|---|---|---|---|---|---|---|")
for full in sorted(out.glob("run*-full.json")):
    run, variant = full.stem.split("-")[:2]
    f = json.loads(full.read_text()); p = json.loads((out / f"{run}-{variant}-pass2.json").read_text())
    load = (out / f"{run}-{variant}-load.txt").read_text().split()
    rate = lambda r, k: f"{r[k]['requests_per_s']:,.0f} ({r[k]['p50_ms']}/{r[k]['p99_ms']})"
    cpu = lambda r, k: f"{r[k].get('server_cpu_ms_per_unit', 0):.3f}+{r[k].get('db_cpu_ms_per_unit', 0):.3f}"
    print(f"| {run[3:]} {variant} | {rate(f, 'wado_instance')} | {rate(f, 'wado_study_metadata')} | {rate(p, 'wado_instance')} | {cpu(p, 'wado_instance')} | {rate(p, 'wado_study_metadata')} | {cpu(p, 'wado_study_metadata')} | {' / '.join(load)} |")
PY
echo "results: $out"

#!/usr/bin/env bash
# Database bytes per instance, broken down per table and per index, after one harness run on a fresh
# server and database (eng/bench/ours.sh), plus the server and PostgreSQL CPU of the STOW phase.
#   eng/bench/db-bytes.sh <out-dir> <port> [harness options, e.g. --studies 200]
# OURS_BIN_ROOT picks the build measured (default: this checkout; already built in Release).
# Writes <out-dir>/harness.json, tables.tsv (table, heap, toast, indexes, total bytes), indexes.tsv
# (index, bytes, idx_scan after the run) and summary.txt (bytes per instance, STOW figures, load).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$1"; port="$2"; shift 2; mkdir -p "$out"; out="$(cd "$out" && pwd)"
cs="$(bash "$root/eng/local-postgres.sh")"
pgport="$(sed 's/.*Port=\([0-9]*\);.*/\1/' <<<"$cs")"; export PGPASSWORD="${cs##*Password=}"
postmaster="$(head -1 "$root/.data/postgres/postmaster.pid")"
harness="${OURS_HARNESS:-$root/eng/bench/LoadHarness/bin/Release/net10.0/LoadHarness.dll}"
source "$root/eng/bench/ours.sh"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
start_ours "$out" "$port"
database="$ours_database"
# DB_BYTES_KEEP=1 keeps the database (its name is in summary.txt) for a closer look.
trap 'stop_ours; [ -n "${DB_BYTES_KEEP:-}" ] || psql -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -qc "drop database $database with (force)" >/dev/null' EXIT
dotnet "$harness" --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --name ours \
  --server-pid "$ours_pid" --db-pid "$postmaster" --out "$out/harness.json" "$@" >/dev/null
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
q() { psql -h 127.0.0.1 -p "$pgport" -U postgres -d "$database" -F $'\t' -tAc "$1"; }
q "vacuum analyze" >/dev/null 2>&1 || true
q "select c.oid::regclass, pg_relation_size(c.oid), coalesce(pg_total_relation_size(nullif(c.reltoastrelid,0)),0),
          pg_indexes_size(c.oid), pg_total_relation_size(c.oid), c.reltuples::bigint
     from pg_class c join pg_namespace n on n.oid=c.relnamespace
    where c.relkind in ('r','p') and n.nspname not in ('pg_catalog','information_schema')
    order by pg_total_relation_size(c.oid) desc" > "$out/tables.tsv"
q "select s.relid::regclass, s.indexrelid::regclass, pg_relation_size(s.indexrelid), s.idx_scan
     from pg_stat_user_indexes s order by pg_relation_size(s.indexrelid) desc" > "$out/indexes.tsv"
instances="$(python3 -c "import json;print(json.load(open('$out/harness.json'))['instances'])")"
dbsize="$(q "select pg_database_size(current_database())")"
empty="$(q "select pg_database_size('template1')")"
python3 - "$out" "$instances" "$dbsize" "$load_before" "$load_after" "$database" <<'PY' | tee "$out/summary.txt"
import json, sys
out, n, db, lb, la = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
h = json.load(open(f"{out}/harness.json")); s = h["stow"]
rows = [l.split("\t") for l in open(f"{out}/tables.tsv").read().splitlines() if l]
total = sum(int(r[4]) for r in rows)
print(f"database {sys.argv[6]}"); print(f"instances {n}  pg_database_size {db:,} ({db/n:,.0f} B/inst)  user relations {total:,} ({total/n:,.0f} B/inst)")
print(f"STOW {s['instances_per_s']:.1f} inst/s  server CPU {s.get('server_cpu_ms_per_unit')} ms/inst  DB CPU {s.get('db_cpu_ms_per_unit')} ms/inst  load {lb} -> {la}")
print(f"{'table':45} {'heap':>10} {'toast':>10} {'indexes':>10} {'total':>10} {'B/inst':>8}")
for r in rows:
    if int(r[4]) < 16384: continue
    print(f"{r[0]:45} {int(r[1]):10,} {int(r[2]):10,} {int(r[3]):10,} {int(r[4]):10,} {int(r[4])/n:8,.0f}")
PY

#!/usr/bin/env bash
# Interleaved memory runs of the load harness against this product, one variant after the other, each on
# a fresh server, database and blob folder (eng/bench/ours.sh), for the peak-RSS figures.
#   eng/bench/memory-ab.sh <rounds> <variant>...
# A variant is "label@checkout" or "label@checkout@NAME=value,NAME=value": the Release build of that
# checkout, started with those environment variables (e.g. DOTNET_GCConserveMemory=5, MALLOC_ARENA_MAX=2).
# Every round runs every variant once, in the order given. Harness options: MEMORY_AB_HARNESS (default:
# the default corpus, 3,000 instances, 2,000 queries, 1,000 retrievals).
# Per run: VmHWM/VmRSS one second after /health/ready and /proc/<pid>/smaps then; VmRSS sampled every
# 0.2 s during the harness (<run>-rss.tsv: seconds since sampling began, KiB), /proc/<pid>/smaps at the
# highest RSS seen; the harness JSON with the server's and PostgreSQL's CPU per phase; VmHWM after the run;
# the load average before and after. One line per run on stdout and in runs.tsv, and the smaps of each
# run summed by kind (anonymous, file-backed by file, JIT code, heap, stacks) in <run>-smaps.txt.
# Environment: MEMORY_AB_COUNTERS=1 (dotnet-counters' System.Runtime counters every second, <run>-counters.csv),
# MEMORY_AB_PORT (5097), EVENTSOURCED_PG_PORT (the cluster of eng/local-postgres.sh), HARNESS_ROOT (the
# checkout whose Release LoadHarness runs; this one by default).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="$1"; shift
port="${MEMORY_AB_PORT:-5097}"
out="$root/eng/bench/results/memory-ab-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
read -r -a harness_args <<<"${MEMORY_AB_HARNESS:-}"
source "$root/eng/bench/ours.sh"
bench_cluster
sampler=
trap '[ -n "$sampler" ] && kill "$sampler" 2>/dev/null; [ -n "${ours_pid:-}" ] && stop_ours' EXIT
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# RSS every 0.2 s; a copy of smaps whenever RSS passes the last copy's by 2 MiB.
sample() { # pid file smaps-file
  local pid="$1" t0 now rss best=0
  t0="$(date +%s.%N)"
  while [ -d "/proc/$pid" ]; do
    rss="$(kib "$pid" VmRSS)" || break
    now="$(date +%s.%N)"
    echo "$(awk -v a="$now" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')	$rss" >> "$2"
    if [ "${rss:-0}" -gt $((best + 2048)) ]; then best="$rss"; cat "/proc/$pid/smaps" > "$3.tmp" 2>/dev/null && mv "$3.tmp" "$3"; fi
    sleep 0.2
  done
}
summarise() { # smaps-file
  python3 - "$1" <<'PY'
import re, sys, collections
kinds = collections.Counter(); files = collections.Counter(); maps = []
for line in open(sys.argv[1]):
    head = re.match(r'^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$', line)
    if head:
        maps.append([int(head.group(1), 16), int(head.group(2), 16), head.group(5).strip(), 0])
    elif line.startswith('Rss:'):
        maps[-1][3] = int(line.split()[1])
# glibc's secondary malloc arenas: anonymous 64 MiB heaps, 64 MiB-aligned (the part not in use is PROT_NONE).
arena = 64 << 20
arenas = {m[0] for m in maps if m[2] == '' and m[0] % arena == 0
          and any(n[2] == '' and n[0] >= m[0] and n[1] == m[0] + arena for n in maps)}
for start, end, name, kb in maps:
    if name.startswith('/memfd:doublemapper'): kind = 'JIT code and stubs (/memfd:doublemapper)'
    elif name == '[heap]': kind = 'glibc [heap]'
    elif name.startswith('[stack'): kind = 'main stack'
    elif name.startswith('/'): kind = 'file-backed'; files[name] += kb
    elif name == '' and any(a <= start < a + arena for a in arenas): kind = 'anonymous: glibc malloc arenas'
    elif name == '': kind = 'anonymous: other (GC heap, thread stacks, runtime)'
    else: kind = name
    kinds[kind] += kb
total = sum(kinds.values())
print(f"total {total / 1024:.1f} MiB")
for k, v in kinds.most_common(): print(f"  {k}: {v / 1024:.1f} MiB")
print("file-backed, largest:")
for f, v in files.most_common(25): print(f"  {v / 1024:7.1f} MiB  {f}")
PY
}
printf 'run\tvariant\thwm_ready_mib\trss_ready_mib\tpeak_hwm_mib\tstow_per_s\tstow_ms\tqido_per_s\tqido_ms\twado_per_s\twado_ms\tmeta_per_s\tmeta_ms\tfailures\tpeak_at_s\tload_before\tload_after\n' > "$out/runs.tsv"
for round in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    IFS=@ read -r label bin envs <<<"$spec"
    name="$round-$label"
    load0="$(cut -d' ' -f1-3 /proc/loadavg)"
    IFS=, read -r -a pairs <<<"${envs:-}"
    names=()
    for pair in "${pairs[@]}"; do [ -n "$pair" ] && export "${pair?}" && names+=("${pair%%=*}"); done
    OURS_BIN_ROOT="$bin" OURS_LOG="$out/$name.log" start_ours "$out" "$port"
    for n in "${names[@]}"; do unset "$n"; done
    pid="$ours_pid"
    sleep 1
    hwm0="$(kib "$pid" VmHWM)"; rss0="$(kib "$pid" VmRSS)"
    cat "/proc/$pid/smaps" > "$out/$name-ready.smaps"
    sample "$pid" "$out/$name-rss.tsv" "$out/$name-peak.smaps" & sampler=$!
    counters=
    if [ -n "${MEMORY_AB_COUNTERS:-}" ]; then
      "$HOME/.dotnet/tools/dotnet-counters" collect -p "$pid" --counters System.Runtime --refresh-interval 1 --format csv -o "$out/$name-counters.csv" >/dev/null 2>&1 &
      counters=$!
    fi
    database="$ours_database"
    harness --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --name "$label" \
      --server-pid "$pid" --db-pid "$postmaster" --out "$out/$name.json" "${harness_args[@]}" >/dev/null
    hwm1="$(kib "$pid" VmHWM)"
    if [ -n "$counters" ]; then kill "$counters" 2>/dev/null || true; wait "$counters" 2>/dev/null || true; fi
    kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; sampler=
    stop_ours; ours_pid=
    psql_ "drop database $database with (force)" >/dev/null
    { echo "== at ready"; summarise "$out/$name-ready.smaps"; echo "== at the highest RSS sampled"; summarise "$out/$name-peak.smaps"; } > "$out/$name-smaps.txt"
    python3 - "$out/$name.json" "$name" "$label" "$hwm0" "$rss0" "$hwm1" "$out/$name-rss.tsv" "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY' | tee -a "$out/runs.tsv"
import json, sys
path, name, label, hwm0, rss0, hwm1, rss_file, l0, l1 = sys.argv[1:]
r = json.load(open(path))
samples = [tuple(map(float, l.split())) for l in open(rss_file) if l.strip()]
peak_at = max(samples, key=lambda s: s[1])[0] if samples else 0
cells = [name, label, f"{int(hwm0) / 1024:.0f}", f"{int(rss0) / 1024:.0f}", f"{int(hwm1) / 1024:.0f}"]
fails = 0
for phase, rate, unit in [("stow", "instances_per_s", r["instances"]), ("qido", "queries_per_s", None),
                        ("wado_instance", "requests_per_s", None), ("wado_study_metadata", "requests_per_s", None)]:
    p = r[phase]; n = unit or p["requests"]
    cells += [str(p[rate]), f'{p["server_cpu_ms"] / n:.2f}']; fails += p["failures"]
# Where in the run the peak came: the phases' own seconds, counted back from the harness's end (the last
# sample), as "phase@start-end" in seconds since the sampling began.
bounds, t = [], samples[-1][0] if samples else 0.0
for phase in ["wado_study_metadata", "wado_instance", "qido", "stow"]:
    bounds.append(f"{phase}@{t - r[phase]['seconds']:.0f}-{t:.0f}"); t -= r[phase]["seconds"]
cells += [str(fails + r["qido_count_check"]["mismatches"]), f"{peak_at:.1f} ({' '.join(reversed(bounds))})", l0, l1]
print("\t".join(cells), flush=True)
PY
  done
done
echo "results: $out"

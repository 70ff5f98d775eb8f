#!/usr/bin/env bash
# Methods the server still compiles after readiness, by phase of the load harness: the runtime's count of compiled
# methods (dotnet-counters, System.Runtime, every second) read at readiness and after each harness process (STOW of a
# small corpus with the harness's own warm-up and count check, then the QIDO mix alone, then the WADO-RS instance and
# study metadata phases alone). DOTNET_JitStdOutFile with DOTNET_JitDisasmSummary=1 names them, in order (<target>.jit;
# the file is written through a buffer, so where a phase starts in it is known only to a few dozen lines: the counts
# come from the counter).
#   eng/bench/jit-after-ready.sh [--targets "A B"] [--studies 20] [--retrievals 200]
# Targets: A = this product built in $A_ROOT (/work/wt/base), B = built in this checkout.
# Environment: JIT_PORT (7300), EVENTSOURCED_PG_PORT (the cluster of eng/local-postgres.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
targets="A B"; studies=20; retrievals=200
while [ $# -gt 0 ]; do
  case "$1" in
    --targets) targets="$2"; shift 2 ;;
    --studies) studies="$2"; shift 2 ;;
    --retrievals) retrievals="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
port="${JIT_PORT:-7300}"
out="$root/eng/bench/results/jit-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
source "$root/eng/bench/ours.sh"
bench_cluster
trap '[ -n "${ours_pid:-}" ] && stop_ours' EXIT
for target in $targets; do
  bin="$root"; [ "$target" = A ] && bin="${A_ROOT:-/work/wt/base}"
  list="$out/$target.jit"
  export DOTNET_JitStdOutFile="$list" DOTNET_JitDisasmSummary=1
  OURS_BIN_ROOT="$bin" OURS_LOG="$out/$target.log" start_ours "$out" "$port"
  unset DOTNET_JitStdOutFile DOTNET_JitDisasmSummary
  "${DOTNET_COUNTERS:-$HOME/.dotnet/tools/dotnet-counters}" collect -p "$ours_pid" --counters System.Runtime --refresh-interval 1 --format csv -o "$out/$target.counters.csv" >/dev/null 2>&1 &
  counters=$!
  # A mark is taken 2.5 s after a phase, so that a sample of the counter (every second) falls between them.
  mark() { sleep 2.5; date -u +%s.%N >> "$out/$target.marks"; }
  mark
  url="http://127.0.0.1:$port/dicomweb"; auth="Authorization: $ours_key"
  harness --base-url "$url" --header "$auth" --studies "$studies" --queries 0 --retrievals 0 >/dev/null; mark
  harness --base-url "$url" --header "$auth" --studies "$studies" --skip-stow --queries 200 --retrievals 0 >/dev/null; mark
  harness --base-url "$url" --header "$auth" --studies "$studies" --skip-stow --queries 0 --retrievals "$retrievals" >/dev/null; mark
  kill "$counters" 2>/dev/null || true; wait "$counters" 2>/dev/null || true
  stop_ours; ours_pid=
  database="$ours_database"
  psql_ "drop database $database with (force)" >/dev/null
  # Per phase: the counter's per-second increments between two marks (methods, and seconds spent compiling).
  python3 - "$out/$target.counters.csv" "$out/$target.marks" "$target" <<'PY' | tee -a "$out/summary.txt"
import csv, sys, datetime
def when(t): return datetime.datetime.strptime(t, "%m/%d/%Y %H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
rows, marks = list(csv.reader(open(sys.argv[1]))), [float(l) for l in open(sys.argv[2])]
def per(name):
    v = [(when(r[0]), float(r[4])) for r in rows[1:] if len(r) > 4 and r[2].startswith(name)]
    return [sum(x for t, x in v if a < t <= b) for a, b in zip(marks, marks[1:])]
m, s = per("dotnet.jit.compiled_methods"), per("dotnet.jit.compilation.time")
print(f"{sys.argv[3]}: methods compiled after readiness: STOW and count check {m[0]:.0f} ({s[0]*1000:.0f} ms JIT); QIDO phase {m[1]:.0f} ({s[1]*1000:.0f} ms); WADO-RS instance and metadata phases {m[2]:.0f} ({s[2]*1000:.0f} ms)")
PY
done
echo "results: $out"

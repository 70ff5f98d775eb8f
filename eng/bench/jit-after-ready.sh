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
harness() { dotnet "$root/eng/bench/LoadHarness/bin/Release/net10.0/LoadHarness.dll" "$@" >/dev/null; }
cs="$(bash eng/local-postgres.sh)"; export PGPASSWORD="${cs##*Password=}"
pgport="$(sed 's/.*Port=\([0-9]*\);.*/\1/' <<<"$cs")"
source eng/bench/ours.sh
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
  harness --base-url "$url" --header "$auth" --studies "$studies" --queries 0 --retrievals 0; mark
  harness --base-url "$url" --header "$auth" --studies "$studies" --skip-stow --queries 200 --retrievals 0; mark
  harness --base-url "$url" --header "$auth" --studies "$studies" --skip-stow --queries 0 --retrievals "$retrievals"; mark
  kill -INT "$counters" 2>/dev/null || true; wait "$counters" 2>/dev/null || true
  stop_ours; ours_pid=
  database="$(sed 's/.*Database=\([^;]*\);.*/\1/' <<<"$ConnectionStrings__EventStore")"
  psql -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -qc "drop database $database with (force)" >/dev/null
  python3 - "$out/$target.counters.csv" "$out/$target.marks" "$target" <<'PY' | tee -a "$out/summary.txt"
import csv, sys, datetime
rows, marks = list(csv.reader(open(sys.argv[1]))), [float(l) for l in open(sys.argv[2])]
def when(t):
    for f in ("%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M:%S %p"):
        try: return datetime.datetime.strptime(t, f).replace(tzinfo=datetime.timezone.utc).timestamp()
        except ValueError: pass
    return None
jit = [(when(r[0]), float(r[4])) for r in rows[1:] if len(r) > 4 and "jit" in r[2].lower() and "method" in r[2].lower() and when(r[0])]
at = [max((v for t, v in jit if t <= m), default=float("nan")) for m in marks]
print(f"{sys.argv[3]}: compiled methods at readiness {at[0]:.0f}; after STOW and count check +{at[1]-at[0]:.0f}; QIDO phase +{at[2]-at[1]:.0f}; WADO-RS instance and metadata phases +{at[3]-at[2]:.0f}")
PY
done
echo "results: $out"

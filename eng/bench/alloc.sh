#!/usr/bin/env bash
# Bytes allocated per retrieval request, and gen0 collections per 1,000 requests, of two builds of this product,
# interleaved (A, B, A, B, ...), each on a fresh server, database and blob folder (eng/bench/ours.sh).
#   eng/bench/alloc.sh [--runs 2] [--requests 2000] [--a /work/wt/base] [--b <this checkout>] [--variants "A B"]
# Per run: the LoadHarness's full pass (3,000 instances, STOW, QIDO, retrievals: the server warm, every study's
# metadata rendered once), then one phase at a time (qido, wado_instance, wado_study_metadata, --phases), each
# with N requests under a dotnet-trace session of the runtime's GC events (AllocationTick, GC start/stop:
# Microsoft-Windows-DotNETRuntime:0x1:5). The session is stopped (SIGINT) as soon as the phase ends; the allocation
# ticks' sum over the session (a tick per ~100 KB allocated, with its size) divided by N is the figure, and the
# collections are counted from the GC start events. The few seconds around the phase (the session starting and
# stopping) add the idle server's own allocations (Marten's async daemon polls): measured alone as "idle".
# Needs dotnet-trace (~/.dotnet/tools); the trace is read by eng/bench/AllocTrace (built here in Release), whose
# summary prints "alloc_bytes B gen0 N gen1 N gen2 N pause_ms X span_ms Y" for a .nettrace.
# Environment: ALLOC_PORT (7510), EVENTSOURCED_PG_PORT (the cluster of eng/local-postgres.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
runs=2; requests=2000; a_root=/work/wt/base; b_root="$root"; variants="A B"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --a) a_root="$2"; shift 2 ;;
    --b) b_root="$2"; shift 2 ;;
    --variants) variants="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
port="${ALLOC_PORT:-7510}"
dotnet build "$root/eng/bench/AllocTrace" -c Release --nologo -v q -clp:ErrorsOnly >/dev/null
tool="$root/eng/bench/AllocTrace/bin/Release/net10.0/AllocTrace.dll"
trace="$HOME/.dotnet/tools/dotnet-trace"
out="$root/eng/bench/results/alloc-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
echo "eng/bench/alloc.sh --runs $runs --requests $requests --a $a_root --b $b_root" > "$out/command.txt"
source "$root/eng/bench/ours.sh"
bench_cluster

# Traces $1 (a label) while the rest of the arguments run, then stops the session with SIGINT (a background job
# of a script starts with SIGINT ignored, which .NET keeps: the wrapper restores the default first).
traced() {
  local label="$1"; shift
  python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
    "$trace" collect -p "$ours_pid" --providers "Microsoft-Windows-DotNETRuntime:0x1:5" -o "$out/$label.nettrace" > "$out/$label.trace.log" 2>&1 < /dev/null &
  local tpid=$!
  for _ in $(seq 1 100); do grep -q "Output File" "$out/$label.trace.log" 2>/dev/null && break; sleep 0.1; done
  sleep 1
  "$@"
  kill -INT "$tpid"; wait "$tpid" || true
  echo "$label $(dotnet "$tool" "$out/$label.nettrace" summary)" | tee -a "$out/summary.txt"
  rm -f "$out/$label.nettrace.etlx"
}

trap '[ -n "${ours_pid:-}" ] && stop_ours' EXIT
for run in $(seq 1 "$runs"); do
  for variant in $variants; do
    bin="$a_root"; [ "$variant" = B ] && bin="$b_root"
    OURS_BIN_ROOT="$bin" start_ours "$out" "$port"
    database="$ours_database"
    h() { harness --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --name "$variant" "$@" >/dev/null; }
    h --out "$out/run$run-$variant-full.json"
    traced "run$run-$variant-idle" sleep 2
    for phase in qido wado_instance wado_study_metadata; do
      l0="$(load)"
      traced "run$run-$variant-$phase" h --skip-stow --phases "$phase" --queries "$requests" --retrievals "$requests" --out "$out/run$run-$variant-$phase.json"
      echo "run$run-$variant-$phase $l0 $(load)" >> "$out/load.txt"
    done
    stop_ours; ours_pid=
    psql_ "drop database $database with (force)" >/dev/null
  done
done

python3 - "$out" "$requests" <<'PY' | tee "$out/table.md"
import sys, pathlib, re
out, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
rows = {}
for line in (out / "summary.txt").read_text().splitlines():
    label, rest = line.split(" ", 1)
    kv = dict(zip(rest.split()[0::2], rest.split()[1::2]))
    rows[label] = kv
print(f"| run | path | bytes allocated / request | gen0 / gen1 GCs per 1,000 requests | GC pause ms per 1,000 | idle server's allocations over the same session |")
print("|---|---|---:|---:|---:|---:|")
for label, kv in rows.items():
    if label.endswith("-idle"): continue
    run, variant, phase = label.split("-", 2)
    idle = rows.get(f"{run}-{variant}-idle", {})
    print(f"| {run[3:]} {variant} | {phase} | {int(kv['alloc_bytes']) / n:,.0f} | {int(kv['gen0']) * 1000 / n:.1f} / {int(kv['gen1']) * 1000 / n:.1f} | {float(kv['pause_ms']) * 1000 / n:.1f} | {idle.get('alloc_bytes', '?')} B in {idle.get('span_ms', '?')} ms |")
PY
echo "results: $out"

#!/usr/bin/env bash
# The first STOW of a fresh server against the next ones: for each run, a fresh server on a fresh
# database, then N STOWs (one study of --series x --instances each) one after the other, no warm-up.
# Prints one JSON line per run (first_stow_ms) and the ratio first / median of the 2nd..Nth.
# Usage: eng/bench/first-request.sh [runs=3] [stows=10]   (built already: EVENTSOURCED_SKIP_BUILD=1)
# Hosting__WarmUp=false runs the service without its start-up warm-up (the before figures);
# OURS_READY_TIMEOUT (s, default 60) bounds the wait for /health/ready. ready_s includes the tenant CLI run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
runs="${1:-3}"; stows="${2:-10}"
out="$root/eng/bench/results/first-request-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
if [ -z "${EVENTSOURCED_SKIP_BUILD:-}" ]; then
  dotnet build eng/bench/LoadHarness -c Release --nologo -v q -clp:ErrorsOnly
  dotnet build src/Web -c Release --nologo -v q -clp:ErrorsOnly
fi
source eng/bench/ours.sh
trap '[ -n "${ours_pid:-}" ] && stop_ours' EXIT
for run in $(seq 1 "$runs"); do
  port=$(( ${FIRST_REQUEST_PORT:-5091} + run ))
  started=$(date +%s.%N)
  start_ours "$out" "$port"
  ready=$(echo "$(date +%s.%N) - $started" | bc)
  dotnet "$root/eng/bench/LoadHarness/bin/Release/net10.0/LoadHarness.dll" --base-url "http://127.0.0.1:$port/dicomweb" \
    --header "Authorization: $ours_key" --first-stow "$stows" --series 1 --instances 3 --seed "$((run * 7919))" --name "run$run" \
    | python3 -c "
import json, sys, statistics
r = json.loads(sys.stdin.read()); ms = r['first_stow_ms']
print(json.dumps({'run': r['target'], 'ready_s': round($ready, 1), 'first_ms': ms[0], 'rest_median_ms': statistics.median(ms[1:]),
                  'ratio': round(ms[0] / statistics.median(ms[1:]), 1), 'all_ms': ms}))" | tee -a "$out/runs.jsonl"
  stop_ours; ours_pid=
done

#!/usr/bin/env bash
# Does the cost grow with the archive? The same measured workload (the harness's default corpus shape:
# 200 studies × 15 instances, 50 patients) run twice against one server and database: first on an
# empty archive (3,000 instances stored by the run itself), then again with new UIDs (seed 43) after
# ~94,000 more instances of other patients were loaded (seed 7, unmeasured), so on ~100,000.
# Results: eng/bench/results/<time>-scaling/{at-3k,load,at-100k}.json.
#   bash eng/bench/scaling.sh [--load-studies 6267]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
load_studies=6267
if [ "${1:-}" = "--load-studies" ]; then load_studies="$2"; fi
out="$root/eng/bench/results/$(date -u +%Y%m%dT%H%M%SZ)-scaling"; mkdir -p "$out"
bash eng/pack-local-feed.sh
dotnet build eng/bench/LoadHarness -c Release --nologo -v q -clp:ErrorsOnly
dotnet build src/Web -c Release --nologo -v q -clp:ErrorsOnly
source eng/bench/ours.sh
# The harness against this run's server (ours.sh's harness, with the address and key).
harness() { dotnet "$root/eng/bench/LoadHarness/bin/Release/net10.0/LoadHarness.dll" --base-url http://127.0.0.1:5091/dicomweb --header "Authorization: $ours_key" "$@"; }
start_ours "$out" 5091
harness --seed 42 --name at-3k --out "$out/at-3k.json" >/dev/null
harness --seed 7 --studies "$load_studies" --patients $((load_studies / 4)) --queries 1 --retrievals 1 --name load --out "$out/load.json" >/dev/null
harness --seed 43 --name at-100k --out "$out/at-100k.json" >/dev/null
stop_ours

python3 - "$out" <<'PY'
import json, sys, pathlib
rows = [json.loads((pathlib.Path(sys.argv[1]) / f"{n}.json").read_text()) for n in ("at-3k", "load", "at-100k")]
keys = [("stow", "instances_per_s"), ("qido", "queries_per_s"), ("qido", "p50_ms"), ("qido", "p99_ms"),
        ("wado_instance", "requests_per_s"), ("wado_instance", "p99_ms"), ("wado_study_metadata", "requests_per_s"), ("wado_study_metadata", "p99_ms")]
print("| run | " + " | ".join(f"{a} {b}" for a, b in keys) + " | QIDO count mismatches |")
print("|---" * (len(keys) + 2) + "|")
for r in rows:
    print(f"| {r['target']} | " + " | ".join(str(r.get(a, {}).get(b, "-")) for a, b in keys) + f" | {r['qido_count_check']['mismatches']} |")
PY
echo "results: $out"

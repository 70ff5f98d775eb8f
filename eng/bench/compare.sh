#!/usr/bin/env bash
# One run, one machine, identical synthetic data: the load harness against this product and against
# Orthanc with its SQLite index and with its PostgreSQL index. Results: eng/bench/results/<time>/*.json.
# Extra arguments go to the harness (e.g. --studies 200 --size 64).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="$root/eng/bench/results/$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
bash eng/pack-local-feed.sh
dotnet build eng/bench/LoadHarness -c Release --nologo -v q -clp:ErrorsOnly
dotnet build src/Web -c Release --nologo -v q -clp:ErrorsOnly
harness() { dotnet "$root/eng/bench/LoadHarness/bin/Release/net10.0/LoadHarness.dll" "$@"; }

# This product, on a database and blob folder of its own.
source eng/bench/ours.sh
start_ours "$out" 5090
harness --base-url http://127.0.0.1:5090/dicomweb --header "Authorization: $ours_key" --name ours --out "$out/ours.json" "$@" >/dev/null
stop_ours

for mode in sqlite postgresql; do
  pid="$(bash eng/bench/orthanc.sh "$mode" 8043 "$out/orthanc-$mode")"
  harness --base-url http://127.0.0.1:8043/dicom-web --name "orthanc-$mode" --out "$out/orthanc-$mode.json" "$@" >/dev/null
  kill "$pid"; sleep 2
  rm -rf "$out/orthanc-$mode/storage" "$out/orthanc-$mode/index"
done
python3 - "$out" <<'PY'
import json, sys, pathlib
rows = [json.loads(p.read_text()) for p in sorted(pathlib.Path(sys.argv[1]).glob("*.json"))]
keys = [("stow", "instances_per_s"), ("qido", "queries_per_s"), ("qido", "p99_ms"), ("wado_instance", "requests_per_s"), ("wado_study_metadata", "requests_per_s")]
print("| target | " + " | ".join(f"{a} {b}" for a, b in keys) + " | QIDO count mismatches |")
print("|---" * (len(keys) + 2) + "|")
for r in rows:
    print(f"| {r['target']} | " + " | ".join(str(r.get(a, {}).get(b, "-")) for a, b in keys) + f" | {r['qido_count_check']['mismatches']} |")
PY
echo "results: $out"

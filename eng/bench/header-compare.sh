#!/usr/bin/env bash
# Every read of an instance's header before and after a change of build, on one database history: build A
# (OURS_BIN_ROOT_A, default /work/wt/base) writes the history (the load harness's stores plus
# eng/bench/feed-compare.py write and header-compare.py write: a replaced instance, patient update, merge, study
# move, reconcile, erasure),
# is restarted and captures (eng/bench/header-compare.py capture: QIDO-RS instances, study and series metadata,
# the PACS study listing, instance queries on header attributes); then build B (OURS_BIN_ROOT_B, default this
# checkout, Release) starts on the same database (its start-up upgrades the schema) and captures again.
# Exits 1 when a response differs. Each capture times the study metadata reads (the first after a start).
#   eng/bench/header-compare.sh <out-dir> <port> [harness options, default --studies 20]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$1"; port="$2"; shift 2; mkdir -p "$out"; out="$(cd "$out" && pwd)"
[ $# -gt 0 ] || set -- --studies 20
a="${OURS_BIN_ROOT_A:-/work/wt/base}"
b="${OURS_BIN_ROOT_B:-$root}"
harness="${OURS_HARNESS:-$a/eng/bench/LoadHarness/bin/Release/net10.0/LoadHarness.dll}"
source "$root/eng/bench/ours.sh"
export OURS_KEEP_BLOBS=1
all_scopes_key() { (cd "$1/src/Web" && dotnet "$1/src/Web/bin/Release/net10.0/EventSourced.Web.dll" tenants issue-key bench | grep -o 'esk_[A-Za-z0-9_-]*' | head -1); }

OURS_BIN_ROOT="$a" start_ours "$out" "$port"
database="$(sed 's/.*Database=\([^;]*\);.*/\1/' <<<"$ConnectionStrings__EventStore")"
key="$(OURS_DATABASE=$database all_scopes_key "$a")"
dotnet "$harness" --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --name ours \
  --queries 1 --retrievals 1 --out "$out/harness.json" "$@" >/dev/null
studies="$(/usr/bin/python3 "$root/eng/bench/feed-compare.py" write "http://127.0.0.1:$port" "$key")"
/usr/bin/python3 "$root/eng/bench/header-compare.py" write "http://127.0.0.1:$port" "$key" "$studies"
stop_ours
OURS_DATABASE="$database" OURS_BIN_ROOT="$a" start_ours "$out" "$port"
echo "A $(cut -d' ' -f1-3 /proc/loadavg) $(/usr/bin/python3 "$root/eng/bench/header-compare.py" capture "http://127.0.0.1:$port" "$key" "$out/a.json" "$out/a-times.tsv")"
stop_ours

OURS_DATABASE="$database" OURS_BIN_ROOT="$b" start_ours "$out" "$port"
trap stop_ours EXIT
echo "B $(cut -d' ' -f1-3 /proc/loadavg) $(/usr/bin/python3 "$root/eng/bench/header-compare.py" capture "http://127.0.0.1:$port" "$key" "$out/b.json" "$out/b-times.tsv")"
echo "database $database"
/usr/bin/python3 - "$out/a.json" "$out/b.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
bad = [k for k in a if a[k] != b.get(k)] + [k for k in b if k not in a]
print(f"{len(a)} captures, {sum(len(v) for v in a.values()):,} bytes of responses: {'identical' if not bad else 'DIFFERENT: ' + ', '.join(bad[:10])}")
sys.exit(1 if bad else 0)
PY

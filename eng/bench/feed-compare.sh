#!/usr/bin/env bash
# The study feed's responses before and after a change of build, on one database history: build A
# (OURS_BIN_ROOT_A, default /work/wt/base) writes the history (the load harness's stores plus
# eng/bench/feed-compare.py write: a replaced instance, patient update, merge, study move) and captures every
# feed response (eng/bench/feed-compare.py capture); then build B (this checkout, Release) starts on the same
# database (its start-up upgrades the schema) and captures again. Exits 1 when a response differs.
# FEED_TIME_ROUNDS=n also times every page of both feeds n times with each build (feed-compare.py time).
#   eng/bench/feed-compare.sh <out-dir> <port> [harness options, default --studies 20]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$1"; port="$2"; shift 2; mkdir -p "$out"; out="$(cd "$out" && pwd)"
[ $# -gt 0 ] || set -- --studies 20
a="${OURS_BIN_ROOT_A:-/work/wt/base}"
harness="${OURS_HARNESS:-$a/eng/bench/LoadHarness/bin/Release/net10.0/LoadHarness.dll}"
source "$root/eng/bench/ours.sh"
export OURS_KEEP_BLOBS=1
all_scopes_key() { (cd "$1/src/Web" && dotnet "$1/src/Web/bin/Release/net10.0/EventSourced.Web.dll" tenants issue-key bench | grep -o 'esk_[A-Za-z0-9_-]*' | head -1); }
settle() { # until the feed's settled offset stops moving
  local last=-1 now
  while now="$(curl -sf -H "Authorization: $1" "http://127.0.0.1:$port/o3-dpacs-wado/studyEvents?offsetId=0&limit=1" | /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["settledOffsetId"])')"; [ "$now" != "$last" ]; do last="$now"; sleep 3; done
}

OURS_BIN_ROOT="$a" start_ours "$out" "$port"
database="$ours_database"
key="$(OURS_DATABASE=$database all_scopes_key "$a")"
dotnet "$harness" --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --name ours \
  --queries 1 --retrievals 1 --out "$out/harness.json" "$@" >/dev/null
/usr/bin/python3 "$root/eng/bench/feed-compare.py" write "http://127.0.0.1:$port" "$key" >/dev/null
settle "$key"
/usr/bin/python3 "$root/eng/bench/feed-compare.py" capture "http://127.0.0.1:$port" "$key" "$out/a.json"
[ -z "${FEED_TIME_ROUNDS:-}" ] || /usr/bin/python3 "$root/eng/bench/feed-compare.py" time "http://127.0.0.1:$port" "$key" "$FEED_TIME_ROUNDS" | sed 's/^/A /' | tee "$out/a-time.txt"
stop_ours

OURS_DATABASE="$database" OURS_BIN_ROOT="$root" start_ours "$out" "$port"
trap stop_ours EXIT
settle "$key"
/usr/bin/python3 "$root/eng/bench/feed-compare.py" capture "http://127.0.0.1:$port" "$key" "$out/b.json"
[ -z "${FEED_TIME_ROUNDS:-}" ] || /usr/bin/python3 "$root/eng/bench/feed-compare.py" time "http://127.0.0.1:$port" "$key" "$FEED_TIME_ROUNDS" | sed 's/^/B /' | tee "$out/b-time.txt"
echo "database $database"
/usr/bin/python3 - "$out/a.json" "$out/b.json" <<'PY'
import json, re, sys
# settledOffsetId moves by the API key B's start-up issued (an event): compared apart.
settled = re.compile(r'"settledOffsetId":([0-9]+)')
a, b = (json.load(open(p)) for p in sys.argv[1:3])
marks = {name: sorted({m for v in d.values() for page in (v if isinstance(v, list) else [v]) for m in settled.findall(page)}) for name, d in (("A", a), ("B", b))}
strip = lambda v: [settled.sub('"settledOffsetId":_', p) for p in v] if isinstance(v, list) else settled.sub('"settledOffsetId":_', v)
bad = [k for k in a if strip(a[k]) != strip(b.get(k, []))] + [k for k in b if k not in a]
print(f"{len(a)} captures, {sum(len(json.dumps(v)) for v in a.values()):,} bytes of responses: {'identical' if not bad else 'DIFFERENT: ' + ', '.join(bad[:10])}"
      f" (settledOffsetId A {marks['A']}, B {marks['B']})")
sys.exit(1 if bad else 0)
PY

#!/usr/bin/env bash
# Builds and runs every test (integration tests against a real PostgreSQL included), on a fresh machine
# too: installs what the tests need, packs the local NuGet feed, restores, builds, tests. Ends with one
# line "N passed, N failed, N skipped" summed over all test projects; exits non-zero if anything failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
set -e
bash eng/install-test-deps.sh
bash eng/pack-local-feed.sh
dotnet build EventSourced.sln -c Release --nologo -v q -clp:ErrorsOnly
set +e

results="$root/TestResults"
rm -rf "$results"
dotnet test EventSourced.sln -c Release --no-build --nologo \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" "$@"
status=$?

read -r passed failed skipped < <(python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
p = f = s = 0
for path in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    c = ET.parse(path).getroot().find("t:ResultSummary/t:Counters", ns)
    if c is None:
        continue
    p += int(c.get("passed", 0)); f += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0)) + int(c.get("aborted", 0))
    s += int(c.get("notExecuted", 0))
print(p, f, s)
PY
)
if [ "$status" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then
  echo "dotnet test exited $status without a failed test: a test host crashed or a project did not run." >&2
  failed=1
fi
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
[ "$status" -eq 0 ] && [ "${failed:-0}" -eq 0 ]

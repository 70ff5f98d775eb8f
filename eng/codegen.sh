#!/usr/bin/env bash
# Regenerates Wolverine's handler code into src/Web/Generated, which is committed and compiled into
# EventSourced.Web: the service loads it (TypeLoadMode.Static) instead of compiling it with Roslyn at start-up
# (docs/architecture.md, "Code generation: Static"). Run it after adding a handler or changing a handler's
# signature, its message, a service it takes or a Wolverine policy; Hosting/GeneratedCodeTests fails until you do.
#   eng/codegen.sh [Debug|Release]   (default Release)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
configuration="${1:-Release}"
bash eng/pack-local-feed.sh
# The committed code could stop the build that regenerates it (a handler renamed or removed): start without it.
rm -rf src/Web/Generated
dotnet build src/Web -c "$configuration" --nologo -v q -clp:ErrorsOnly
# `codegen write` builds the host (never starts it: no database is reached) and writes under the content root.
(cd src/Web && ConnectionStrings__EventStore="Host=127.0.0.1;Database=codegen" \
  dotnet "bin/$configuration/net10.0/EventSourced.Web.dll" codegen write | grep -c 'Wrote generated code file' | sed 's/$/ files written to src\/Web\/Generated/')
dotnet build src/Web -c "$configuration" --nologo -v q -clp:ErrorsOnly

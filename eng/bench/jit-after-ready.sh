#!/usr/bin/env bash
# Methods the server still compiles after readiness, by phase of the load harness: DOTNET_JitStdOutFile with
# DOTNET_JitDisasmSummary=1 lists every method the JIT compiles, in order; the list's length is read at readiness and
# after each harness process (STOW of a small corpus with the harness's own warm-up and count check, then the QIDO mix
# alone, then the WADO-RS instance and study metadata phases alone).
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
  count() { grep -c . "$list"; }
  ready="$(count)"
  url="http://127.0.0.1:$port/dicomweb"; auth="Authorization: $ours_key"
  harness --base-url "$url" --header "$auth" --studies "$studies" --queries 0 --retrievals 0; stow="$(count)"
  harness --base-url "$url" --header "$auth" --studies "$studies" --skip-stow --queries 200 --retrievals 0; qido="$(count)"
  harness --base-url "$url" --header "$auth" --studies "$studies" --skip-stow --queries 0 --retrievals "$retrievals"; wado="$(count)"
  sed -n "$((qido + 1)),\$p" "$list" > "$out/$target.wado-phase.jit"
  sed -n "$((stow + 1)),${qido}p" "$list" > "$out/$target.qido-phase.jit"
  stop_ours; ours_pid=
  database="$(sed 's/.*Database=\([^;]*\);.*/\1/' <<<"$ConnectionStrings__EventStore")"
  psql -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -qc "drop database $database with (force)" >/dev/null
  echo "$target: compiled by readiness $ready; during STOW+count check $((stow - ready)); QIDO phase $((qido - stow)); WADO+metadata phases $((wado - qido))" | tee -a "$out/summary.txt"
done
echo "results: $out"

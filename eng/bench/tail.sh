#!/usr/bin/env bash
# Retrieval tail: the harness's full pass (eng/bench/compare.sh's figures: 3,000 instances, STOW, QIDO, 1,000
# retrievals of each kind) against several targets in interleaved runs, every WADO-RS request's start and
# duration logged (LoadHarness --latencies), then where the slowest 1 % of each phase came from: at the phase's
# start, on a study's first request of the phase, or scattered.
#   eng/bench/tail.sh [--runs 3] [--targets "A B O"] [harness options]
# Targets: A = this product built in $A_ROOT (/work/wt/base), B = built in this checkout, O = Orthanc-SQLite;
# B2 = this checkout again with the environment of $B2_ENV (e.g. "DOTNET_X=1 DOTNET_Y=0") to try a setting; B3, B4, …
# likewise with $B3_ENV, $B4_ENV, ….
# Per run: the harness JSON, the latency log, the load average (1 min) before/after, the server's CPU ms, and for ours
# its CPU ms spent by readiness (start-up and warm-up), its peak RSS (VmHWM, kB, after the run) and its log.
# Environment: TAIL_PORT (7200), EVENTSOURCED_PG_PORT (the cluster of eng/local-postgres.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
runs=3; targets="A B O"; harness_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --targets) targets="$2"; shift 2 ;;
    *) harness_args+=("$1"); shift ;;
  esac
done
port="${TAIL_PORT:-7200}"
out="$root/eng/bench/results/tail-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
echo "eng/bench/tail.sh --runs $runs --targets \"$targets\" ${harness_args[*]} (A_ROOT=${A_ROOT:-/work/wt/base} B2_ENV=${B2_ENV:-} B3_ENV=${B3_ENV:-} B4_ENV=${B4_ENV:-})" > "$out/command.txt"
source "$root/eng/bench/ours.sh"
bench_cluster
orthanc_pid=
# Every run's blob folder and Orthanc storage are kept until the end, as compare.sh does: on ext4 without a journal a
# removal of thousands of files slows every file creation for minutes, which would land on the next target's STOW
# (docs/benchmarks.md, "Group commit across requests"; until 2026-12-08 the target after A paid for A's folder).
cleanup() { [ -n "${ours_pid:-}" ] && stop_ours; stop_orthanc; rm -rf "$out"/run*-blobs "$out"/run*-orthanc; }
trap cleanup EXIT
for run in $(seq 1 "$runs"); do
  for target in $targets; do
    l0="$(load)"; name="run$run-$target"
    if [ "$target" = O ]; then
      orthanc_pid="$(bash eng/bench/orthanc.sh sqlite "$((port + 1))" "$out/$name-orthanc")"
      harness --base-url "http://127.0.0.1:$((port + 1))/dicom-web" --name "$name" --server-pid "$orthanc_pid" \
        --latencies "$out/$name.latencies" --out "$out/$name.json" "${harness_args[@]}" >/dev/null
      stop_orthanc
    else
      bin="$root"; [ "$target" = A ] && bin="${A_ROOT:-/work/wt/base}"
      # B2, B3, …: this checkout with the environment of B2_ENV, B3_ENV, …
      envs=; case "$target" in B[0-9]*) envs_var="${target}_ENV"; envs="${!envs_var:-}" ;; esac
      for kv in $envs; do export "${kv?}"; done
      OURS_BIN_ROOT="$bin" OURS_BLOBS="$out/$name-blobs" start_ours "$out" "$port"
      for kv in $envs; do unset "${kv%%=*}"; done
      awk '{ print ($14 + $15) * 10 }' "/proc/$ours_pid/stat" > "$out/$name.ready-cpu-ms"
      database="$ours_database"
      harness --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $ours_key" --name "$name" \
        --server-pid "$ours_pid" --db-pid "$postmaster" --latencies "$out/$name.latencies" --out "$out/$name.json" "${harness_args[@]}" >/dev/null
      awk '/^VmHWM:/ { print $2 }' "/proc/$ours_pid/status" > "$out/$name.peak-rss-kb"
      cp "${OURS_LOG:-$out/ours.log}" "$out/$name.log"
      OURS_KEEP_BLOBS=1 stop_ours; ours_pid=
      psql_ "drop database $database with (force)" >/dev/null
    fi
    echo "$l0 $(load)" > "$out/$name.load"
  done
done
python3 "$root/eng/bench/tail-table.py" "$out" | tee "$out/table.md"
echo "results: $out"

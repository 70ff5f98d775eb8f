#!/usr/bin/env bash
# Sourced by the benchmark scripts: starts this product (Release build, already built) for the load
# harness on a database and blob folder of its own, on eng/run.sh's local PostgreSQL.
#   start_ours <out-dir> <port>   sets ours_pid, ours_key (an API key with studies.read,studies.write) and
#                                  ours_database (the database it runs on)
#   stop_ours                      stops it and removes its blob folder
# Optional, to resume an earlier run (eng/bench/scale.sh --resume): OURS_DATABASE (reuse that database:
# not created, a new key issued for its tenant `bench`), OURS_PG_ROOT (the checkout whose
# eng/local-postgres.sh cluster holds it), OURS_BIN_ROOT (the checkout whose Release build runs),
# OURS_LOG (the server's log), OURS_BLOBS (the blob folder, default <out-dir>/ours-blobs), OURS_KEEP_BLOBS=1 (stop_ours leaves the blob folder), OURS_CS_EXTRA (appended to
# the connection string, e.g. ";Max Auto Prepare=0" to try a driver setting).
# bench_cluster: eng/local-postgres.sh's cluster, for the scripts that measure on it: sets pgport, exports
# PGPASSWORD, and sets postmaster (its pid, whose CPU and its children's the harness reads).
bench_cluster() {
  local cs; cs="$(bash "$root/eng/local-postgres.sh")"
  pgport="$(sed 's/.*Port=\([0-9]*\);.*/\1/' <<<"$cs")"; export PGPASSWORD="${cs##*Password=}"
  postmaster="$(head -1 "$root/.data/postgres/postmaster.pid")"
}

# psql_ <sql> [database]: one statement on that cluster (database postgres by default), unaligned tuples.
psql_() { psql -h 127.0.0.1 -p "$pgport" -U postgres -d "${2:-postgres}" -tAc "$1"; }

# load: the one-minute load average, written beside each run's figures.
load() { cut -d' ' -f1 /proc/loadavg; }

# harness <options>: the Release load harness of HARNESS_ROOT (this checkout by default).
harness() { dotnet "${HARNESS_ROOT:-$root}/eng/bench/LoadHarness/bin/Release/net10.0/LoadHarness.dll" "$@"; }

start_ours() {
  local out="$1" port="$2" cs pgport password database bin="${OURS_BIN_ROOT:-$root}" verb=ensure
  cs="$(bash "${OURS_PG_ROOT:-$root}/eng/local-postgres.sh")"; pgport="$(sed 's/.*Port=\([0-9]*\);.*/\1/' <<<"$cs")"; password="${cs##*Password=}"
  database="${OURS_DATABASE:-bench_$(date +%s)}"; ours_database="$database"
  if [ -n "${OURS_DATABASE:-}" ]; then verb=issue-key; else
    PGPASSWORD="$password" psql -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -qc "create database $database" >/dev/null
  fi
  export ConnectionStrings__EventStore="Host=127.0.0.1;Port=$pgport;Database=$database;Username=postgres;Password=$password;Maximum Pool Size=100${OURS_CS_EXTRA:-}"
  export Blobs__Root="${OURS_BLOBS:-$out/ours-blobs}"
  export Logging__LogLevel__Default=Warning
  # eng/tenants.sh's command line, run from the checkout being measured (already built).
  ours_key="$(cd "$bin/src/Web" && dotnet "$bin/src/Web/bin/Release/net10.0/EventSourced.Web.dll" tenants "$verb" bench --scopes studies.read,studies.write | grep -o 'esk_[A-Za-z0-9_-]*' | head -1)"
  (cd "$bin/src/Web" && exec dotnet "$bin/src/Web/bin/Release/net10.0/EventSourced.Web.dll" --urls "http://127.0.0.1:$port" > "${OURS_LOG:-$out/ours.log}" 2>&1) &
  ours_pid=$!
  for _ in $(seq 1 $((2 * ${OURS_READY_TIMEOUT:-60}))); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done
  curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "not ready in ${OURS_READY_TIMEOUT:-60} s" >&2; stop_ours; return 1; }
}

stop_ours() {
  kill "$ours_pid"; wait "$ours_pid" 2>/dev/null || true
  # SIGTERM while still starting is not always heeded: make sure the port is free for the next run.
  kill -9 "$ours_pid" 2>/dev/null || true
  [ -n "${OURS_KEEP_BLOBS:-}" ] || rm -rf "$Blobs__Root"
}

# stop_orthanc: stops the Orthanc of $orthanc_pid (eng/bench/orthanc.sh's) and waits until it is gone, so that its port
# is free for the next run; `wait` cannot do it (orthanc.sh started it and exited: it is not this shell's child).
stop_orthanc() {
  [ -n "${orthanc_pid:-}" ] || return 0
  kill "$orthanc_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do [ -d "/proc/$orthanc_pid" ] || { orthanc_pid=; return 0; }; sleep 0.1; done
  kill -9 "$orthanc_pid" 2>/dev/null || true; orthanc_pid=
}

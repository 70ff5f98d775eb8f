#!/usr/bin/env bash
# Sourced by the benchmark scripts: starts this product (Release build, already built) for the load
# harness on a database and blob folder of its own, on eng/run.sh's local PostgreSQL.
#   start_ours <out-dir> <port>   sets ours_pid and ours_key (an API key with studies.read,studies.write)
#   stop_ours                      stops it and removes its blob folder
start_ours() {
  local out="$1" port="$2" cs pgport password database
  cs="$(bash "$root/eng/local-postgres.sh")"; pgport="$(sed 's/.*Port=\([0-9]*\);.*/\1/' <<<"$cs")"; password="${cs##*Password=}"
  database="bench_$(date +%s)"
  PGPASSWORD="$password" psql -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -qc "create database $database" >/dev/null
  export ConnectionStrings__EventStore="Host=127.0.0.1;Port=$pgport;Database=$database;Username=postgres;Password=$password;Maximum Pool Size=100"
  export Blobs__Root="$out/ours-blobs"
  export Logging__LogLevel__Default=Warning
  ours_key="$(EVENTSOURCED_SKIP_BUILD=1 bash "$root/eng/tenants.sh" ensure bench --scopes studies.read,studies.write | grep -o 'esk_[A-Za-z0-9_-]*' | head -1)"
  (cd "$root/src/Web" && exec dotnet "$root/src/Web/bin/Release/net10.0/EventSourced.Web.dll" --urls "http://127.0.0.1:$port" > "$out/ours.log" 2>&1) &
  ours_pid=$!
  for _ in $(seq 1 $((2 * ${OURS_READY_TIMEOUT:-60}))); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done
  curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "not ready in ${OURS_READY_TIMEOUT:-60} s" >&2; stop_ours; return 1; }
}

stop_ours() {
  kill "$ours_pid"; wait "$ours_pid" 2>/dev/null || true
  # SIGTERM while still starting is not always heeded: make sure the port is free for the next run.
  kill -9 "$ours_pid" 2>/dev/null || true
  rm -rf "$Blobs__Root"
}

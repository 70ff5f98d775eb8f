#!/usr/bin/env bash
# Bad load: does the service answer 503 with Retry-After (never a 500, never a hang) when it is
# overloaded or its PostgreSQL restarts, and recover without a restart of its own, losing nothing it
# acknowledged? On a PostgreSQL cluster of its own (initdb into a temp folder, never a shared cluster)
# and one service process for the whole script:
#   1. overload: --clients (32) clients of mixed STOW/QIDO/WADO for --seconds (30);
#   2. restarts: --restart-clients (16) clients for --seconds + 20 s while PostgreSQL is restarted twice,
#      `pg_ctl restart -m fast` at 10 s and `pg_ctl restart -m immediate` (crash-like) 15 s later.
# After each load every acknowledged STOW instance is retrieved (LoadHarness --bad-load). Prints, per
# phase, the status codes, the 5xx that are not 503, the 503 without Retry-After, client timeouts
# (--client-timeout, 30 s), and around each restart the status codes per second and the time until the
# last failed response; JSON and the per-response log (events.jsonl) in eng/bench/results/bad-load-<time>/.
#   eng/bench/bad-load.sh [--clients 32] [--restart-clients 16] [--seconds 30] [--client-timeout 30]
# Environment: BAD_LOAD_PORT (service, 5095), BAD_LOAD_PG_PORT (its cluster, 5096), PG_BIN,
# BAD_LOAD_READY_TIMEOUT (s the service may take to start, 240),
# EVENTSOURCED_SKIP_BUILD=1 to skip the builds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
clients=32; restart_clients=16; seconds=30; client_timeout=30
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) clients="$2" ;; --restart-clients) restart_clients="$2" ;; --seconds) seconds="$2" ;;
    --client-timeout) client_timeout="$2" ;; *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
port="${BAD_LOAD_PORT:-5095}"; pgport="${BAD_LOAD_PG_PORT:-5096}"
out="$root/eng/bench/results/bad-load-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
if [ -z "${EVENTSOURCED_SKIP_BUILD:-}" ]; then
  bash eng/pack-local-feed.sh
  dotnet build eng/bench/LoadHarness -c Release --nologo -v q -clp:ErrorsOnly
  dotnet build src/Web -c Release --nologo -v q -clp:ErrorsOnly
fi
export EVENTSOURCED_SKIP_BUILD=1
bin="${PG_BIN:-}"
[ -n "$bin" ] || for candidate in /usr/lib/postgresql/*/bin; do [ -x "$candidate/initdb" ] && bin="$candidate"; done
as_owner() { if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# A cluster of our own: loopback, trust auth (nothing else can reach it), durable (fsync on).
cluster="$(mktemp -d /tmp/bad-load-pg.XXXXXX)"
[ "$(id -u)" = "0" ] && chown postgres: "$cluster"
as_owner "$bin/initdb" -D "$cluster/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
cat >> "$cluster/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pgport
unix_socket_directories = '$cluster'
max_connections = 200
shared_buffers = 128MB
fsync = on
CONF
pg_ctl_() { as_owner "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/postgres.log" -w -t 60 "$@" >/dev/null; }
service_pid=
cleanup() {
  [ -n "$service_pid" ] && { kill "$service_pid" 2>/dev/null; wait "$service_pid" 2>/dev/null || true; }
  pg_ctl_ stop -m fast 2>/dev/null || true
  cp "$cluster/postgres.log" "$out/postgres.log" 2>/dev/null || true
  rm -rf "$cluster"
}
trap cleanup EXIT
pg_ctl_ start
"$bin/psql" -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -qc "create database badload" >/dev/null
export ConnectionStrings__EventStore="Host=127.0.0.1;Port=$pgport;Database=badload;Username=postgres;Password=unused;Maximum Pool Size=100"
export Blobs__Root="$cluster/blobs" Logging__LogLevel__Default=Warning
key="$(bash eng/tenants.sh ensure bench --scopes studies.read,studies.write | grep -o 'esk_[A-Za-z0-9_-]*' | head -1)"
(cd src/Web && exec dotnet "$root/src/Web/bin/Release/net10.0/EventSourced.Web.dll" --urls "http://127.0.0.1:$port" > "$out/service.log" 2>&1) &
service_pid=$!
for _ in $(seq 1 $((2 * ${BAD_LOAD_READY_TIMEOUT:-240}))); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "service not ready; see $out/service.log" >&2; exit 1; }

harness() {
  dotnet "${LOAD_HARNESS_DLL:-$root/eng/bench/LoadHarness/bin/Release/net10.0/LoadHarness.dll}" --base-url "http://127.0.0.1:$port/dicomweb" \
    --header "Authorization: $key" --studies 100000 --series 1 --instances 3 --patients 10 --client-timeout "$client_timeout" "$@" >/dev/null
}

echo "overload: $clients clients, $seconds s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
harness --bad-load "$seconds" --clients "$clients" --seed 101 --out "$out/overload.json" --events "$out/overload.jsonl"

restart_seconds=$((seconds + 20))
echo "restarts: $restart_clients clients, $restart_seconds s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
harness --bad-load "$restart_seconds" --clients "$restart_clients" --seed 202 --out "$out/restarts.json" --events "$out/restarts.jsonl" &
load_pid=$!
restart() { local began; began="$(date +%s%3N)"; pg_ctl_ restart -m "$1"; echo "$1 $began $(date +%s%3N)" >> "$out/restarts.txt"; }
sleep 10; restart fast
sleep 15; restart immediate
wait "$load_pid"
echo "service still the same process: $( [ -d "/proc/$service_pid" ] && echo yes || echo no) (pid $service_pid)"

python3 - "$out" <<'PY'
import json, sys, pathlib, collections
out = pathlib.Path(sys.argv[1])
def verdict(name):
    r = json.loads((out / f"{name}.json").read_text())
    print(f"\n{name}: {r['clients']} clients, {r['seconds']} s, {r['requests']} requests, by status {r['by_status']}")
    print(f"  by operation: {r['by_op_status']}")
    print(f"  5xx other than 503: {r['server_errors_not_503']}; 503 without Retry-After: {r['503_without_retry_after']}; "
          f"client timeouts/connection errors: {r['client_timeouts_or_connection_errors']}; slowest response {r['max_latency_ms']} ms")
    print(f"  acknowledged instances {r['acknowledged_instances']}, missing afterwards {len(r['acknowledged_missing'])} {r['acknowledged_missing'][:5]}")
    return r
verdict("overload")
r = verdict("restarts")
events = [json.loads(l) for l in (out / "restarts.jsonl").read_text().splitlines()]
for line in (out / "restarts.txt").read_text().splitlines():
    mode, at_ms, back_ms = line.split(); t = (int(at_ms) - r["started_unix_ms"]) / 1000
    failed = [e for e in events if not 200 <= e["status"] < 300 and t - 1 <= e["at_s"] <= t + 12]
    last = max((e["at_s"] for e in failed), default=None)
    print(f"\nrestart -m {mode} at {t:.1f} s: {len(failed)} failed responses, "
          + (f"the last {last - t:.2f} s after the restart began" if last is not None else "none")
          + f"; pg_ctl restart returned (PostgreSQL accepting connections) after {(int(back_ms) - int(at_ms)) / 1000:.2f} s")
    print("  | second | " + " | ".join(["2xx", "503", "other 5xx", "4xx", "no answer"]) + " |\n  |---:|---:|---:|---:|---:|---:|")
    end = int((last if last is not None else t) - t) + 3
    for s in range(-1, end):
        bucket = collections.Counter()
        for e in events:
            if t + s <= e["at_s"] < t + s + 1:
                c = e["status"]
                bucket["2xx" if 200 <= c < 300 else "503" if c == 503 else "other 5xx" if c >= 500 else "4xx" if c >= 400 else "no answer"] += 1
        print(f"  | {s:+d} | " + " | ".join(str(bucket[k]) for k in ["2xx", "503", "other 5xx", "4xx", "no answer"]) + " |")
PY
grep -c "Unhandled exception" "$out/service.log" | sed 's/^/500s logged by the service: /' || true
echo "results: $out"

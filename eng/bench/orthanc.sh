#!/usr/bin/env bash
# Starts Orthanc (the peer we benchmark against) on loopback with the DICOMweb plugin, in a fresh
# folder, with its default SQLite index or its PostgreSQL index (on the cluster of eng/local-postgres.sh).
#   eng/bench/orthanc.sh sqlite|postgresql PORT FOLDER     -> prints Orthanc's PID; stop it with kill
set -euo pipefail
mode="$1"; port="$2"; folder="$3"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
plugins=/usr/share/orthanc/plugins
if ! command -v Orthanc >/dev/null || [ ! -f "$plugins/libOrthancDicomWeb.so" ] || [ ! -f "$plugins/libOrthancPostgreSQLIndex.so" ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq orthanc orthanc-dicomweb orthanc-postgresql >/dev/null
fi
rm -rf "$folder"; mkdir -p "$folder/storage" "$folder/index"
postgres=""
plugin_list="\"$plugins/libOrthancDicomWeb.so\""
if [ "$mode" = "postgresql" ]; then
  cs="$(bash "$root/eng/local-postgres.sh")"
  pgport="$(sed 's/.*Port=\([0-9]*\);.*/\1/' <<<"$cs")"; password="${cs##*Password=}"
  database="orthanc_bench_$(date +%s)"
  PGPASSWORD="$password" psql -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -qc "create database $database" >/dev/null
  plugin_list="$plugin_list, \"$plugins/libOrthancPostgreSQLIndex.so\""
  postgres=", \"PostgreSQL\": { \"EnableIndex\": true, \"EnableStorage\": false, \"Host\": \"127.0.0.1\", \"Port\": $pgport,
    \"Database\": \"$database\", \"Username\": \"postgres\", \"Password\": \"$password\", \"Lock\": false }"
fi
cat > "$folder/orthanc.json" <<JSON
{
  "Name": "bench-$mode",
  "StorageDirectory": "$folder/storage",
  "IndexDirectory": "$folder/index",
  "HttpPort": $port,
  "DicomServerEnabled": false,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "HttpThreadsCount": 50,
  "Plugins": [ $plugin_list ],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/", "EnableWado": true, "StudiesMetadata": "Full", "SeriesMetadata": "Full" }
  $postgres
}
JSON
Orthanc "$folder/orthanc.json" > "$folder/orthanc.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$port/system" >/dev/null; then
    # Orthanc falls back to SQLite when a plugin does not load: a PostgreSQL run must really use it.
    if [ "$mode" = "postgresql" ] && ! grep -q "Using a custom database from plugins" "$folder/orthanc.log"; then
      echo "Orthanc did not load its PostgreSQL index; see $folder/orthanc.log" >&2; kill "$pid"; exit 1
    fi
    echo "$pid"; exit 0
  fi
  sleep 0.5
done
echo "Orthanc did not start; see $folder/orthanc.log" >&2
kill "$pid" 2>/dev/null || true
exit 1

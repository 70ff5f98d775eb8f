#!/usr/bin/env bash
# Starts (or reuses) the project's own PostgreSQL cluster for running the service:
# data under .data/postgres (git-ignored), created on first run and reused after, listening on
# 127.0.0.1:${EVENTSOURCED_PG_PORT:-5433}, password auth. Prints the connection string on stdout.
# Runs the server as the `postgres` user when invoked as root (PostgreSQL refuses to run as root).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data_root="$root/.data"
pgdata="$data_root/postgres"
port="${EVENTSOURCED_PG_PORT:-5433}"
bin="${PG_BIN:-}"
if [ -z "$bin" ]; then
  for candidate in /usr/lib/postgresql/*/bin; do [ -x "$candidate/initdb" ] && bin="$candidate"; done
fi
if { [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; } && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing the PostgreSQL server (Debian package postgresql)…" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  for candidate in /usr/lib/postgresql/*/bin; do [ -x "$candidate/initdb" ] && bin="$candidate"; done
fi
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin); install postgresql-15 or set PG_BIN." >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$data_root"
if [ "$(id -u)" = "0" ]; then chown postgres: "$data_root"; fi
password_file="$data_root/postgres.password"
if [ ! -s "$pgdata/PG_VERSION" ]; then
  umask 077
  head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$password_file"
  if [ "$(id -u)" = "0" ]; then chown postgres: "$password_file"; fi
  as_owner "$bin/initdb" -D "$pgdata" -U postgres --auth=scram-sha-256 --pwfile="$password_file" -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >> "$pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$pgdata'
max_connections = 200
shared_buffers = 256MB
fsync = on
CONF
fi

if ! as_owner "$bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
  as_owner "$bin/pg_ctl" -D "$pgdata" -l "$data_root/postgres.log" -w -t 60 start >/dev/null
fi

password="$(cat "$password_file")"
database="eventsourced"
if ! PGPASSWORD="$password" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "select 1 from pg_database where datname='$database'" | grep -q 1; then
  PGPASSWORD="$password" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "create database $database" >/dev/null
fi
echo "Host=127.0.0.1;Port=$port;Database=$database;Username=postgres;Password=$password"

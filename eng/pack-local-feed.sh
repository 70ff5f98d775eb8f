#!/usr/bin/env bash
# Packs eng/patched-distributedlock into the local folder feed that nuget.config lists.
# Idempotent: does nothing when the package is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
feed="$root/eng/local-feed"
pkg="$feed/patched.distributedlock.postgres.1.3.3.nupkg"
mkdir -p "$feed"
if [ -f "$pkg" ] || [ -f "$feed/Patched.DistributedLock.Postgres.1.3.3.nupkg" ]; then exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$root/eng/patched-distributedlock/"* "$work/"
# An isolated config: packing needs no package source, and the feed it fills may not exist yet.
cat > "$work/nuget.config" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><clear /></packageSources></configuration>
XML
( cd "$work" && dotnet pack Patched.DistributedLock.Postgres.csproj -o "$feed" --nologo -v q -p:DirectoryBuildPropsPath=none >/dev/null )
ls "$feed"/*.nupkg >/dev/null

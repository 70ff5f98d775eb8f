# Sourced by eng/run.sh and eng/tenants.sh: the repository root as the working folder, the local NuGet
# feed packed, and ConnectionStrings__EventStore set (the local PostgreSQL of eng/local-postgres.sh
# unless the caller set one).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash eng/pack-local-feed.sh
if [ -z "${ConnectionStrings__EventStore:-}" ]; then
  ConnectionStrings__EventStore="$(bash eng/local-postgres.sh)"
  export ConnectionStrings__EventStore
fi

# The service's command line (eng/tenants.sh, eng/projections.sh): builds unless EVENTSOURCED_SKIP_BUILD
# is set, then runs EventSourced.Web.dll with the given arguments from src/Web (its appsettings.json).
run_service_cli() {
  local dll="$root/src/Web/bin/Release/net10.0/EventSourced.Web.dll"
  if [ -z "${EVENTSOURCED_SKIP_BUILD:-}" ]; then
    dotnet build src/Web -c Release --nologo -v q -clp:ErrorsOnly >&2
  fi
  cd src/Web
  exec dotnet "$dll" "$@"
}

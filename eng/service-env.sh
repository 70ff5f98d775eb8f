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

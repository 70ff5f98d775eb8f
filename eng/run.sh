#!/usr/bin/env bash
# Runs the service. With no ConnectionStrings__EventStore set, starts (or reuses) the local PostgreSQL
# of eng/local-postgres.sh. Creates the schema, seeds the development tenant (its API key, an OAuth2
# client id + secret and an X-USERNAME user + password are printed the first time only), and serves on http://127.0.0.1:5080 unless ASPNETCORE_URLS / --urls says otherwise.
# Extra arguments go to the service (e.g. --urls http://127.0.0.1:6000).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/service-env.sh"

dotnet build src/Web -c Release --nologo -v q -clp:ErrorsOnly
EVENTSOURCED_SKIP_BUILD=1 bash eng/tenants.sh ensure "${EVENTSOURCED_DEV_TENANT:-dev}" --name "Development tenant"
cd src/Web
exec dotnet "$root/src/Web/bin/Release/net10.0/EventSourced.Web.dll" "$@"

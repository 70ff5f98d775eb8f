#!/usr/bin/env bash
# Tenant and API-key administration against the same database eng/run.sh uses:
#   eng/tenants.sh ensure <tenant> [--name N] [--subject S] [--scopes a,b]
#   eng/tenants.sh issue-key <tenant> [--subject S] [--scopes a,b]
#   eng/tenants.sh revoke-key <tenant> <keyId>
#   eng/tenants.sh add-client <tenant> [--scopes a,b]            (OAuth2 client credentials; secret printed once)
#   eng/tenants.sh revoke-client <tenant> <clientId>
#   eng/tenants.sh add-user <tenant> <username> [--scopes a,b] [--password p]   (X-USERNAME/X-PASSWORD)
#   eng/tenants.sh rotate-signing-key -                          (new access-token signing key)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/service-env.sh"
run_service_cli tenants "$@"

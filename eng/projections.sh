#!/usr/bin/env bash
# Rebuild equals live, against the same database eng/run.sh uses:
#   eng/projections.sh verify [--wait seconds]
# rebuilds every projection from the event log into a scratch schema, compares it with the live read
# models and prints each difference (table [key] column: live … | rebuilt …); exit code 1 on any.
# --wait: how long to wait for the live async daemon to have projected the whole log (default 30 s).
# Any other verb goes to JasperFx's own "projections" command (e.g. eng/projections.sh --rebuild).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/service-env.sh"
run_service_cli projections "$@"

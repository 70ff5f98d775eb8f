#!/usr/bin/env bash
# Study-feed freshness: starts this product (Release build, already built) on a fresh database and runs
# eng/bench/feed-freshness.py against it. Usage: eng/bench/feed-freshness.sh [count=300]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mktemp -d)"
source "$root/eng/bench/ours.sh"
start_ours "$out" 5391
trap stop_ours EXIT
/usr/bin/python3 "$root/eng/bench/feed-freshness.py" http://127.0.0.1:5391 "$ours_key" "${1:-300}"

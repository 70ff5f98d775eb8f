#!/usr/bin/env bash
# What the tests need from the machine, installed only when missing (idempotent, quiet):
#   PostgreSQL server binaries (unless EVENTSOURCED_TEST_POSTGRES names a server or Docker is used),
#   DCMTK (dcmdump, dcm2json: the outside oracle for the DICOM codec), pydicom's test corpus, libjpeg-turbo (djpeg), Pillow and numpy (imaging oracles).
set -euo pipefail
packages=()
if [ -z "${EVENTSOURCED_TEST_POSTGRES:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  packages+=(postgresql)
fi
command -v dcmdump >/dev/null 2>&1 && command -v dcm2json >/dev/null 2>&1 || packages+=(dcmtk)
command -v djpeg >/dev/null 2>&1 && command -v cjpeg >/dev/null 2>&1 || packages+=(libjpeg-turbo-progs)
[ -d /usr/lib/python3/dist-packages/pydicom/data/test_files ] || packages+=(python3-pydicom)
# Oracles of the imaging tests (Pillow's resize and colour conversion, pydicom's pixel handlers).
/usr/bin/python3 -c 'import PIL, numpy' >/dev/null 2>&1 || packages+=(python3-pil python3-numpy)
[ ${#packages[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "Missing test dependencies (${packages[*]}) and not root: install them with apt-get." >&2; exit 1
  fi
fi
echo "Installing test dependencies: ${packages[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

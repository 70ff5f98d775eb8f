#!/usr/bin/env bash
# What the tests need from the machine, installed only when missing (idempotent, quiet):
#   PostgreSQL server binaries (unless EVENTSOURCED_TEST_POSTGRES names a server or Docker is used),
#   DCMTK (dcmdump, dcm2json: the outside oracle for the DICOM codec), pydicom's test corpus, libjpeg-turbo (djpeg), Pillow and numpy (imaging oracles),
#   the real DICOMweb peers (Node.js and npm for dicomweb-client, Orthanc with its DICOMweb plugin), and then
#   the npm packages of tests/Web.Tests/Clients/dicomweb-client (npm ci, from its package-lock.json: dicomweb-client,
#   and s3rver, the S3-compatible server the storage tests start).
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
# Real DICOMweb clients and peers (tests/Web.Tests/Clients).
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
command -v Orthanc >/dev/null 2>&1 || packages+=(orthanc)
ls /usr/share/orthanc/plugins/libOrthancDicomWeb.so /usr/lib/orthanc/libOrthancDicomWeb.so* >/dev/null 2>&1 || packages+=(orthanc-dicomweb)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
install_npm_packages() {
  local client="$root/tests/Web.Tests/Clients/dicomweb-client"
  [ -d "$client/node_modules/dicomweb-client" ] && [ -d "$client/node_modules/s3rver" ] || (cd "$client" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

if [ ${#packages[@]} -eq 0 ]; then
  install_npm_packages
  exit 0
fi

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
# Orthanc's Debian package starts a system service; the tests start their own Orthanc on free ports.
if command -v systemctl >/dev/null 2>&1; then $sudo systemctl disable --now orthanc >/dev/null 2>&1 || true; fi
install_npm_packages

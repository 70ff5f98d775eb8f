#!/usr/bin/env bash
# Byte-identity of WADO-RS metadata between two builds on the same archive: the harness's corpus stored once (200 studies
# of 15 instances) through B (this checkout), then A (the build in $A_ROOT, /work/wt/base) started on the same database
# and blob folder; every study's metadata, and every series' and one instance's of the first 20 studies, is fetched from
# both under the same Host header (the BulkDataURIs start with it) and compared byte for byte. Then the patients of 10
# studies are corrected (patients/update through B) and every study is compared again (served coerced).
#   eng/bench/metadata-identity.sh
# Environment: IDENTITY_PORT (7630; A listens on the next port), EVENTSOURCED_PG_PORT (the cluster of eng/local-postgres.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
port="${IDENTITY_PORT:-7630}"
out="$root/eng/bench/results/metadata-identity-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$out"
source "$root/eng/bench/ours.sh"
bench_cluster
a_pid=; b_pid=
cleanup() {
  [ -n "$a_pid" ] && { kill "$a_pid"; wait "$a_pid" 2>/dev/null || true; }
  [ -n "$b_pid" ] && { kill "$b_pid"; wait "$b_pid" 2>/dev/null || true; }
  rm -rf "$out/blobs"
  [ -n "${database:-}" ] && psql_ "drop database $database with (force)" >/dev/null
}
trap cleanup EXIT

export OURS_BLOBS="$out/blobs" OURS_LOG="$out/b.log"
OURS_BIN_ROOT="$root" start_ours "$out" "$port"; b_pid=$ours_pid; b_key=$ours_key
database="$ours_database"
harness --base-url "http://127.0.0.1:$port/dicomweb" --header "Authorization: $b_key" --queries 0 --retrievals 1 --out "$out/stow.json" >/dev/null
OURS_DATABASE="$database" OURS_LOG="$out/a.log" OURS_BIN_ROOT="${A_ROOT:-/work/wt/base}" start_ours "$out" "$((port + 1))"; a_pid=$ours_pid; a_key=$ours_key

psql_ "select json_agg(json_build_array(study_instance_uid, series_instance_uid, sop_instance_uid) order by study_instance_uid, series_instance_uid, sop_instance_uid) from eventsourced.mt_doc_qidoinstance" "$database" > "$out/uids.json"
psql_ "select json_agg(p) from (select distinct data ->> 'PatientId' p from eventsourced.mt_doc_qidostudy order by 1 limit 10) x" "$database" > "$out/patients.json"

python3 - "$port" "$b_key" "$((port + 1))" "$a_key" "$out" <<'EOF'
import http.client, json, sys
b_port, b_key, a_port, a_key, out = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
rows = json.load(open(f"{out}/uids.json"))
studies = {}
for st, se, sop in rows:
    studies.setdefault(st, {}).setdefault(se, []).append(sop)

def get(port, key, path, method="GET", body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Authorization": key, "Accept": "application/dicom+json", "Host": "identity.example"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    return r.status, r.read()

def compare(label):
    paths = [f"/dicomweb/studies/{st}/metadata" for st in studies]
    for st in list(studies)[:20]:
        for se, sops in studies[st].items():
            paths.append(f"/dicomweb/studies/{st}/series/{se}/metadata")
            paths.append(f"/dicomweb/studies/{st}/series/{se}/instances/{sops[0]}/metadata")
    same = differ = size = 0
    for path in paths:
        for _ in range(2):  # a rendering, then the kept one
            (sa, ba), (sb, bb) = get(a_port, a_key, path), get(b_port, b_key, path)
            if (sa, ba) == (sb, bb) and sa == 200:
                same += 1; size += len(bb)
            else:
                differ += 1
                print(f"DIFFER {label} {path}: A {sa} {len(ba)} B, {sb} {len(bb)}", file=sys.stderr)
    print(json.dumps({"pass": label, "requests": len(paths) * 2, "identical": same, "different": differ, "bytes_compared": size}))
    return differ

bad = compare("as stored")
patients = json.load(open(f"{out}/patients.json"))
for i, p in enumerate(patients):
    status, body = get(b_port, b_key, "/o3-dpacs-wado/patients/update", "POST",
                       json.dumps({"patientID": p, "patientName": f"Identité^Müller{i}", "userName": "identity"}))
    assert status == 200, (p, status, body)
bad += compare(f"after {len(patients)} patient updates")
sys.exit(1 if bad else 0)
EOF

#!/usr/bin/env bash
# EXPLAIN (ANALYZE, BUFFERS) of the QIDO queries whose cost used to grow with the archive (series by
# StationName, studies by PatientName prefix / fuzzy word), on a database the service created, with the
# SQL the service issues: `old` the SQL of main before the station_names/modalities_in_study columns and
# the name indexes (jsonb containment), `new` the SQL it issues now. Nothing is written.
#   bash eng/bench/qido-index-plans.sh <port> <database> <password-file> old|new [tenant=bench]
set -euo pipefail
port="$1"; database="$2"; export PGPASSWORD="$(cat "$3")"; shape="$4"; tenant="${5:-bench}"
q() { psql -h 127.0.0.1 -p "$port" -U postgres -d "$database" -X -q "$@"; }
explain() { echo "### $1"; q -c "explain (analyze, buffers, costs off) $2" | grep -v '^$'; }
q -tAc "select 'studies ' || (select count(*) from eventsourced.mt_doc_qidostudy) || ', series ' || (select count(*) from eventsourced.mt_doc_qidoseries) || ', instances ' || (select count(*) from eventsourced.mt_doc_qidoinstance)"
for station in STATION0 CT01_OC0; do
  if [ "$shape" = old ]; then match="s.data @> '{\"StationNames\": [\"$station\"]}'::jsonb"; else match="s.station_names && '{$station}'::text[]"; fi
  for offset in 0 800; do
    explain "series?StationName=$station&limit=1000 (lowered to 200)&offset=$offset ($shape)" \
      "select d.data from eventsourced.mt_doc_qidoseries as d where (d.tenant_id = '$tenant' and d.study_key in (select s.id from eventsourced.mt_doc_qidostudy s where s.tenant_id = '$tenant' and (($match)))) order by d.study_instance_uid, d.series_number, d.series_instance_uid offset $offset limit 201"
  done
  if [ "$shape" = old ]; then match="d.data @> '{\"StationNames\": [\"$station\"]}'::jsonb"; else match="d.station_names && '{$station}'::text[]"; fi
  explain "studies?StationName=$station&limit=100 ($shape)" \
    "select d.data from eventsourced.mt_doc_qidostudy as d where (d.tenant_id = '$tenant' and (($match))) order by d.received_at desc, d.study_instance_uid offset 0 limit 101"
done
for prefix in 'KOWALSKI^P0000%' 'DOE%' 'NOVAK^P061%' 'ZZZ%'; do
  for offset in 0 800; do
    explain "studies?PatientName=${prefix//%/*}&limit=1000 (lowered to 200)&offset=$offset ($shape)" \
      "select d.data from eventsourced.mt_doc_qidostudy as d where (d.tenant_id = '$tenant' and (upper(d.patient_name) like upper('$prefix'))) order by d.received_at desc, d.study_instance_uid offset $offset limit 201"
  done
done
for word in P00019 SMI P0613; do
  explain "studies?PatientName=$word&fuzzymatching=true&limit=100 ($shape)" \
    "select d.data from eventsourced.mt_doc_qidostudy as d where (d.tenant_id = '$tenant' and (d.patient_name_fuzzy like '% $word%')) order by d.received_at desc, d.study_instance_uid offset 0 limit 101"
done

#!/usr/bin/env bash
# EXPLAIN (ANALYZE, BUFFERS) of the scale run's wide QIDO queries on the database a scale run grew
# (eng/bench/scale.sh leaves it in this worktree's cluster; its name is in <results>/run.txt), with the
# SQL the service issues (captured with auto_explain during a run) and the run's literal values; then
# the same two name queries with a candidate index each, built and dropped inside a transaction
# (nothing is left in the database).
#   bash eng/bench/scale-plans.sh <database>     Output: the plans, on stdout.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
database="$1"
export PGPASSWORD="$(cat "$root/.data/postgres.password")"
q() { psql -h 127.0.0.1 -p "${EVENTSOURCED_PG_PORT:-5179}" -U postgres -d "$database" -X -q "$@"; }
explain() { echo "### $1"; q -c "explain (analyze, buffers, costs off) $2"; }

q -c "analyze eventsourced.mt_doc_qidostudy" -c "analyze eventsourced.mt_doc_qidoseries" -c "analyze eventsourced.mt_doc_qidoinstance"
q -tAc "select 'studies ' || (select count(*) from eventsourced.mt_doc_qidostudy) || ', series ' || (select count(*) from eventsourced.mt_doc_qidoseries) || ', instances ' || (select count(*) from eventsourced.mt_doc_qidoinstance)"
station="select d.data from eventsourced.mt_doc_qidoseries as d where (d.tenant_id = 'bench' and d.study_key in (select s.id from eventsourced.mt_doc_qidostudy s where s.tenant_id = 'bench' and ((s.data @> '{\"StationNames\": [\"STATION0\"]}'::jsonb)))) order by d.study_instance_uid, d.series_number, d.series_instance_uid"
explain "series?StationName=STATION0&limit=1000 (lowered to 200), offset 0" "$station offset 0 limit 201"
explain "series?StationName=STATION0&limit=1000 (lowered to 200), offset 800" "$station offset 800 limit 201"
explain "series?Modality=CT&limit=100" "select d.data from eventsourced.mt_doc_qidoseries as d where (d.tenant_id = 'bench' and (d.modality = 'CT')) order by d.study_instance_uid, d.series_number, d.series_instance_uid offset 0 limit 101"
explain "studies?StudyDate=20240101-20240331&limit=100" "select d.data from eventsourced.mt_doc_qidostudy as d where (d.tenant_id = 'bench' and (d.study_date >= '20240101' and d.study_date <= '20240331')) order by d.received_at desc, d.study_instance_uid offset 0 limit 101"
explain "studies?StudyDate=20240315 (default limit 100)" "select d.data from eventsourced.mt_doc_qidostudy as d where (d.tenant_id = 'bench' and (d.study_date = '20240315')) order by d.received_at desc, d.study_instance_uid offset 0 limit 101"
name="select d.data from eventsourced.mt_doc_qidostudy as d where (d.tenant_id = 'bench' and (upper(d.patient_name) like upper('DOE%'))) order by d.received_at desc, d.study_instance_uid offset 0 limit 101"
rare="select d.data from eventsourced.mt_doc_qidostudy as d where (d.tenant_id = 'bench' and (upper(d.patient_name) like upper('KOWALSKI^P0000%'))) order by d.received_at desc, d.study_instance_uid offset 0 limit 101"
fuzzy="select d.data from eventsourced.mt_doc_qidostudy as d where (d.tenant_id = 'bench' and (d.patient_name_fuzzy like '% SMI%')) order by d.received_at desc, d.study_instance_uid offset 0 limit 101"
rarefuzzy="select d.data from eventsourced.mt_doc_qidostudy as d where (d.tenant_id = 'bench' and (d.patient_name_fuzzy like '% P00019%')) order by d.received_at desc, d.study_instance_uid offset 0 limit 101"
explain "studies?PatientName=DOE*&limit=100 (a tenth of the studies match)" "$name"
explain "studies?PatientName=KOWALSKI^P0000*&limit=100 (a rare prefix)" "$rare"
explain "studies?PatientName=smi&fuzzymatching=true&limit=100 (a tenth match)" "$fuzzy"
explain "studies?PatientName=p00019&fuzzymatching=true&limit=100 (a rare word prefix)" "$rarefuzzy"
explain "instances?SOPClassUID=1.2.840.10008.5.1.4.1.1.7&limit=100" "select d.data from eventsourced.mt_doc_qidoinstance as d where (d.tenant_id = 'bench' and (d.sop_class_uid = any('{1.2.840.10008.5.1.4.1.1.7}'))) order by d.study_instance_uid, d.series_instance_uid, d.instance_number, d.sop_instance_uid offset 0 limit 101"
explain "studies?limit=100&offset=5000" "select d.data from eventsourced.mt_doc_qidostudy as d where d.tenant_id = 'bench' order by d.received_at desc, d.study_instance_uid offset 5000 limit 101"

echo "### candidate: (upper(patient_name) text_pattern_ops), built and rolled back"
q <<SQL
begin;
create index scale_candidate_name on eventsourced.mt_doc_qidostudy (upper(patient_name) text_pattern_ops);
explain (analyze, buffers, costs off) $name;
explain (analyze, buffers, costs off) $rare;
rollback;
SQL
echo "### candidate: pg_trgm GIN on patient_name_fuzzy, built and rolled back"
q <<SQL
begin;
create extension if not exists pg_trgm;
create index scale_candidate_fuzzy on eventsourced.mt_doc_qidostudy using gin (patient_name_fuzzy gin_trgm_ops);
explain (analyze, buffers, costs off) $fuzzy;
explain (analyze, buffers, costs off) $rarefuzzy;
rollback;
SQL

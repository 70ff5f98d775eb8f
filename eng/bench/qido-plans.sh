#!/usr/bin/env bash
# EXPLAIN ANALYZE of the QIDO query shapes on a synthetic archive written straight into the QIDO read
# models with SQL (fast: no STOW), on a database of its own on eng/run.sh's local PostgreSQL. The
# service is started once on it to create the schema (Release build, already built).
# Usage: eng/bench/qido-plans.sh [studies=10000] [series-per-study=3]   Output: the plans, on stdout.
# QIDO_PLANS_CONNECTION=<connection string> uses that database instead of a new one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
studies="${1:-10000}"; per="${2:-3}"
if [ -n "${QIDO_PLANS_CONNECTION:-}" ]; then
  cs="$QIDO_PLANS_CONNECTION"   # a database whose schema the service created already, and no QIDO rows
else
  out="$(mktemp -d)"
  source eng/bench/ours.sh
  start_ours "$out" "${QIDO_PLANS_PORT:-5092}"
  stop_ours
  rm -rf "$out"
  cs="$ConnectionStrings__EventStore"
fi
export PGPASSWORD="${cs##*Password=}"; PGPASSWORD="${PGPASSWORD%%;*}"
pgport="$(sed 's/.*Port=\([0-9]*\);.*/\1/' <<<"$cs")"; database="$(sed 's/.*Database=\([^;]*\);.*/\1/' <<<"$cs")"
q() { psql -h 127.0.0.1 -p "$pgport" -U postgres -d "$database" -X -q "$@"; }

# One tenant, $studies studies of $per series; a third of the studies were made on station CTER01;
# patient names DOE^JOHN<n>, MILLER^ANNA<n>, … spread over 500 patients.
q -v studies="$studies" -v per="$per" <<'SQL'
insert into eventsourced.mt_doc_qidostudy (tenant_id, id, data, mt_dotnet_type, study_instance_uid, patient_id, patient_name, patient_name_fuzzy, study_date, received_at, number_of_study_related_series, number_of_study_related_instances)
select 'bench', md5('study' || i)::uuid,
       jsonb_build_object('StudyInstanceUid', '1.2.826.0.1.3680043.10.543.9.' || i,
                          'StationNames', jsonb_build_array(case when i % 3 = 0 then 'CTER01' else 'MRST0' || (i % 5) end),
                          'ModalitiesInStudy', jsonb_build_array(case when i % 3 = 0 then 'CT' else 'MR' end), 'Attributes', '{}'::jsonb),
       'EventSourced.Projections.Qido.QidoStudy',
       '1.2.826.0.1.3680043.10.543.9.' || i, 'P' || (i % 500),
       (array['DOE','MILLER','SMITH','NGUYEN','GARCIA'])[1 + i % 5] || '^' || (array['JOHN','ANNA','LI','MARIA','OMAR'])[1 + (i / 5) % 5] || (i % 500),
       ' ' || (array['DOE','MILLER','SMITH','NGUYEN','GARCIA'])[1 + i % 5] || ' ' || (array['JOHN','ANNA','LI','MARIA','OMAR'])[1 + (i / 5) % 5] || (i % 500),
       to_char(date '2020-01-01' + (i % 1500), 'YYYYMMDD'), timestamptz '2026-01-01' + i * interval '1 minute', :per, :per * 5
from generate_series(1, :studies) i;
insert into eventsourced.mt_doc_qidoseries (tenant_id, id, data, mt_dotnet_type, study_key, study_instance_uid, series_instance_uid, modality, series_number, number_of_series_related_instances)
select 'bench', md5('series' || i || '.' || j)::uuid, jsonb_build_object('Attributes', '{}'::jsonb), 'EventSourced.Projections.Qido.QidoSeries',
       md5('study' || i)::uuid, '1.2.826.0.1.3680043.10.543.9.' || i, '1.2.826.0.1.3680043.10.543.9.' || i || '.' || j,
       case when i % 3 = 0 then 'CT' else 'MR' end, j, 5
from generate_series(1, :studies) i, generate_series(1, :per) j;
analyze eventsourced.mt_doc_qidostudy;
analyze eventsourced.mt_doc_qidoseries;
SQL

station='{"StationNames":["CTER01"]}'
for offset in 0 800; do
  for shape in "correlated (before):s.tenant_id = d.tenant_id" "uncorrelated (after):s.tenant_id = 'bench'"; do
    echo "### series?StationName=CTER01&limit=1000&offset=$offset, sub-select ${shape%%:*}"
    q -c "explain (analyze, costs off, timing on, summary on)
      select d.data from eventsourced.mt_doc_qidoseries as d
      where d.tenant_id = 'bench' and (d.study_key in (select s.id from eventsourced.mt_doc_qidostudy s where ${shape#*:} and ((s.data @> '$station'::jsonb))))
      order by d.study_instance_uid, d.series_number, d.series_instance_uid limit 1001 offset $offset"
  done
done

echo "### studies?PatientName=smith*&limit=100 (case-folded wildcard)"
q -c "explain (analyze, costs off, summary on)
  select d.data from eventsourced.mt_doc_qidostudy as d where d.tenant_id = 'bench' and (upper(d.patient_name) like upper('smith%'))
  order by d.received_at desc, d.study_instance_uid limit 101"
echo "### studies?PatientName=smi&fuzzymatching=true&limit=100 (word-prefix anywhere in the name)"
q -c "explain (analyze, costs off, summary on)
  select d.data from eventsourced.mt_doc_qidostudy as d where d.tenant_id = 'bench' and (d.patient_name_fuzzy like '% SMI%')
  order by d.received_at desc, d.study_instance_uid limit 101"
echo "### database: $database (drop it when done)"

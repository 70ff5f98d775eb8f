using EventSourced.Application.Common;
using EventSourced.Application.Ingestion;
using EventSourced.Domain.Patients;
using Microsoft.Extensions.Options;

namespace EventSourced.Application.Patients;

/// <summary>
/// The patient aggregates this node last filed a new study under (<see cref="AggregateWriteCache{T}"/>), so that
/// filing the next reads only what the patient's stream gained since, not every study filed under it before (docs/
/// benchmarks.md, "New studies of one patient at once"). Bounded by <see cref="IngestionOptions.PatientCacheStudies"/>
/// studies held in all (a patient counts one more).
/// </summary>
public sealed class PatientWriteCache(IOptions<IngestionOptions> options)
    : AggregateWriteCache<Patient>(() => options.Value.PatientCacheStudies, patient => patient.Studies.Count + 1);

using EventSourced.Domain.Corrections;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Studies;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.Patients;

public static class PatientRegistration
{
    /// <summary>The patient and correction streams: live aggregations, the inline lookup record, event types and erasure rules.</summary>
    public static StoreOptions AddPatientProjections(this StoreOptions options)
    {
        options.Projections.Add<PatientAggregation>(ProjectionLifecycle.Live);
        options.Projections.Add<CorrectionAggregation>(ProjectionLifecycle.Live);
        options.Projections.Add<PatientRecordProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<PatientRecord>().MultiTenanted().Index(x => x.PatientId);

        options.Events.AddEventType<PatientRegistered>();
        options.Events.AddEventType<PatientDemographicsUpdated>();
        options.Events.AddEventType<PatientStudyLinked>();
        options.Events.AddEventType<PatientStudyUnlinked>();
        options.Events.AddEventType<PatientMerged>();
        options.Events.AddEventType<PatientMergeUndone>();
        options.Events.AddEventType<StudyPatientAssigned>();
        options.Events.AddEventType<CorrectionRecorded>();
        options.Events.AddEventType<CorrectionUndone>();
        options.Events.AddEventType<Domain.Orders.OrderPatientDemographicsUpdated>();
        options.Events.AddEventType<PatientErased>();
        options.Events.AddEventType<Domain.Orders.OrderPatientErased>();

        // Erasure: the demographics these events carry.
        var erased = PatientDemographics.Erased;
        options.Events.AddMaskingRuleForProtectedInformation<PatientRegistered>(e => e with { Patient = erased });
        options.Events.AddMaskingRuleForProtectedInformation<PatientDemographicsUpdated>(e => e with { Patient = erased, Previous = erased });
        options.Events.AddMaskingRuleForProtectedInformation<PatientMerged>(e => e with { Into = erased });
        options.Events.AddMaskingRuleForProtectedInformation<Domain.Orders.OrderPatientDemographicsUpdated>(e => e with { Patient = erased });
        options.Events.AddMaskingRuleForProtectedInformation<StudyPatientAssigned>(e => e with
        {
            Patient = e.Patient is null ? null : erased,
            Previous = e.Previous is null ? null : erased,
        });
        options.Events.AddMaskingRuleForProtectedInformation<CorrectionRecorded>(e => e with
        {
            Studies = [.. e.Studies.Select(s => s with { From = s.From is null ? null : erased, To = erased })],
        });
        return options;
    }
}

using EventSourced.Domain.Studies;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.Studies;

public static class StudyRegistration
{
    public static StoreOptions AddStudyProjections(this StoreOptions options)
    {
        options.Projections.Add<StudyAggregation>(ProjectionLifecycle.Live);
        options.Events.AddMaskingRuleForProtectedInformation<InstanceStored>(e => e.WithPersonalDataErased());
        options.Events.AddMaskingRuleForProtectedInformation<InstancesStored>(e => e.WithPersonalDataErased());
        options.Events.AddMaskingRuleForProtectedInformation<InstanceReplaced>(e => e with { Instance = e.Instance.WithPersonalDataErased() });
        // The per-instance document, QidoInstance (its location columns included), written without loads (InstanceRecordsProjection).
        options.Projections.Add(new InstanceRecordsProjection(), ProjectionLifecycle.Inline);

        options.Events.AddEventType<InstanceStored>();
        options.Events.AddEventType<InstancesStored>();
        options.Events.AddEventType<InstanceReplaced>();
        options.Events.AddEventType<InstanceErased>();
        options.AddStudyLifecycleEvents();
        return options;
    }

    /// <summary>The deprecation, delete and restore events of the study stream (the projections handling them are registered with the study, QIDO and archive ones).</summary>
    private static StoreOptions AddStudyLifecycleEvents(this StoreOptions options)
    {
        options.Events.AddMaskingRuleForProtectedInformation<StudyDeprecationRevoked>(e => e.WithPersonalDataErased());
        options.Events.AddEventType<StudyDeprecationStarted>();
        options.Events.AddEventType<StudyDeprecationCompleted>();
        options.Events.AddEventType<StudyDeprecationRevoked>();
        options.Events.AddEventType<KeyObjectSelectionCreated>();

        // Series moved between studies (reconcile, swap, their undo).
        options.Events.AddMaskingRuleForProtectedInformation<SeriesRefiledIn>(e => e.WithPersonalDataErased());
        options.Events.AddEventType<SeriesRefiledIn>();
        options.Events.AddEventType<SeriesRefiledOut>();
        options.Events.AddMaskingRuleForProtectedInformation<DeletedContentRestored>(e => e.WithPersonalDataErased());
        options.Events.AddEventType<StudyContentDeleted>();
        options.Events.AddEventType<DeletedContentRestored>();
        options.Events.AddEventType<DeletedContentPurged>();
        return options;
    }
}

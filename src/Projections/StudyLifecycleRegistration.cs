using EventSourced.Domain.Studies;
using Marten;

namespace EventSourced.Projections;

public static class StudyLifecycleRegistration
{
    /// <summary>The deprecation, delete and restore events of the study stream (the projections handling them are registered with the study, QIDO and archive ones).</summary>
    public static StoreOptions AddStudyLifecycleEvents(this StoreOptions options)
    {
        options.Events.AddMaskingRuleForProtectedInformation<StudyDeprecationRevoked>(e => e.WithPersonalDataErased());
        options.Events.AddEventType<StudyDeprecationStarted>();
        options.Events.AddEventType<StudyDeprecationCompleted>();
        options.Events.AddEventType<StudyDeprecationRevoked>();
        options.Events.AddEventType<KeyObjectSelectionCreated>();
        options.Events.AddMaskingRuleForProtectedInformation<DeletedContentRestored>(e => e.WithPersonalDataErased());
        options.Events.AddEventType<StudyContentDeleted>();
        options.Events.AddEventType<DeletedContentRestored>();
        options.Events.AddEventType<DeletedContentPurged>();
        return options;
    }
}

using EventSourced.Domain.Access;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.Access;

/// <summary>Presigned uploads, viewer tokens and new-exam callbacks.</summary>
public static class AccessRegistration
{
    public static StoreOptions AddAccessProjections(this StoreOptions options)
    {
        options.Events.AddEventType<UploadUrlIssued>();
        options.Events.AddEventType<UploadUrlConsumed>();
        options.Events.AddEventType<ViewerTokenIssued>();
        options.Events.AddEventType<ViewerTokenUsed>();
        options.Events.AddEventType<NewExamCallbackReceived>();

        // Inline: a callback is listed by GET /admin/callbacks as soon as POST /new-exam-callback answers.
        options.Projections.Add<ReceivedCallbackProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<ReceivedCallback>()
            .MultiTenanted()
            .Index(x => x.StudyInstanceUid)
            .Index(x => x.ReceivedAt);

        // The callback carries patient data (PatientID, PatientName, PatientBirthDate, PatientSex).
        options.Events.AddMaskingRuleForProtectedInformation<NewExamCallbackReceived>(e => e with
        {
            Notification = e.Notification with { PatientID = null, PatientName = null, PatientBirthDate = null, PatientSex = null },
        });
        options.Events.AddMaskingRuleForProtectedInformation<ViewerTokenIssued>(e => e with { PatientId = null });
        return options;
    }
}

using EventSourced.Domain.Orders;
using EventSourced.Domain.Reports;
using EventSourced.Projections.Blobs;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Orders;
using EventSourced.Projections.Reports;
using EventSourced.Projections.Studies;
using EventSourced.Projections.StudyFeed;
using EventSourced.Projections.Tenants;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections;

public static class ProjectionRegistration
{
    public static StoreOptions AddTenantProjections(this StoreOptions options)
    {
        options.Projections.Add<TenantAggregation>(ProjectionLifecycle.Live);
        options.Projections.Add<ApiKeyCredentialProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<ApiKeyCredential>().SingleTenanted();
        options.Events.AddEventType<TenantRegistered>();
        options.Events.AddEventType<ApiKeyIssued>();
        options.Events.AddEventType<ApiKeyRevoked>();
        options.Projections.Add<OAuthClientCredentialProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<OAuthClientCredential>().SingleTenanted();
        options.Projections.Add<ArchiveUserCredentialProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<ArchiveUserCredential>().SingleTenanted();
        options.Events.AddEventType<OAuthClientRegistered>();
        options.Events.AddEventType<OAuthClientRevoked>();
        options.Events.AddEventType<ArchiveUserRegistered>();
        return options;
    }

    public static StoreOptions AddStudyProjections(this StoreOptions options)
    {
        options.Projections.Add<StudyAggregation>(ProjectionLifecycle.Live);
        options.Events.AddMaskingRuleForProtectedInformation<InstanceStored>(e => e with { Instance = e.Instance.WithPersonalDataErased() });
        options.Events.AddMaskingRuleForProtectedInformation<InstanceReplaced>(e => e with { Instance = e.Instance.WithPersonalDataErased() });
        options.Projections.Add<InstanceLocationProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<InstanceLocation>()
            .MultiTenanted()
            .Index(x => x.StudyInstanceUid)
            .Index(x => x.SeriesInstanceUid);

        // Every blob an event names, for the orphan sweeper (docs/architecture.md, "Orphan blobs").
        options.Projections.Add<ReferencedBlobProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<ReferencedBlob>().MultiTenanted();

        options.Events.AddEventType<InstanceStored>();
        options.Events.AddEventType<InstanceReplaced>();
        options.Events.AddEventType<InstanceErased>();
        options.AddStudyLifecycleEvents();
        return options;
    }

    public static StoreOptions AddOrderProjections(this StoreOptions options)
    {
        options.Projections.Add<OrderAggregation>(ProjectionLifecycle.Live);
        options.Projections.Add<StudyOrderRegisterAggregation>(ProjectionLifecycle.Live);

        // Inline: /status and /orderId read their own writes.
        options.Projections.Add<OrderSummaryProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<OrderSummary>()
            .MultiTenanted()
            .Index(x => x.StudyInstanceUid)
            .Index(x => x.CreatedAt)
            .Index(x => x.WorkitemUid)
            .Index(x => x.PatientId);

        options.Projections.Add<OrderHistoryProjection>(ProjectionLifecycle.Async);
        options.Schema.For<OrderHistory>().MultiTenanted();

        // Erasure of personal data (a patient's deletion request): these rules rewrite the PHI of stored
        // events in place when ApplyEventDataMasking is run for the patient's streams.
        options.Events.AddMaskingRuleForProtectedInformation<OrderCreated>(e => e with { Details = e.Details.WithPersonalDataErased() });
        options.Events.AddMaskingRuleForProtectedInformation<OrderMetadataAdded>(e => e with
        {
            Metadata = e.Metadata.ToDictionary(m => m.Key, _ => System.Text.Json.JsonSerializer.SerializeToElement(OrderDetails.Erased)),
        });

        options.Events.AddEventType<OrderCreated>();
        options.Events.AddEventType<OrderMetadataAdded>();
        options.Events.AddEventType<OrderFailed>();
        options.Events.AddEventType<OrderDeleted>();
        options.Events.AddEventType<OrderBookedForStudy>();
        options.Events.AddEventType<StudyOrderReleased>();
        options.Events.AddEventType<StudyImagesArrived>();
        options.Events.AddEventType<OrderImagesArrived>();
        options.Events.AddEventType<OrderProcedureStepStarted>();
        options.Events.AddEventType<OrderProcedureStepCompleted>();
        options.Events.AddEventType<OrderProcedureStepCanceled>();
        options.Events.AddEventType<OrderCancellationRequested>();
        options.Events.AddEventType<WorkitemUidClaimed>();
        return options;
    }

    /// <summary>Reports delivered for orders and study groups, and the batch poll's read model.</summary>
    public static StoreOptions AddReportProjections(this StoreOptions options)
    {
        options.Projections.Add<StudyGroupAggregation>(ProjectionLifecycle.Live);
        options.Projections.Add<ReportPollerAggregation>(ProjectionLifecycle.Live);

        // Inline: an acknowledgement is read-your-writes for the next poll, a delivery for the next /results.
        options.Projections.Add<CurrentReportProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<CurrentReport>()
            .MultiTenanted()
            .Index(x => x.ReportId)
            .Duplicate(x => x.PollKey);

        options.Events.AddEventType<ReportDelivered>();
        options.Events.AddEventType<ReportsAcknowledged>();
        options.Events.AddEventType<OrderAddedToStudyGroup>();
        options.Events.AddEventType<StudyGroupReportDelivered>();
        options.Events.AddEventType<StudyGroupReportsAcknowledged>();
        options.Events.AddEventType<ReportsServedToPoller>();
        return options;
    }

    /// <summary>
    /// The study feed (document e's <c>studyEvents</c>, the DICOMweb change feed, study audit): an
    /// asynchronous projection, see <see cref="StudyFeedProjection"/>. <paramref name="signal"/> wakes
    /// waiting feed requests after each daemon commit. The daemon itself is woken by PostgreSQL
    /// NOTIFY at each commit of events (any node), not only by its polling.
    /// </summary>
    public static StoreOptions AddStudyFeedProjections(this StoreOptions options, StudyFeedSignal signal)
    {
        options.Projections.Add(new StudyFeedProjection(), ProjectionLifecycle.Async);
        options.Schema.For<StudyFeedEntry>()
            .MultiTenanted()
            .Duplicate(x => x.Sequence)
            .Duplicate(x => x.StudyInstanceUid)
            .Index(x => x.OccurredAt);
        options.Projections.AsyncListeners.Add(signal);
        options.Events.UseListenNotifyForEventAppends = true;
        return options;
    }
}

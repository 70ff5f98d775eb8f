using EventSourced.Domain.Orders;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.Orders;

public static class OrderRegistration
{
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
            .Index(x => x.PatientId)
            // The worklists' filters, so a query reads the orders it answers, not every order the tenant ever had:
            // document c's active workitems (by status), UPS-RS search by state and by accession number; and UPS-RS
            // search's order (scheduled start first): a page is read from the index, not sorted out of every order.
            .Index(x => x.Status)
            .Index(x => x.ProcedureStepState)
            .Index(x => x.AccessionNumber)
            .Index(x => x.ScheduledStartDateTime);

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
}

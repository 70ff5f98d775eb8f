using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Reports;
using EventSourced.Domain.Studies;

namespace EventSourced.Domain.Tests.Reports;

/// <summary>Given an order's or a study group's events, when a report is delivered or acknowledged, then these events or none.</summary>
public sealed class ReportDecisionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
    private static readonly Actor Producer = new("producer", "reports-api");
    private static readonly Actor Consumer = new("consumer", "reports-api");
    private static readonly ReportContent Json = new(new BlobRef(new string('a', 64), new string('b', 40), 10), "application/json", ReportFormat.Json, null, null);

    private static Order NewOrder() => Order.Create(new OrderCreated(
        Guid.CreateVersion7(T0),
        new OrderDetails
        {
            PatientId = "P1", PatientName = "DOE^JANE", StudyInstanceUid = "1.2.3", AccessionNumber = "A1", Modality = "CT",
            ScheduledStationAETitle = "CT1", ScheduledProcedureStepDescription = "Chest", ScheduledProcedureStepStartDate = "20261123",
            ScheduledProcedureStepStartTime = "0900",
        },
        [], T0.AddMinutes(15), Producer, T0));

    private static (Order Order, ReportDelivered Delivered) Deliver(Order order, string type)
    {
        var (delivered, rejected) = order.DeliverReport(Guid.CreateVersion7(), type, Json, Producer, T0.AddMinutes(1));
        Assert.Null(rejected);
        return (order.Apply(delivered!), delivered!);
    }

    [Fact]
    public void A_first_delivery_is_version_1_and_a_second_of_the_same_type_amends_it()
    {
        var (order, first) = Deliver(NewOrder(), "summary");
        var (amended, second) = Deliver(order, "summary");
        var (_, other) = Deliver(amended, "pdf");

        Assert.Equal((1, (Guid?)null), (first.Version, first.Amends));
        Assert.Equal((2, (Guid?)first.ReportId), (second.Version, second.Amends));
        Assert.Equal((1, (Guid?)null), (other.Version, other.Amends));
        Assert.Equal("1.2.3", first.StudyInstanceUid);
        Assert.True(amended.HasReport);
    }

    [Fact]
    public void Only_the_served_unacknowledged_version_is_acknowledged_and_only_once()
    {
        var (order, first) = Deliver(NewOrder(), "summary");
        (order, var second) = Deliver(order, "summary");

        Assert.Null(order.AcknowledgeReports([first.ReportId, Guid.NewGuid()], Consumer, T0)); // replaced, unknown
        var acknowledged = order.AcknowledgeReports([first.ReportId, second.ReportId], Consumer, T0)!;
        Assert.Equal([new AcknowledgedReport(second.ReportId, "summary")], acknowledged.Reports);

        order = order.Apply(acknowledged);
        Assert.True(order.AllReportsAcknowledged);
        Assert.Null(order.AcknowledgeReports([second.ReportId], Consumer, T0)); // idempotent

        (order, _) = Deliver(order, "summary");
        Assert.False(order.AllReportsAcknowledged); // an amendment is unretrieved again
    }

    [Fact]
    public void A_deleted_order_takes_no_report()
    {
        var order = NewOrder();
        order = order.Apply(new OrderDeleted(order.Id, Producer, T0));
        var (delivered, rejected) = order.DeliverReport(Guid.CreateVersion7(), "summary", Json, Producer, T0);
        Assert.Null(delivered);
        Assert.Equal(RejectionKind.Conflict, rejected!.Kind);
    }

    [Fact]
    public void A_study_group_adds_an_order_once_and_versions_its_reports()
    {
        var groupId = StudyGroup.StreamId("tenant", "g");
        var orderId = Guid.CreateVersion7();
        var added = StudyGroup.AddOrder(null, groupId, "g", orderId, "1.2.3", Producer, T0)!;
        var group = StudyGroup.Create(added);
        Assert.Null(StudyGroup.AddOrder(group, groupId, "g", orderId, "1.2.3", Producer, T0));

        var first = group.DeliverReport(Guid.CreateVersion7(), "summary", Json, Producer, T0);
        group = group.Apply(first);
        var second = group.DeliverReport(Guid.CreateVersion7(), "summary", Json, Producer, T0);
        Assert.Equal((2, (Guid?)first.ReportId), (second.Version, second.Amends));
        Assert.NotEqual(StudyGroup.StreamId("other-tenant", "g"), groupId);
    }
}

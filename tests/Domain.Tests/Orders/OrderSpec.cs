using System.Collections.Immutable;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;

namespace EventSourced.Domain.Tests.Orders;

/// <summary>Given events, fold them the way the store does.</summary>
internal static class OrderSpec
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
    public static readonly Actor Clerk = new("clerk", "pacs-api");

    public static OrderDetails Details(string studyUid = "1.2.3", string? birthDate = null, string? sex = null) => new()
    {
        PatientId = "P1",
        PatientName = "DOE^JANE",
        StudyInstanceUid = studyUid,
        AccessionNumber = "A1",
        Modality = "CT",
        ScheduledStationAETitle = "CT1",
        ScheduledProcedureStepDescription = "Chest",
        ScheduledProcedureStepStartDate = "20261123",
        ScheduledProcedureStepStartTime = "0900",
        PatientBirthDate = birthDate,
        PatientSex = sex,
    };

    public static OrderCreated Created(Guid? id = null, OrderDetails? details = null) =>
        new(id ?? Guid.CreateVersion7(T0), details ?? Details(), ["PatientBirthDate", "PatientSex"], T0.AddMinutes(15), Clerk, T0);

    public static Order Given(OrderCreated created, params object[] events)
    {
        var order = Order.Create(created);
        foreach (var e in events)
        {
            order = e switch
            {
                OrderMetadataAdded added => order.Apply(added),
                OrderFailed failed => order.Apply(failed),
                OrderDeleted deleted => order.Apply(deleted),
                OrderImagesArrived arrived => order.Apply(arrived),
                OrderProcedureStepStarted started => order.Apply(started),
                OrderProcedureStepCompleted completed => order.Apply(completed),
                OrderProcedureStepCanceled canceled => order.Apply(canceled),
                OrderCancellationRequested requested => order.Apply(requested),
                _ => throw new ArgumentException($"Not an order event: {e.GetType().Name}"),
            };
        }

        return order;
    }

    public static OrderMetadataAdded Metadata(Guid orderId, string json) =>
        new(orderId, System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, System.Text.Json.JsonElement>>(json)!, Clerk, T0.AddMinutes(1));

    public static StudyOrderRegister Register(params object[] events)
    {
        StudyOrderRegister? register = null;
        foreach (var e in events)
        {
            register = (e, register) switch
            {
                (OrderBookedForStudy booked, null) => StudyOrderRegister.Create(booked),
                (OrderBookedForStudy booked, { } r) => r.Apply(booked),
                (StudyOrderReleased released, { } r) => r.Apply(released),
                (StudyImagesArrived arrived, null) => StudyOrderRegister.Create(arrived),
                (StudyImagesArrived arrived, { } r) => r.Apply(arrived),
                _ => throw new ArgumentException($"Not a register event here: {e.GetType().Name}"),
            };
        }

        return register ?? throw new ArgumentException("No events.");
    }
}

public sealed class MetadataDeadlineDecisionTests
{
    [Fact]
    public void An_order_still_lacking_metadata_at_its_deadline_fails_naming_what_is_missing()
    {
        var created = OrderSpec.Created();
        var order = OrderSpec.Given(created, OrderSpec.Metadata(created.OrderId, """{"PatientSex":"F"}"""));

        var failed = order.CheckMetadataDeadline(created.MetadataDueBy);

        Assert.NotNull(failed);
        Assert.Equal(OrderFailureReason.MetadataDeadlineExpired, failed.Reason);
        Assert.Equal(["PatientBirthDate"], failed.MissingMetadata);
        Assert.Equal(created.MetadataDueBy, failed.FailedAt);
        Assert.Equal("system", failed.FailedBy.Subject);
    }

    [Fact]
    public void An_order_whose_metadata_arrived_is_not_failed()
    {
        var created = OrderSpec.Created();
        var order = OrderSpec.Given(created, OrderSpec.Metadata(created.OrderId, """{"patientbirthdate":"19700101","PATIENTSEX":"M"}"""));

        Assert.Empty(order.MissingMetadata);
        Assert.Null(order.CheckMetadataDeadline(created.MetadataDueBy.AddMinutes(1)));
    }

    [Fact]
    public void Metadata_given_in_the_order_itself_counts()
    {
        var created = OrderSpec.Created(details: OrderSpec.Details(birthDate: "19700101", sex: "O"));
        Assert.Null(OrderSpec.Given(created).CheckMetadataDeadline(created.MetadataDueBy));
    }

    [Theory]
    [InlineData("""{"PatientBirthDate":null,"PatientSex":"F"}""")]
    [InlineData("""{"PatientBirthDate":"   ","PatientSex":"F"}""")]
    public void Null_and_blank_values_do_not_satisfy_a_requirement(string json)
    {
        var created = OrderSpec.Created();
        var order = OrderSpec.Given(created, OrderSpec.Metadata(created.OrderId, json));
        Assert.Equal(["PatientBirthDate"], order.MissingMetadata);
    }

    [Fact]
    public void An_already_failed_order_is_not_failed_again()
    {
        var created = OrderSpec.Created();
        var first = OrderSpec.Given(created).CheckMetadataDeadline(created.MetadataDueBy)!;
        Assert.Null(OrderSpec.Given(created, first).CheckMetadataDeadline(created.MetadataDueBy.AddSeconds(1)));
    }

    [Fact]
    public void A_deleted_order_is_not_failed()
    {
        var created = OrderSpec.Created();
        var order = OrderSpec.Given(created, new OrderDeleted(created.OrderId, OrderSpec.Clerk, OrderSpec.T0.AddMinutes(2)));
        Assert.Null(order.CheckMetadataDeadline(created.MetadataDueBy));
    }

    [Fact]
    public void A_check_that_arrives_before_the_deadline_decides_nothing()
    {
        var created = OrderSpec.Created();
        Assert.Null(OrderSpec.Given(created).CheckMetadataDeadline(created.MetadataDueBy.AddMilliseconds(-1)));
    }
}

public sealed class OrderCreationDecisionTests
{
    private static readonly Guid RegisterId = StudyOrderRegister.StreamId("t", "1.2.3");

    [Fact]
    public void The_first_order_of_a_study_is_created_booked_and_due_after_the_deadline()
    {
        var orderId = Guid.CreateVersion7();
        var (creation, rejected) = OrderDecisions.Create(null, RegisterId, orderId, OrderSpec.Details(), ["PatientSex"], TimeSpan.FromMinutes(15), OrderSpec.Clerk, OrderSpec.T0);

        Assert.Null(rejected);
        Assert.Equal(orderId, creation!.Created.OrderId);
        Assert.Equal(OrderSpec.T0.AddMinutes(15), creation.Created.MetadataDueBy);
        Assert.Equal(["PatientSex"], creation.Created.RequiredMetadata);
        Assert.Equal(new OrderBookedForStudy(RegisterId, "1.2.3", orderId, OrderSpec.T0), creation.Booked);
    }

    [Fact]
    public void A_study_with_an_active_order_rejects_a_second_one_as_a_conflict()
    {
        var active = Guid.CreateVersion7();
        var register = OrderSpec.Register(new OrderBookedForStudy(RegisterId, "1.2.3", active, OrderSpec.T0));

        var (creation, rejected) = OrderDecisions.Create(register, RegisterId, Guid.CreateVersion7(), OrderSpec.Details(), [], TimeSpan.FromMinutes(15), OrderSpec.Clerk, OrderSpec.T0);

        Assert.Null(creation);
        Assert.Equal(RejectionKind.Conflict, rejected!.Kind);
        Assert.Contains(active.ToString(), rejected.Detail);
    }

    [Theory]
    [InlineData(OrderStatus.Failed)]
    [InlineData(OrderStatus.Deleted)]
    public void A_study_whose_order_ended_takes_a_new_order(OrderStatus endedAs)
    {
        var old = Guid.CreateVersion7();
        var register = OrderSpec.Register(
            new OrderBookedForStudy(RegisterId, "1.2.3", old, OrderSpec.T0),
            new StudyOrderReleased(RegisterId, "1.2.3", old, endedAs, OrderSpec.T0.AddMinutes(15)));

        var (creation, rejected) = OrderDecisions.Create(register, RegisterId, Guid.CreateVersion7(), OrderSpec.Details(), [], TimeSpan.FromMinutes(15), OrderSpec.Clerk, OrderSpec.T0.AddHours(1));

        Assert.Null(rejected);
        Assert.NotNull(creation);
    }
}

public sealed class StudyOrderRegisterTests
{
    private static readonly Guid RegisterId = StudyOrderRegister.StreamId("t", "1.2.3");

    [Fact]
    public void The_current_order_is_the_active_one_else_the_most_recent_not_deleted()
    {
        Guid a = Guid.CreateVersion7(), b = Guid.CreateVersion7(), c = Guid.CreateVersion7();
        var register = OrderSpec.Register(
            new OrderBookedForStudy(RegisterId, "1.2.3", a, OrderSpec.T0),
            new StudyOrderReleased(RegisterId, "1.2.3", a, OrderStatus.Failed, OrderSpec.T0),
            new OrderBookedForStudy(RegisterId, "1.2.3", b, OrderSpec.T0),
            new StudyOrderReleased(RegisterId, "1.2.3", b, OrderStatus.Deleted, OrderSpec.T0));
        Assert.Null(register.ActiveOrderId);
        Assert.Equal(a, register.CurrentOrderId); // b was deleted; a failed but is still the study's order

        register = register.Apply(new OrderBookedForStudy(RegisterId, "1.2.3", c, OrderSpec.T0));
        Assert.Equal(c, register.CurrentOrderId);
    }

    [Fact]
    public void Releasing_an_order_the_register_does_not_hold_or_already_deleted_decides_nothing()
    {
        var a = Guid.CreateVersion7();
        var register = OrderSpec.Register(new OrderBookedForStudy(RegisterId, "1.2.3", a, OrderSpec.T0));
        Assert.Null(OrderDecisions.Release(register, Guid.CreateVersion7(), OrderStatus.Failed, OrderSpec.T0));
        Assert.Null(OrderDecisions.Release(null, a, OrderStatus.Failed, OrderSpec.T0));

        var deleted = register.Apply(OrderDecisions.Release(register, a, OrderStatus.Deleted, OrderSpec.T0)!);
        Assert.Null(OrderDecisions.Release(deleted, a, OrderStatus.Deleted, OrderSpec.T0));
    }

    [Fact]
    public void Register_streams_differ_by_tenant_for_the_same_StudyInstanceUID()
    {
        Assert.NotEqual(StudyOrderRegister.StreamId("a", "1.2.3"), StudyOrderRegister.StreamId("b", "1.2.3"));
        Assert.Equal(StudyOrderRegister.StreamId("a", "1.2.3"), StudyOrderRegister.StreamId("a", "1.2.3"));
        Assert.NotEqual(StudyOrderRegister.StreamId("a", "1.2.3"), StudyOrderRegister.StreamId("a.1", "2.3"));
    }
}

public sealed class OrderChangeDecisionTests
{
    [Fact]
    public void Metadata_can_be_added_to_a_scheduled_order_only()
    {
        var created = OrderSpec.Created();
        var metadata = OrderSpec.Metadata(created.OrderId, """{"PatientSex":"F"}""").Metadata;

        var (added, rejected) = OrderSpec.Given(created).AddMetadata(metadata, OrderSpec.Clerk, OrderSpec.T0);
        Assert.Null(rejected);
        Assert.Same(metadata, added!.Metadata);

        var failed = OrderSpec.Given(created).CheckMetadataDeadline(created.MetadataDueBy)!;
        var (none, conflict) = OrderSpec.Given(created, failed).AddMetadata(metadata, OrderSpec.Clerk, OrderSpec.T0);
        Assert.Null(none);
        Assert.Equal(RejectionKind.Conflict, conflict!.Kind);
    }

    [Fact]
    public void Empty_metadata_is_invalid()
    {
        var (added, rejected) = OrderSpec.Given(OrderSpec.Created()).AddMetadata(new Dictionary<string, System.Text.Json.JsonElement>(), OrderSpec.Clerk, OrderSpec.T0);
        Assert.Null(added);
        Assert.Equal(RejectionKind.Invalid, rejected!.Kind);
    }

    [Fact]
    public void A_failed_order_can_be_deleted_but_a_deleted_one_not_again()
    {
        var created = OrderSpec.Created();
        var failed = OrderSpec.Given(created).CheckMetadataDeadline(created.MetadataDueBy)!;
        var (deleted, _) = OrderSpec.Given(created, failed).Delete(OrderSpec.Clerk, OrderSpec.T0.AddHours(1));
        Assert.NotNull(deleted);

        var (again, rejected) = OrderSpec.Given(created, failed, deleted).Delete(OrderSpec.Clerk, OrderSpec.T0.AddHours(2));
        Assert.Null(again);
        Assert.Equal(RejectionKind.NotFound, rejected!.Kind);
    }
}

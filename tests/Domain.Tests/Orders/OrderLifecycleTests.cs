using System.Text.Json;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;

namespace EventSourced.Domain.Tests.Orders;

/// <summary>The order's states, derived only from its events (docs/architecture.md, "The order's life as a process").</summary>
public sealed class OrderLifecycleTests
{
    private static readonly Actor Modality = new("modality", "stow-rs");

    private static OrderImagesArrived Images(Guid orderId, params string[] headerNames) =>
        new(orderId, "1.2.3", ["1.2.3.4.5"], headerNames, Modality, OrderSpec.T0.AddMinutes(2));

    [Theory]
    [InlineData(false, false, false, false, false, false, OrderStatus.Scheduled)]
    [InlineData(false, true, false, false, false, false, OrderStatus.Scheduled)]
    [InlineData(true, false, false, false, false, false, OrderStatus.ImagesArriving)]
    [InlineData(true, true, false, false, false, false, OrderStatus.ReadyForProcessing)]
    [InlineData(true, true, true, false, false, false, OrderStatus.ReportAvailable)]
    [InlineData(false, false, true, false, false, false, OrderStatus.ReportAvailable)]
    [InlineData(true, true, true, true, false, false, OrderStatus.Completed)]
    [InlineData(true, false, false, false, true, false, OrderStatus.Failed)]
    [InlineData(true, true, true, true, true, true, OrderStatus.Deleted)]
    [InlineData(false, false, false, false, true, true, OrderStatus.Deleted)]
    public void The_status_is_a_pure_function_of_the_facts(
        bool images, bool metadata, bool report, bool completed, bool failed, bool deleted, OrderStatus expected) =>
        Assert.Equal(expected, OrderProgress.Derive(new OrderProgress(images, metadata, report, completed, failed, deleted)));

    [Fact]
    public void Images_without_the_required_metadata_are_arriving_and_the_metadata_makes_the_order_ready()
    {
        var created = OrderSpec.Created();
        var order = OrderSpec.Given(created, Images(created.OrderId));
        Assert.Equal(OrderStatus.ImagesArriving, order.Status);

        order = order.Apply(OrderSpec.Metadata(created.OrderId, """{"PatientBirthDate":"19700101","PatientSex":"F"}"""));
        Assert.Equal(OrderStatus.ReadyForProcessing, order.Status);
    }

    [Fact]
    public void Metadata_in_the_headers_of_stored_instances_satisfies_the_requirement()
    {
        var created = OrderSpec.Created();
        var order = OrderSpec.Given(created, Images(created.OrderId, "PatientBirthDate", "PatientSex"));

        Assert.Equal(OrderStatus.ReadyForProcessing, order.Status);
        Assert.Empty(order.MissingMetadata);
        Assert.Null(order.CheckMetadataDeadline(created.MetadataDueBy.AddMinutes(1)));
    }

    [Fact]
    public void Metadata_first_then_images_is_ready_and_metadata_alone_stays_scheduled()
    {
        var created = OrderSpec.Created();
        var order = OrderSpec.Given(created, OrderSpec.Metadata(created.OrderId, """{"PatientBirthDate":"19700101","PatientSex":"F"}"""));
        Assert.Equal(OrderStatus.Scheduled, order.Status);
        Assert.Equal(OrderStatus.ReadyForProcessing, order.Apply(Images(created.OrderId)).Status);
    }

    [Fact]
    public void An_order_with_images_but_still_missing_metadata_fails_at_the_deadline()
    {
        var created = OrderSpec.Created();
        var order = OrderSpec.Given(created, Images(created.OrderId, "PatientSex"));

        var failed = order.CheckMetadataDeadline(created.MetadataDueBy);

        Assert.NotNull(failed);
        Assert.Equal(["PatientBirthDate"], failed.MissingMetadata);
        Assert.Equal(OrderStatus.Failed, order.Apply(failed).Status);
    }

    [Fact]
    public void A_report_or_completion_reached_through_the_facts_hooks()
    {
        var created = OrderSpec.Created(details: OrderSpec.Details(birthDate: "19700101", sex: "F"));
        var order = OrderSpec.Given(created, Images(created.OrderId));
        Assert.Equal(OrderStatus.ReportAvailable, order.MarkReportAvailable().Status);
        Assert.Equal(OrderStatus.Completed, order.MarkReportAvailable().MarkCompleted().Status);
        Assert.Null(order.MarkReportAvailable().CheckMetadataDeadline(created.MetadataDueBy));
    }

    [Theory]
    [InlineData(OrderStatus.Failed)]
    [InlineData(OrderStatus.Deleted)]
    [InlineData(OrderStatus.Completed)]
    public void An_ended_order_records_no_images(OrderStatus ending)
    {
        var created = OrderSpec.Created();
        object end = ending switch
        {
            OrderStatus.Failed => new OrderFailed(created.OrderId, OrderFailureReason.MetadataDeadlineExpired, "x", [], Actor.System("t"), OrderSpec.T0),
            OrderStatus.Deleted => new OrderDeleted(created.OrderId, OrderSpec.Clerk, OrderSpec.T0),
            _ => new OrderProcedureStepCompleted(created.OrderId, OrderSpec.Clerk, OrderSpec.T0),
        };
        var order = OrderSpec.Given(created, end);

        Assert.Equal(ending, order.Status);
        Assert.Null(order.RecordImages(["1.2.3.4"], [], Modality, OrderSpec.T0));
    }

    [Fact]
    public void An_order_created_for_a_study_already_holding_images_starts_from_them()
    {
        var registerId = Guid.NewGuid();
        var register = OrderSpec.Register(new StudyImagesArrived(registerId, "1.2.3", ["PatientBirthDate", "PatientSex"], OrderSpec.T0));
        Assert.Null(register.ActiveOrderId);

        var (creation, rejected) = OrderDecisions.Create(register, registerId, Guid.CreateVersion7(), OrderSpec.Details(), ["PatientBirthDate", "PatientSex"],
            TimeSpan.FromMinutes(15), OrderSpec.Clerk, OrderSpec.T0);

        Assert.Null(rejected);
        var images = Assert.IsType<OrderImagesArrived>(creation!.ImagesAlreadyStored);
        Assert.Empty(images.SopInstanceUids);
        Assert.Equal(OrderStatus.ReadyForProcessing, Order.Create(creation.Created).Apply(images).Status);
    }

    [Fact]
    public void The_register_notes_images_only_when_it_learns_something()
    {
        var registerId = Guid.NewGuid();
        var first = StudyOrderRegister.NoteImages(null, registerId, "1.2.3", ["PatientSex"], OrderSpec.T0);
        Assert.NotNull(first);
        var register = StudyOrderRegister.Create(first);

        Assert.Null(StudyOrderRegister.NoteImages(register, registerId, "1.2.3", ["PatientSex"], OrderSpec.T0));
        var more = StudyOrderRegister.NoteImages(register, registerId, "1.2.3", ["PatientBirthDate", "PatientSex"], OrderSpec.T0);
        Assert.Equal(["PatientBirthDate", "PatientSex"], more!.MetadataInHeaders);
    }

    [Fact]
    public void Header_metadata_names_are_read_from_DICOM_JSON_values_only()
    {
        var header = JsonSerializer.Deserialize<JsonElement>("""
            {
              "00100030": {"vr": "DA", "Value": ["19700101"]},
              "00100040": {"vr": "CS"},
              "00100010": {"vr": "PN", "Value": [{"Alphabetic": "DOE^JANE"}]},
              "00101030": {"vr": "DS", "Value": [71.5]},
              "00080050": {"vr": "SH", "Value": [""]}
            }
            """);

        Assert.Equal(["PatientBirthDate", "PatientName", "PatientWeight"], HeaderMetadata.PresentIn(header));
    }

    [Fact]
    public void A_chosen_workitem_UID_is_claimed_once_per_tenant()
    {
        var claimId = OrderDecisions.WorkitemUidStreamId("t1", "1.2.3.99");
        Assert.NotEqual(claimId, OrderDecisions.WorkitemUidStreamId("t2", "1.2.3.99"));
        var (claimed, _) = OrderDecisions.ClaimWorkitemUid(false, claimId, "1.2.3.99", Guid.Empty, OrderSpec.T0);
        Assert.Equal(claimId, claimed!.ClaimId);
        var (_, rejected) = OrderDecisions.ClaimWorkitemUid(true, claimId, "1.2.3.99", Guid.Empty, OrderSpec.T0);
        Assert.Equal(RejectionKind.Conflict, rejected!.Kind);
    }

    [Fact]
    public void The_default_workitem_UID_is_the_order_id_as_a_UUID_derived_UID()
    {
        var id = new Guid("00000000-0000-0000-0000-000000000101");
        Assert.Equal("2.25.257", Order.DefaultWorkitemUid(id));
        var created = OrderSpec.Created();
        Assert.Equal(Order.DefaultWorkitemUid(created.OrderId), Order.Create(created).WorkitemUid);
        Assert.Equal("1.2.3.99", Order.Create(created with { WorkitemUid = "1.2.3.99" }).WorkitemUid);
    }
}

/// <summary>The UPS state machine of PS3.4 CC.2.1 on an order.</summary>
public sealed class ProcedureStepTests
{
    private const string Tx = "1.2.3.777";
    private static readonly Actor Performer = new("performer", "ups-rs");

    private static Order Scheduled() => Order.Create(OrderSpec.Created());

    private static Order InProgress()
    {
        var order = Scheduled();
        var started = ProcedureStep.ChangeState(order, ProcedureStepState.InProgress, Tx, Performer, OrderSpec.T0);
        return order.Apply(Assert.IsType<OrderProcedureStepStarted>(started.Event));
    }

    [Fact]
    public void Scheduled_to_in_progress_takes_the_transaction_UID_and_completion_requires_it()
    {
        var order = InProgress();
        Assert.Equal(ProcedureStepState.InProgress, order.ProcedureStepState);
        Assert.Equal(Tx, order.TransactionUid);

        var wrong = ProcedureStep.ChangeState(order, ProcedureStepState.Completed, "9.9.9", Performer, OrderSpec.T0);
        Assert.Equal("C301", wrong.Status);
        Assert.Equal(RejectionKind.Conflict, wrong.Rejected!.Kind);
        Assert.Null(wrong.Event);

        var done = ProcedureStep.ChangeState(order, ProcedureStepState.Completed, Tx, Performer, OrderSpec.T0);
        order = order.Apply(Assert.IsType<OrderProcedureStepCompleted>(done.Event));
        Assert.Equal(ProcedureStepState.Completed, order.ProcedureStepState);
        Assert.Equal(OrderStatus.Completed, order.Status);
    }

    [Fact]
    public void The_rules_and_their_statuses()
    {
        Assert.Equal("C303", ProcedureStep.ChangeState(Scheduled(), ProcedureStepState.Scheduled, Tx, Performer, OrderSpec.T0).Status);
        Assert.Equal("C301", ProcedureStep.ChangeState(Scheduled(), ProcedureStepState.InProgress, null, Performer, OrderSpec.T0).Status);
        Assert.Equal(RejectionKind.Invalid, ProcedureStep.ChangeState(Scheduled(), ProcedureStepState.InProgress, null, Performer, OrderSpec.T0).Rejected!.Kind);
        Assert.Equal("C310", ProcedureStep.ChangeState(Scheduled(), ProcedureStepState.Completed, Tx, Performer, OrderSpec.T0).Status);
        Assert.Equal("C310", ProcedureStep.ChangeState(Scheduled(), ProcedureStepState.Canceled, Tx, Performer, OrderSpec.T0).Status);
        Assert.Equal("C302", ProcedureStep.ChangeState(InProgress(), ProcedureStepState.InProgress, Tx, Performer, OrderSpec.T0).Status);

        var completed = InProgress().Apply(new OrderProcedureStepCompleted(Guid.Empty, Performer, OrderSpec.T0));
        var again = ProcedureStep.ChangeState(completed, ProcedureStepState.Completed, Tx, Performer, OrderSpec.T0);
        Assert.True(again.IsWarning);
        Assert.Equal("B306", again.Status);
        Assert.Equal("C300", ProcedureStep.ChangeState(completed, ProcedureStepState.Canceled, Tx, Performer, OrderSpec.T0).Status);
        Assert.Equal("C312", ProcedureStep.RequestCancellation(completed, null, Performer, OrderSpec.T0).Status);
    }

    [Fact]
    public void The_performer_cancels_with_its_transaction_UID_and_the_order_fails()
    {
        var canceled = ProcedureStep.ChangeState(InProgress(), ProcedureStepState.Canceled, Tx, Performer, OrderSpec.T0);
        var order = InProgress().Apply(Assert.IsType<OrderProcedureStepCanceled>(canceled.Event));
        Assert.Equal(ProcedureStepState.Canceled, order.ProcedureStepState);
        Assert.Equal(OrderStatus.Failed, order.Status);
        Assert.Equal("B304", ProcedureStep.ChangeState(order, ProcedureStepState.Canceled, Tx, Performer, OrderSpec.T0).Status);
        Assert.Equal("B304", ProcedureStep.RequestCancellation(order, null, Performer, OrderSpec.T0).Status);
    }

    [Fact]
    public void A_cancellation_request_cancels_a_scheduled_step_and_is_recorded_for_one_in_progress()
    {
        Assert.IsType<OrderProcedureStepCanceled>(ProcedureStep.RequestCancellation(Scheduled(), "patient left", Performer, OrderSpec.T0).Event);

        var requested = ProcedureStep.RequestCancellation(InProgress(), "patient left", Performer, OrderSpec.T0);
        var order = InProgress().Apply(Assert.IsType<OrderCancellationRequested>(requested.Event));
        Assert.Equal(ProcedureStepState.InProgress, order.ProcedureStepState);
        Assert.True(order.CancellationRequested);
    }

    [Fact]
    public void A_failed_order_is_a_canceled_step()
    {
        var created = OrderSpec.Created();
        var order = OrderSpec.Given(created, new OrderFailed(created.OrderId, OrderFailureReason.MetadataDeadlineExpired, "x", [], Actor.System("t"), OrderSpec.T0));
        Assert.Equal(ProcedureStepState.Canceled, order.ProcedureStepState);
        Assert.Equal("C300", ProcedureStep.ChangeState(order, ProcedureStepState.InProgress, Tx, Performer, OrderSpec.T0).Status);
    }
}

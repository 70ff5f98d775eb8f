using EventSourced.Application.Common;
using EventSourced.Application.Orders.CheckingMetadataDeadline;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using FluentValidation;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

namespace EventSourced.Application.Orders.CreatingOrder;

/// <summary>
/// Create an order, from any dialect that takes one (document e's orders, document c's workitems,
/// UPS-RS): the dialect maps its body onto <see cref="OrderDetails"/> and its answer from the result.
/// </summary>
/// <param name="WorkitemUid">The UPS SOP Instance UID a UPS-RS client asked for; null: the order's default.</param>
public sealed record CreateOrder(OrderDetails Details, Actor By, string? WorkitemUid = null)
{
    /// <summary>Fields the dialect could not read into <see cref="Details"/> (e.g. a JSON object where a string belongs): reported with the validation's.</summary>
    public IReadOnlyList<FieldError> UnreadableFields { get; init; } = [];
}

public sealed record OrderCreatedResponse(Guid OrderId, string StudyInstanceUid, DateTimeOffset MetadataDueBy, IReadOnlyList<string> MissingMetadata)
{
    /// <summary>The new order's UPS SOP Instance UID (not part of the PACS dialect's body).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string WorkitemUid { get; init; } = "";
}

/// <summary>
/// The PACS order API's field rules (document e, "Create Order API"): the nine mandatory fields, and
/// the DICOM value representation of every field (PS3.6 for the VRs). Property names in messages are
/// the document's JSON names, so a 400 names the field the client sent.
/// </summary>
public sealed class OrderDetailsValidator : AbstractValidator<OrderDetails>
{
    public OrderDetailsValidator()
    {
        // A missing field gets one message, not also a syntax complaint about its empty value.
        RuleLevelCascadeMode = CascadeMode.Stop;

        RuleFor(x => x.PatientId).NotEmpty().LongString().OverridePropertyName("PatientID").WithName("PatientID");
        RuleFor(x => x.PatientName).NotEmpty().PersonName().OverridePropertyName("PatientName").WithName("PatientName");
        RuleFor(x => x.StudyInstanceUid).NotEmpty().Uid().OverridePropertyName("StudyInstanceUID").WithName("StudyInstanceUID");
        RuleFor(x => x.AccessionNumber).NotEmpty().ShortString().OverridePropertyName("AccessionNumber").WithName("AccessionNumber");
        RuleFor(x => x.Modality).NotEmpty().CodeString().OverridePropertyName("Modality").WithName("Modality");
        RuleFor(x => x.ScheduledStationAETitle).NotEmpty().ApplicationEntity().OverridePropertyName("ScheduledStationAETitle").WithName("ScheduledStationAETitle");
        RuleFor(x => x.ScheduledProcedureStepDescription).NotEmpty().LongString().OverridePropertyName("ScheduledProcedureStepDescription").WithName("ScheduledProcedureStepDescription");
        RuleFor(x => x.ScheduledProcedureStepStartDate).NotEmpty().Date().OverridePropertyName("ScheduledProcedureStepStartDate").WithName("ScheduledProcedureStepStartDate");
        RuleFor(x => x.ScheduledProcedureStepStartTime).NotEmpty().Time().OverridePropertyName("ScheduledProcedureStepStartTime").WithName("ScheduledProcedureStepStartTime");

        Optional(x => x.ScheduledPerformingPhysiciansName, "ScheduledPerformingPhysiciansName", r => r.PersonName());
        Optional(x => x.ScheduledProcedureStepId, "ScheduledProcedureStepID", r => r.ShortString());
        Optional(x => x.RequestedProcedureDescription, "RequestedProcedureDescription", r => r.LongString());
        Optional(x => x.RequestedProcedureId, "RequestedProcedureID", r => r.ShortString());
        Optional(x => x.RequestingPhysician, "RequestingPhysician", r => r.PersonName());
        Optional(x => x.ReferringPhysicianName, "ReferringPhysicianName", r => r.PersonName());
        Optional(x => x.AdmissionId, "AdmissionID", r => r.LongString());
        Optional(x => x.CurrentPatientLocation, "CurrentPatientLocation", r => r.LongString());
        Optional(x => x.PatientBirthDate, "PatientBirthDate", r => r.Date());
        Optional(x => x.PatientSex, "PatientSex", r => r.Must(v => v is "M" or "F" or "O")
            .WithMessage("'PatientSex' must be M, F or O (PS3.3 C.7.1.1)."));
        Optional(x => x.ConfidentialityConstraintOnPatientDataDescription, "ConfidentialityConstraintOnPatientDataDescription", r => r.LongString());
        Optional(x => x.PatientState, "PatientState", r => r.LongString());
        // DICOM's Pregnancy Status (0010,21C0) is US, but the document's example sends free text: kept as LO.
        Optional(x => x.PregnancyStatus, "PregnancyStatus", r => r.LongString());
        Optional(x => x.MedicalAlerts, "MedicalAlerts", r => r.LongString());
        Optional(x => x.PlacerOrderNumberImagingServiceRequest, "PlacerOrderNumberImagingServiceRequest", r => r.LongString());
        Optional(x => x.ServiceEpisodeId, "ServiceEpisodeID", r => r.LongString());
        Optional(x => x.ScheduledStationName, "ScheduledStationName", r => r.ShortString());
    }

    /// <summary>An optional field is checked only when present: an empty string counts as absent (DICOM type 2/3).</summary>
    private void Optional(
        System.Linq.Expressions.Expression<Func<OrderDetails, string?>> field,
        string name,
        Func<IRuleBuilder<OrderDetails, string?>, IRuleBuilderOptions<OrderDetails, string?>> rule)
    {
        var value = field.Compile();
        rule(RuleFor(field)).OverridePropertyName(name).WithName(name).When(x => !string.IsNullOrEmpty(value(x)));
    }
}

public static class CreateOrderHandler
{
    private static readonly OrderDetailsValidator Validator = new();

    public static async Task<(CommandResult<OrderCreatedResponse>, OutgoingMessages)> Handle(
        CreateOrder command,
        IDocumentSession session,
        IOptions<OrderOptions> options,
        TimeProvider clock,
        CancellationToken cancellation)
    {
        // The fields first: an invalid command appends nothing and names every bad field at once.
        var errors = command.UnreadableFields
            .Concat((await Validator.ValidateAsync(command.Details, cancellation)).Errors.Select(e => new FieldError(e.PropertyName, e.ErrorMessage)))
            .ToList();
        if (errors.Count > 0)
        {
            return (CommandResult<OrderCreatedResponse>.InvalidFields(errors), []);
        }

        var details = command.Details;
        var now = clock.GetUtcNow();
        var orderId = Guid.CreateVersion7(now);

        // A workitem UID the client chose is checked before the study's register: a taken UID is the conflict it hears first.
        (Guid Id, WorkitemUidClaimed Event)? claim = null;
        if (command.WorkitemUid is { } workitemUid)
        {
            var claimId = OrderDecisions.WorkitemUidStreamId(session.TenantId, workitemUid);
            var claimedBefore = await session.Events.FetchStreamStateAsync(claimId, cancellation) is not null;
            var (claimed, taken) = OrderDecisions.ClaimWorkitemUid(claimedBefore, claimId, workitemUid, orderId, now);
            if (claimed is null)
            {
                return (CommandResult<OrderCreatedResponse>.Reject(taken!), []);
            }

            claim = (claimId, claimed);
        }

        var registerId = StudyOrderRegister.StreamId(session.TenantId, details.StudyInstanceUid);
        var register = await session.Events.FetchForWriting<StudyOrderRegister>(registerId, cancellation);
        var (creation, rejected) = OrderDecisions.Create(
            register.Aggregate,
            registerId,
            orderId,
            details,
            options.Value.RequiredMetadataNames,
            options.Value.MetadataDeadline,
            command.By,
            now,
            command.WorkitemUid);

        if (creation is null)
        {
            return (CommandResult<OrderCreatedResponse>.Reject(rejected!), []);
        }

        if (claim is { } c)
        {
            session.Events.StartStream(c.Id, c.Event);
        }

        register.AppendOne(creation.Booked);
        var order = Order.Create(creation.Created);
        if (creation.ImagesAlreadyStored is { } images)
        {
            // The study's instances came first (e.g. a modality sent before the RIS ordered): the order starts from them.
            session.Events.StartStream<Order>(creation.Created.OrderId, creation.Created, images);
            order = order.Apply(images);
        }
        else
        {
            session.Events.StartStream<Order>(creation.Created.OrderId, creation.Created);
        }

        var response = new OrderCreatedResponse(order.Id, order.StudyInstanceUid, order.MetadataDueBy, order.MissingMetadata)
        {
            WorkitemUid = order.WorkitemUid,
        };

        // Durable: the outbox stores the scheduled check in the same transaction as the events, so it
        // survives a restart and is never scheduled for an order that was not committed.
        var messages = new OutgoingMessages();
        if (order.MissingMetadata.Count > 0)
        {
            messages.Add(new CheckOrderMetadataDeadline(order.Id).ScheduledAt(order.MetadataDueBy));
        }

        return (CommandResult<OrderCreatedResponse>.Ok(response), messages);
    }
}

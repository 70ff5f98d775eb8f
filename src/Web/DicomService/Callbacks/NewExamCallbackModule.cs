using System.Security.Claims;
using System.Text.Json;
using Carter;
using EventSourced.Application.Callbacks;
using EventSourced.Domain.Access;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Access;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;
using Wolverine.Persistence.Durability;
using Wolverine.Persistence.Durability.DeadLetterManagement;
using Wolverine.Runtime;

namespace EventSourced.Web.DicomService.Callbacks;

/// <summary>
/// Document c, "Callbacks": <c>POST /new-exam-callback</c> (204), the received callbacks' collection
/// (<c>GET /admin/callbacks</c>) and the deliveries that exhausted their retries
/// (<c>GET /admin/callbacks/dead-letters</c>). Choices: docs/api-compatibility.md, "Document c — new-exam callback".
/// </summary>
public sealed class NewExamCallbackModule : ICarterModule
{
    /// <summary>Fields a callback must carry (non-empty): what happened, to which study, of which patient, reported by whom.</summary>
    public static readonly string[] RequiredFields = ["SourceID", "StudyInstanceUID", "PatientID", "EventType"];

    private static readonly string[] StringFields =
    [
        "SourceID", "StudyInstanceUID", "AccessionNumber", "PatientID", "EventType", "StudyDate", "StudyTime", "StudyID",
        "ReferringPhysicianName", "StudyDescription", "PatientName", "PatientBirthDate", "PatientSex",
    ];

    private static readonly string[] IntegerFields = ["NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"];

    private static readonly string[] ListFields = ["ModalitiesInStudy", "AeTitles", "StationNames"];

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapPost("/new-exam-callback", Receive)
            .WithTags("DICOM service: callbacks")
            .WithName("NewExamCallback")
            .RequireAuthorization(Scopes.StudiesWrite)
            .Produces(StatusCodes.Status204NoContent)
            .ProducesValidationProblem();

        var admin = app.MapGroup("/admin/callbacks").WithTags("Administration: callbacks").RequireAuthorization(Scopes.Admin);
        admin.MapGet("", List).WithName("ListReceivedCallbacks");
        admin.MapGet("/dead-letters", DeadLetters).WithName("ListCallbackDeadLetters");
    }

    private static async Task<IResult> Receive(
        HttpRequest request, ClaimsPrincipal user, IMessageBus bus, IOptions<CallbackOptions> options, CancellationToken cancellation)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation);
        if (document is null)
        {
            return error!;
        }

        using (document)
        {
            var (notification, errors) = Map(document.RootElement);
            if (notification is null)
            {
                return Problems.Validation(errors);
            }

            await bus.InvokeForCallerAsync<Guid>(user, new ReceiveNewExamCallback(notification, options.Value.UrlList, user.Actor("dicom-service")), cancellation);
            return TypedResults.NoContent();
        }
    }

    internal static (NewExamNotification? Notification, List<(string Field, string Message)> Errors) Map(JsonElement body)
    {
        var errors = new List<(string, string)>();
        var fields = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in body.EnumerateObject())
        {
            fields[property.Name] = property.Value;
        }

        string? Text(string name)
        {
            if (!fields.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.Number)
            {
                return value.GetRawText();
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                errors.Add((name, $"{name} is a string."));
                return null;
            }

            var text = value.GetString()!;
            if (text.Length > 1024)
            {
                errors.Add((name, $"{name} is at most 1024 characters."));
            }

            return string.IsNullOrWhiteSpace(text) ? null : text;
        }

        int? Integer(string name)
        {
            if (!fields.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= 0)
            {
                return number;
            }

            if (value.ValueKind == JsonValueKind.String && int.TryParse(value.GetString(), System.Globalization.CultureInfo.InvariantCulture, out var parsed) && parsed >= 0)
            {
                return parsed;
            }

            errors.Add((name, $"{name} is a non-negative integer."));
            return null;
        }

        IReadOnlyList<string>? List(string name)
        {
            if (!fields.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.String)
            {
                return [value.GetString()!];
            }

            if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() <= 1000 && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String))
            {
                return [.. value.EnumerateArray().Select(v => v.GetString()!)];
            }

            errors.Add((name, $"{name} is an array of strings."));
            return null;
        }

        var texts = StringFields.ToDictionary(f => f, Text);
        var integers = IntegerFields.ToDictionary(f => f, Integer);
        var lists = ListFields.ToDictionary(f => f, List);
        foreach (var required in RequiredFields.Where(f => texts[f] is null && !errors.Any(e => e.Item1 == f)))
        {
            errors.Add((required, $"{required} is required."));
        }

        if (texts["StudyInstanceUID"] is { } uid && !Dicom.DicomUid.IsValid(uid))
        {
            errors.Add(("StudyInstanceUID", $"'{uid}' is not a valid UID."));
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        return (new NewExamNotification
        {
            SourceID = texts["SourceID"],
            StudyInstanceUID = texts["StudyInstanceUID"]!,
            AccessionNumber = texts["AccessionNumber"],
            PatientID = texts["PatientID"],
            NumberOfStudyRelatedSeries = integers["NumberOfStudyRelatedSeries"],
            NumberOfStudyRelatedInstances = integers["NumberOfStudyRelatedInstances"],
            ModalitiesInStudy = lists["ModalitiesInStudy"],
            AeTitles = lists["AeTitles"],
            StationNames = lists["StationNames"],
            EventType = texts["EventType"],
            StudyDate = texts["StudyDate"],
            StudyTime = texts["StudyTime"],
            StudyID = texts["StudyID"],
            ReferringPhysicianName = texts["ReferringPhysicianName"],
            StudyDescription = texts["StudyDescription"],
            PatientName = texts["PatientName"],
            PatientBirthDate = texts["PatientBirthDate"],
            PatientSex = texts["PatientSex"],
        }, errors);
    }

    /// <summary>Newest first; <c>?studyUID=</c> filters; <c>limit</c> (≤ 200, default 50) and <c>offset</c> page.</summary>
    private static async Task<IResult> List(
        ClaimsPrincipal user, IDocumentStore store, string? studyUID, int? limit, int? offset, CancellationToken cancellation)
    {
        var take = Math.Clamp(limit ?? 50, 1, 200);
        var skip = Math.Max(offset ?? 0, 0);
        await using var session = store.QuerySessionForCaller(user);
        IQueryable<ReceivedCallback> query = session.Query<ReceivedCallback>();
        if (!string.IsNullOrEmpty(studyUID))
        {
            query = query.Where(c => c.StudyInstanceUid == studyUID);
        }

        var page = await query.OrderByDescending(c => c.ReceivedAt).ThenByDescending(c => c.Id).Skip(skip).Take(take).ToListAsync(cancellation);
        return TypedResults.Ok(page.Select(c => new
        {
            id = c.Id,
            receivedAt = c.ReceivedAt,
            receivedBy = c.ReceivedBy.Subject,
            forwardTo = c.ForwardTo,
            callback = JsonSerializer.SerializeToElement(c.Notification), // the document's field names, as received
        }));
    }

    /// <summary>The caller's tenant's deliveries that exhausted their attempts (Wolverine's dead-letter storage), newest first.</summary>
    private static async Task<IResult> DeadLetters(ClaimsPrincipal user, IWolverineRuntime runtime, CancellationToken cancellation)
    {
        var tenant = user.TenantId();
        var results = await runtime.Storage.DeadLetters.QueryAsync(new DeadLetterEnvelopeQuery { PageSize = 500 }, cancellation);
        var letters = new List<(DeadLetterEnvelope Letter, ForwardNewExamCallback Message)>();
        foreach (var letter in results.Envelopes)
        {
            if (MessageOf(letter) is { } message && message.TenantId == tenant)
            {
                letters.Add((letter, message));
            }
        }

        return TypedResults.Ok(letters.OrderByDescending(l => l.Letter.FailedAt ?? l.Letter.SentAt).Select(l => new
        {
            id = l.Letter.Id,
            callbackId = l.Message.CallbackId,
            url = l.Message.Url,
            studyInstanceUid = l.Message.Notification.StudyInstanceUID,
            failedAt = l.Letter.FailedAt ?? l.Letter.SentAt,
            exceptionType = l.Letter.ExceptionType,
            exceptionMessage = l.Letter.ExceptionMessage,
        }));
    }

    private static readonly JsonSerializerOptions EnvelopeJson = new(JsonSerializerDefaults.Web);

    private static ForwardNewExamCallback? MessageOf(DeadLetterEnvelope letter)
    {
        if (letter.Message is ForwardNewExamCallback message)
        {
            return message;
        }

        if (letter.Envelope?.Message is ForwardNewExamCallback inEnvelope)
        {
            return inEnvelope;
        }

        // Stored as the envelope's serialized body (System.Text.Json, Wolverine's default).
        if (letter.MessageType?.Contains(nameof(ForwardNewExamCallback), StringComparison.Ordinal) == true && letter.Envelope?.Data is { Length: > 0 } data)
        {
            try
            {
                return JsonSerializer.Deserialize<ForwardNewExamCallback>(data, EnvelopeJson);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        return null;
    }
}

using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Xml;
using Carter;
using EventSourced.Application.Archive.RecordingResults;
using EventSourced.Application.Archive.SubmittingForms;
using EventSourced.Application.Blobs;
using EventSourced.Application.Common;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Archive;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using EventSourced.Web.Shared.Errors;
using EventSourced.Web.Shared.Zip;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

namespace EventSourced.Web.Archive;

/// <summary>A scalar result as document d shows it.</summary>
public sealed record ArchiveScalarResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("algorithm")] string Algorithm,
    [property: JsonPropertyName("value")] JsonElement Value);

/// <summary>One reporting as document d lists it.</summary>
public sealed record ArchiveFormEntryResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("entry")] JsonElement Entry,
    [property: JsonPropertyName("entry_formatted")] string EntryFormatted,
    [property: JsonPropertyName("user")] string User,
    [property: JsonPropertyName("series")] string Series,
    [property: JsonPropertyName("form")] string Form);

/// <summary>
/// Document d, result and reporting commands: <c>series/results</c>, <c>patient/study/series/forms/list</c>
/// and <c>…/forms/add</c>, plus our producer route <c>POST /admin/archive/series/results</c> (scope
/// reports.write) through which the algorithm pipeline records results. Results and form submissions are
/// events on the study stream.
/// </summary>
public sealed class ArchiveResultsModule : ICarterModule
{
    private static readonly string[] SeriesKeys = ["Project", "Archive", "PatientID", "StudyInstanceUID", "SeriesInstanceUID"];

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapGet(ArchiveRoutes.SeriesResults, GetResults).WithTags("Archive API v1").WithName("ArchiveGetSeriesResults")
            .RequireAuthorization(Scopes.Archive.SeriesResults);
        app.MapMethodNotAllowed(ArchiveRoutes.SeriesResults, "GET");
        app.MapGet(ArchiveRoutes.FormsList, ListForms).WithTags("Archive API v1").WithName("ArchiveListForms")
            .RequireAuthorization(Scopes.Archive.ListForms);
        app.MapMethodNotAllowed(ArchiveRoutes.FormsList, "GET");
        app.MapPost(ArchiveRoutes.FormsAdd, AddForm).WithTags("Archive API v1").WithName("ArchiveAddFormSubmission")
            .RequireAuthorization(Scopes.Archive.AddFormSubmission).DisableAntiforgery();
        app.MapMethodNotAllowed(ArchiveRoutes.FormsAdd, "POST");

        app.MapPost("/admin/archive/series/results", RecordResult).WithTags("Archive API v1: producers").WithName("ArchiveRecordSeriesResult")
            .RequireAuthorization(Scopes.ReportsWrite).DisableAntiforgery();
    }

    private static async Task<IResult> GetResults(HttpContext context, IBlobStore blobs, CancellationToken cancellation)
    {
        if (!ArchiveParameters.TryRead(context.Request, [.. SeriesKeys, "Type", "Results"], out var p, out var error))
        {
            return error!;
        }

        var type = p["Type"].ToLowerInvariant();
        var names = p["Results"].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
        var reader = ArchiveQueryModule.Reader(context);
        var series = await reader.SeriesAsync(p["Project"], p["Archive"], p["PatientID"], p["StudyInstanceUID"], p["SeriesInstanceUID"], cancellation);
        if (series is null)
        {
            // The document lists only result_not_found for this call: an unknown series has no results.
            return ArchiveErrors.Error(ArchiveErrors.ObjectNotFound, "result_not_found", $"No series '{p["SeriesInstanceUID"]}' of this study in this project's archive.");
        }

        if (!ArchiveResultTypes.All.Contains(type))
        {
            return ArchiveErrors.Error(ArchiveErrors.ObjectNotFound, "result_not_found", $"No results of type '{p["Type"]}' (cad4tb or retina).");
        }

        await using var session = context.RequestServices.GetRequiredService<IDocumentStore>().QuerySessionForCaller(context.User);
        var ids = names.Select(n => ArchiveSeriesResult.IdOf(series.Id, type, n)).ToList();
        var found = (await session.LoadManyAsync<ArchiveSeriesResult>(cancellation, ids)).ToDictionary(r => r.Name, StringComparer.Ordinal);
        var missing = names.Where(n => !found.ContainsKey(n)).ToList();
        if (missing.Count > 0)
        {
            return ArchiveErrors.Error(ArchiveErrors.ObjectNotFound, "result_not_found", $"No {type} result(s) named {string.Join(", ", missing.Select(m => $"'{m}'"))} for this series.");
        }

        var results = names.Select(n => found[n]).ToList();
        if (results.All(r => r.File is null))
        {
            return TypedResults.Json(results.Select(r => new ArchiveScalarResult(r.Name, r.Algorithm, r.Value!.Value)).ToList());
        }

        return new ZipStreamResult(ResultsZipEntries(results), blobs, $"{ArchiveQueryModule.SafeName(series.ArchiveSeriesUid)}-results.zip");
    }

    private static async Task<IResult> ListForms(HttpContext context, CancellationToken cancellation)
    {
        if (!ArchiveParameters.TryRead(context.Request, SeriesKeys, out var p, out var error))
        {
            return error!;
        }

        await using var session = context.RequestServices.GetRequiredService<IDocumentStore>().QuerySessionForCaller(context.User);
        var reader = new ArchiveReader(session, context.User.TenantId());
        var series = await reader.SeriesAsync(p["Project"], p["Archive"], p["PatientID"], p["StudyInstanceUID"], p["SeriesInstanceUID"], cancellation);
        if (series is null)
        {
            return ArchiveErrors.Error(ArchiveErrors.ObjectNotFound, "series_not_found", $"No series '{p["SeriesInstanceUID"]}' of this study in this project's archive.");
        }

        var entries = await session.Query<ArchiveFormEntry>().Where(x => x.ArchiveSeriesId == series.Id)
            .OrderBy(x => x.SubmittedAt).ThenBy(x => x.Id).ToListAsync(cancellation);
        return TypedResults.Json(entries.Select(Response).ToList());
    }

    private static ArchiveFormEntryResponse Response(ArchiveFormEntry e) =>
        Response(e.Id, e.Entry, e.SubmittedBy, e.ArchiveSeriesUid, e.FormName);

    private static ArchiveFormEntryResponse Response(Guid id, string entryJson, string user, string series, string form)
    {
        var entry = JsonDocument.Parse(entryJson).RootElement.Clone();
        return new(id.ToString(), entry, Format(entry), user, series, form);
    }

    /// <summary>"Formatted representation of the entry": one <c>key: value</c> line per member of an object, nested objects dotted.</summary>
    internal static string Format(JsonElement entry)
    {
        var lines = new List<string>();
        void Walk(JsonElement e, string prefix)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject())
                    {
                        Walk(p.Value, prefix.Length == 0 ? p.Name : $"{prefix}.{p.Name}");
                    }

                    break;
                case JsonValueKind.Array:
                    lines.Add($"{(prefix.Length == 0 ? "" : prefix + ": ")}{string.Join(", ", e.EnumerateArray().Select(Scalar))}");
                    break;
                default:
                    lines.Add($"{(prefix.Length == 0 ? "" : prefix + ": ")}{Scalar(e)}");
                    break;
            }
        }

        Walk(entry, "");
        return string.Join("\n", lines);
    }

    private static string Scalar(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Null => "",
        _ => e.GetRawText(),
    };

    private static async Task<IResult> AddForm(HttpContext context, IMessageBus bus, IOptions<ArchiveOptions> options, CancellationToken cancellation)
    {
        if (!context.Request.HasFormContentType)
        {
            return ArchiveErrors.Error(ArchiveErrors.InvalidPostValue, null, "Send the parameters as a form (application/x-www-form-urlencoded or multipart/form-data).");
        }

        var (form, invalid) = await FormBody.ReadAsync(context.Request, cancellation);
        if (form is null)
        {
            return ArchiveErrors.Error(ArchiveErrors.InvalidPostValue, null, invalid!);
        }

        string[] names = [.. SeriesKeys, "FormName", "FormSubmission"];
        var values = names.ToDictionary(n => n, n => form[n].ToString().Trim());
        var missing = names.Where(n => values[n].Length == 0).ToList();
        if (missing.Count > 0)
        {
            return ArchiveErrors.Error(ArchiveErrors.MissingParameter, null, $"Missing parameter(s): {string.Join(", ", missing)}.");
        }

        var formName = options.Value.Resolve(values["FormName"], out var ambiguous);
        if (ambiguous)
        {
            return ArchiveErrors.Error(ArchiveErrors.MultipleObjectsFound, null, $"More than one form is named '{values["FormName"]}' (ignoring case); use its exact name.");
        }

        if (formName is null)
        {
            return ArchiveErrors.Error(ArchiveErrors.ObjectNotFound, "form_not_found", $"No form named '{values["FormName"]}'.");
        }

        var entry = values["FormSubmission"];
        try
        {
            using var _ = JsonDocument.Parse(entry);
        }
        catch (JsonException e)
        {
            return ArchiveErrors.Error(ArchiveErrors.InvalidPostValue, null, $"FormSubmission is not valid JSON: {e.Message}");
        }

        var result = await bus.InvokeForCallerAsync<CommandResult<SeriesFormSubmitted>>(context.User,
            new SubmitSeriesForm(new ArchivePlacement(values["Project"], values["Archive"]), values["PatientID"], values["StudyInstanceUID"],
                values["SeriesInstanceUID"], formName, entry, context.User.Actor("archive-api")), cancellation);
        if (result.Rejected is { } rejected)
        {
            return ArchiveErrors.Error(ArchiveErrors.ObjectNotFound, "series_not_found", rejected.Detail);
        }

        var s = result.Value!;
        return TypedResults.Json(Response(s.SubmissionId, s.Entry, s.SubmittedBy.Subject, s.ArchiveSeriesUid, s.FormName));
    }

    /// <summary>
    /// Our producer route: multipart/form-data with Project, Archive, StudyInstanceUID, SeriesInstanceUID
    /// (document d's series key), Type, Name, Algorithm, and either Value (a number, else a string) or a
    /// file part <c>file</c>. Problem details on error (our route, not document d's).
    /// </summary>
    private static async Task<IResult> RecordResult(HttpContext context, IMessageBus bus, IBlobStore blobs, CancellationToken cancellation)
    {
        if (!context.Request.HasFormContentType)
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type", "Send the result as multipart/form-data.");
        }

        var (form, invalid) = await FormBody.ReadAsync(context.Request, cancellation);
        if (form is null)
        {
            return Problems.BadRequest(invalid!);
        }

        string[] names = ["Project", "Archive", "StudyInstanceUID", "SeriesInstanceUID", "Type", "Name", "Algorithm"];
        var values = names.ToDictionary(n => n, n => form[n].ToString().Trim());
        var errors = names.Where(n => values[n].Length == 0).ToDictionary(n => n, n => new[] { $"{n} is required." });
        var type = values["Type"].ToLowerInvariant();
        if (values["Type"].Length > 0 && !ArchiveResultTypes.All.Contains(type))
        {
            errors["Type"] = ["Type is cad4tb or retina."];
        }

        var file = form.Files.GetFile("file");
        var value = form["Value"].ToString();
        if ((file is null) == (value.Length == 0))
        {
            errors["Value"] = ["Give either Value or a file."];
        }

        if (!ArchivePlacement.IsValidName(values["Project"]) || !ArchivePlacement.IsValidName(values["Archive"]))
        {
            errors["Project"] = [$"Project and Archive are 1 to {ArchivePlacement.MaxLength} characters without control characters."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        BlobRef? blob = null;
        if (file is not null)
        {
            await using var write = blobs.BeginWrite();
            await using (var content = file.OpenReadStream())
            {
                await content.CopyToAsync(write.Content, cancellation);
            }

            var committed = await write.CommitAsync(cancellation);
            blob = new BlobRef(committed.Sha256, committed.Sha1, committed.Length);
        }

        JsonElement? scalar = file is not null ? null
            : long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer) ? JsonSerializer.SerializeToElement(integer)
            : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real) ? JsonSerializer.SerializeToElement(real)
            : JsonSerializer.SerializeToElement(value);

        var result = await bus.InvokeForCallerAsync<CommandResult<SeriesResultRecorded>>(context.User,
            new RecordSeriesResult(new ArchivePlacement(values["Project"], values["Archive"]), values["StudyInstanceUID"], values["SeriesInstanceUID"],
                type, values["Name"], values["Algorithm"], scalar, blob,
                file is null ? null : ArchiveQueryModule.SafeName(Path.GetFileName(file.FileName) is { Length: > 0 } n ? n : values["Name"]),
                context.User.Actor("archive-results")), cancellation);
        return result.Rejected is { } rejected ? Problems.From(rejected) : TypedResults.Ok(new { recorded = true });
    }

    /// <summary>File results as zip entries (stored, streamed); scalar results of the same request in <c>results.xml</c>.</summary>
    private static List<ZipEntrySource> ResultsZipEntries(IReadOnlyList<ArchiveSeriesResult> results)
    {
        var entries = new List<ZipEntrySource>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var result in results.Where(r => r.File is not null))
        {
            var name = result.FileName ?? ArchiveQueryModule.SafeName(result.Name);
            for (var i = 2; !used.Add(name); i++)
            {
                name = $"{i}-{result.FileName ?? ArchiveQueryModule.SafeName(result.Name)}";
            }

            entries.Add(ZipEntrySource.Blob(name, result.File!.Sha256, result.RecordedAt, $"result {result.Name}"));
        }

        var scalars = results.Where(r => r.File is null).ToList();
        if (scalars.Count > 0)
        {
            entries.Add(ZipEntrySource.Bytes("results.xml", Xml(scalars)));
        }

        return entries;
    }

    private static byte[] Xml(IReadOnlyList<ArchiveSeriesResult> scalars)
    {
        var output = new MemoryStream();
        using (var writer = XmlWriter.Create(output, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true }))
        {
            writer.WriteStartElement("results");
            foreach (var r in scalars)
            {
                writer.WriteStartElement("result");
                writer.WriteElementString("name", r.Name);
                writer.WriteElementString("algorithm", r.Algorithm);
                writer.WriteElementString("value", r.Value!.Value.ValueKind == JsonValueKind.String ? r.Value.Value.GetString() : r.Value.Value.GetRawText());
                writer.WriteEndElement();
            }

            writer.WriteEndElement();
        }

        return output.ToArray();
    }
}

using System.Security.Claims;
using System.Text.Json.Nodes;
using EventSourced.Dicom;
using EventSourced.Domain.Orders;
using EventSourced.Projections.Orders;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Shared;
using EventSourced.Web.Shared.DicomWeb;
using EventSourced.Web.Shared.Worklist;
using Marten;
using Microsoft.Net.Http.Headers;

namespace EventSourced.Web.DicomWeb.Ups;

/// <summary>UPS-RS search (PS3.18 §11.9).</summary>
public sealed partial class UpsModule
{
    private static readonly Dictionary<string, string> SearchKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        [nameof(DicomTags.PatientID)] = DicomTags.PatientID.JsonKey(),
        [nameof(DicomTags.PatientName)] = DicomTags.PatientName.JsonKey(),
        [nameof(DicomTags.ScheduledProcedureStepStartDateTime)] = DicomTags.ScheduledProcedureStepStartDateTime.JsonKey(),
        [nameof(DicomTags.ProcedureStepState)] = DicomTags.ProcedureStepState.JsonKey(),
        [nameof(DicomTags.AccessionNumber)] = DicomTags.AccessionNumber.JsonKey(),
        [nameof(DicomTags.StudyInstanceUID)] = DicomTags.StudyInstanceUID.JsonKey(),
        [nameof(DicomTags.SOPInstanceUID)] = DicomTags.SOPInstanceUID.JsonKey(),
    };

    /// <summary>
    /// PS3.18 §11.9: QIDO-style matching (PS3.4 C.2.2.2) on PatientID, PatientName, Scheduled Procedure
    /// Step Start DateTime (range), Procedure Step State, AccessionNumber, StudyInstanceUID and SOP
    /// Instance UID, by keyword or tag; single values match exactly, <c>*</c>/<c>?</c> are wildcards
    /// (PatientName without regard to case); limit (default 100, at most 200) and offset.
    /// </summary>
    private static async Task<IResult> SearchAsync(HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        if (!DicomWebMediaTypes.AcceptsDicomJson(http.Request))
        {
            return Problems.Create(StatusCodes.Status406NotAcceptable, "Not Acceptable", $"UPS-RS answers {DicomWebMediaTypes.DicomJson} only.");
        }

        var filters = new Dictionary<string, string>();
        var paging = Paging.Default;
        foreach (var (key, values) in http.Request.Query)
        {
            var value = values.ToString();
            if (key.Equals("limit", StringComparison.OrdinalIgnoreCase) || key.Equals("offset", StringComparison.OrdinalIgnoreCase))
            {
                var (read, error) = key.Equals("limit", StringComparison.OrdinalIgnoreCase) ? paging.WithLimit(value) : paging.WithOffset(value);
                if (read is null)
                {
                    return Problems.BadRequest(error!);
                }

                paging = read.Value;
                continue;
            }

            if (key.Equals("includefield", StringComparison.OrdinalIgnoreCase) || key.Equals("fuzzymatching", StringComparison.OrdinalIgnoreCase))
            {
                continue; // every attribute is returned; fuzzy matching is not offered (PatientName wildcards ignore case)
            }

            var tag = SearchKeys.TryGetValue(key, out var known) ? known : SearchKeys.Values.FirstOrDefault(t => t.Equals(key, StringComparison.OrdinalIgnoreCase));
            if (tag is null)
            {
                return Problems.BadRequest($"'{key}' is not a matching key of this worklist (supported: {string.Join(", ", SearchKeys.Keys)}, limit, offset, includefield).");
            }

            filters[tag] = value;
        }

        if (filters.TryGetValue(DicomTags.ProcedureStepState.JsonKey(), out var stateFilter) && ProcedureStep.FromDicom(stateFilter) is null)
        {
            return Problems.BadRequest($"'{stateFilter}' is not a Procedure Step State (SCHEDULED, IN PROGRESS, COMPLETED, CANCELED).");
        }

        (string Low, string High)? range = null;
        if (filters.TryGetValue(DicomTags.ScheduledProcedureStepStartDateTime.JsonKey(), out var dateTime))
        {
            range = DateTimeRange(dateTime);
            if (range is null)
            {
                return Problems.BadRequest($"'{dateTime}' is not a DT value or range (YYYYMMDD[HHMMSS][-YYYYMMDD[HHMMSS]]).");
            }
        }

        filters.TryGetValue(DicomTags.PatientID.JsonKey(), out var patientId);
        filters.TryGetValue(DicomTags.PatientName.JsonKey(), out var patientName);
        filters.TryGetValue(DicomTags.AccessionNumber.JsonKey(), out var accession);
        filters.TryGetValue(DicomTags.StudyInstanceUID.JsonKey(), out var studyUid);
        filters.TryGetValue(DicomTags.SOPInstanceUID.JsonKey(), out var sopUid);
        var search = new WorkitemSearch(patientId, patientName, range, stateFilter is null ? null : ProcedureStep.FromDicom(stateFilter)!.Value,
            accession, studyUid, sopUid);
        await using var session = store.QuerySessionForCaller(user);
        var (page, more) = await WorklistQueries.SearchAsync(session, search, paging.Offset, paging.Limit, cancellation);
        if (page.Count == 0)
        {
            // As QIDO-RS here (PS3.18 §8.3.4.4.1): no match is 204 No Content.
            return TypedResults.NoContent();
        }

        if (more)
        {
            http.Response.Headers[HeaderNames.Warning] = $"299 {http.Request.Host}: \"There are more matching workitems than returned; ask again with offset={paging.Offset + page.Count}.\"";
        }

        return DicomJson(new JsonArray([.. page.Select(o => (JsonNode)WorkitemDatasets.Ups(o))]));
    }

    /// <summary>A DT value or range (PS3.4 C.2.2.2.5): the low end padded with zeros, the high end with nines, compared as text.</summary>
    private static (string Low, string High)? DateTimeRange(string value)
    {
        var parts = value.Split('-');
        if (parts.Length > 2 || parts.Any(p => p.Length > 14 || !p.All(char.IsAsciiDigit)) || parts.All(p => p.Length == 0))
        {
            return null;
        }

        var low = parts[0];
        var high = parts.Length == 2 ? parts[1] : parts[0];
        return (low.PadRight(14, '0'), high.Length == 0 ? "99999999999999" : high.PadRight(14, '9'));
    }
}

using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Carter;
using EventSourced.Application.Common;
using EventSourced.Application.Orders.CreatingOrder;
using EventSourced.Application.Worklist;
using EventSourced.Dicom;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Orders;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Shared;
using EventSourced.Web.Shared.DicomWeb;
using EventSourced.Web.Shared.Orders;
using EventSourced.Web.Shared.Worklist;
using Marten;
using Microsoft.Net.Http.Headers;
using Wolverine;

namespace EventSourced.Web.DicomWeb.Ups;

/// <summary>UPS-RS search (PS3.18 §11.9).</summary>
public sealed partial class UpsModule
{
    private static readonly Dictionary<string, string> SearchKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["PatientID"] = "00100020",
        ["PatientName"] = "00100010",
        ["ScheduledProcedureStepStartDateTime"] = "00404005",
        ["ProcedureStepState"] = "00741000",
        ["AccessionNumber"] = "00080050",
        ["StudyInstanceUID"] = "0020000D",
        ["SOPInstanceUID"] = "00080018",
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

        if (filters.TryGetValue("00741000", out var stateFilter) && ProcedureStep.FromDicom(stateFilter) is null)
        {
            return Problems.BadRequest($"'{stateFilter}' is not a Procedure Step State (SCHEDULED, IN PROGRESS, COMPLETED, CANCELED).");
        }

        (string Low, string High)? range = null;
        if (filters.TryGetValue("00404005", out var dateTime))
        {
            range = DateTimeRange(dateTime);
            if (range is null)
            {
                return Problems.BadRequest($"'{dateTime}' is not a DT value or range (YYYYMMDD[HHMMSS][-YYYYMMDD[HHMMSS]]).");
            }
        }

        await using var session = store.QuerySessionForCaller(user);
        var query = session.Query<OrderSummary>().Where(x => x.Status != OrderStatus.Deleted);
        if (filters.TryGetValue("00100020", out var patientId) && !HasWildcard(patientId))
        {
            query = query.Where(x => x.PatientId == patientId);
        }

        if (filters.TryGetValue("0020000D", out var studyUid))
        {
            query = query.Where(x => x.StudyInstanceUid == studyUid);
        }

        if (filters.TryGetValue("00080018", out var sopUid))
        {
            query = query.Where(x => x.WorkitemUid == sopUid);
        }

        if (filters.TryGetValue("00080050", out var accession) && !HasWildcard(accession))
        {
            query = query.Where(x => x.AccessionNumber == accession);
        }

        if (stateFilter is not null)
        {
            var state = ProcedureStep.FromDicom(stateFilter)!.Value;
            query = query.Where(x => x.ProcedureStepState == state);
        }

        var candidates = await query.ToListAsync(cancellation);
        var matches = candidates
            .Where(o => patientId is null || Matches(patientId, o.PatientId, ignoreCase: false))
            .Where(o => accession is null || Matches(accession, o.AccessionNumber, ignoreCase: false))
            .Where(o => !filters.TryGetValue("00100010", out var name) || Matches(name, o.Details.PatientName, ignoreCase: true))
            .Where(o => range is not { } r || (string.CompareOrdinal(o.ScheduledStartDateTime, r.Low) >= 0 && string.CompareOrdinal(o.ScheduledStartDateTime, r.High) <= 0))
            .InWorklistOrder()
            .ToList();

        var page = matches.Skip(paging.Offset).Take(paging.Limit).ToList();
        if (page.Count == 0)
        {
            // As QIDO-RS here (PS3.18 §8.3.4.4.1): no match is 204 No Content.
            return TypedResults.NoContent();
        }

        if (matches.Count > paging.Offset + page.Count)
        {
            http.Response.Headers[HeaderNames.Warning] = $"299 {http.Request.Host}: \"There are more matching workitems than returned; ask again with offset={paging.Offset + page.Count}.\"";
        }

        return DicomJson(new JsonArray([.. page.Select(o => (JsonNode)WorkitemDatasets.Ups(o))]));
    }

    private static bool HasWildcard(string value) => value.Contains('*') || value.Contains('?');

    private static bool Matches(string pattern, string? value, bool ignoreCase)
    {
        if (!HasWildcard(pattern))
        {
            return string.Equals(pattern, value, ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
        }

        var regex = "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".") + "$";
        return value is not null && System.Text.RegularExpressions.Regex.IsMatch(value, regex,
            (ignoreCase ? System.Text.RegularExpressions.RegexOptions.IgnoreCase : System.Text.RegularExpressions.RegexOptions.None) | System.Text.RegularExpressions.RegexOptions.CultureInvariant,
            TimeSpan.FromSeconds(1));
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

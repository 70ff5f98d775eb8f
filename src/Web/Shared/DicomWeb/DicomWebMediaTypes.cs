namespace EventSourced.Web.Shared.DicomWeb;

/// <summary>Media types of PS3.18 §8.7.</summary>
public static class DicomWebMediaTypes
{
    public const string DicomJson = "application/dicom+json";
    public const string Dicom = "application/dicom";
    public const string MultipartRelated = "multipart/related";
    public const string DicomXml = "application/dicom+xml";

    /// <summary>
    /// The metadata representation a client takes (PS3.18 §8.7.3.2, §8.7.5): <see cref="DicomJson"/> for no
    /// Accept, DICOM JSON, application/json or a wildcard; <see cref="DicomXml"/> (answered as multipart/related,
    /// one Native DICOM Model document per part) for <c>multipart/related; type="application/dicom+xml"</c> or
    /// a bare application/dicom+xml; null when neither is acceptable. The highest quality wins; JSON on a tie.
    /// </summary>
    public static string? ChooseMetadata(HttpRequest request) => MetadataChoices.Of(request);

    private static readonly AcceptMemo<string?> MetadataChoices = new(ChooseMetadataOnce);

    private static string? ChooseMetadataOnce(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        if (accept.Count == 0)
        {
            return DicomJson;
        }

        foreach (var a in accept.Where(a => a.Quality is not 0).OrderByDescending(a => a.Quality ?? 1))
        {
            if (a.MatchesAllTypes || a.MediaType.Equals(DicomJson, StringComparison.OrdinalIgnoreCase)
                || a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || a.MediaType.Equals("application/*", StringComparison.OrdinalIgnoreCase))
            {
                return DicomJson;
            }

            var type = Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(
                a.Parameters.FirstOrDefault(p => p.Name.Equals("type", StringComparison.OrdinalIgnoreCase))?.Value ?? default).ToString();
            if (a.MediaType.Equals(DicomXml, StringComparison.OrdinalIgnoreCase)
                || (a.MediaType.Equals(MultipartRelated, StringComparison.OrdinalIgnoreCase) && type.Equals(DicomXml, StringComparison.OrdinalIgnoreCase)))
            {
                return DicomXml;
            }
        }

        return null;
    }

    /// <summary>Writes DICOM JSON data sets as multipart/related; type="application/dicom+xml", one Native DICOM Model document per part.</summary>
    public static async Task WriteXmlPartsAsync(HttpResponse response, IEnumerable<System.Text.Json.JsonElement> datasets)
    {
        var boundary = Guid.NewGuid().ToString("N");
        response.ContentType = $"{MultipartRelated}; type=\"{DicomXml}\"; boundary={boundary}";
        foreach (var dataset in datasets)
        {
            var xml = EventSourced.Dicom.DicomXmlWriter.ToBytes(dataset);
            await response.Body.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
                $"--{boundary}\r\nContent-Type: {DicomXml}; charset=utf-8\r\nContent-Length: {xml.Length}\r\n\r\n"), response.HttpContext.RequestAborted);
            await response.Body.WriteAsync(xml, response.HttpContext.RequestAborted);
            await response.Body.WriteAsync("\r\n"u8.ToArray(), response.HttpContext.RequestAborted);
        }

        await response.Body.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"--{boundary}--\r\n"), response.HttpContext.RequestAborted);
    }

    /// <summary>
    /// Whether the client takes a DICOM JSON answer: no Accept header, or one naming
    /// application/dicom+json, application/json, application/* or */* with a quality above 0.
    /// </summary>
    public static bool AcceptsDicomJson(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        return accept.Count == 0 || accept.Any(a => a.Quality is not 0
            && (a.MediaType.Equals(DicomJson, StringComparison.OrdinalIgnoreCase)
                || a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || a.MediaType.Equals("application/*", StringComparison.OrdinalIgnoreCase)
                || a.MatchesAllTypes));
    }

    /// <summary>The WADO-RS Retrieve URL of a study (PS3.18 §10.4).</summary>
    public static string StudyUrl(HttpRequest request, string study) =>
        $"{request.Scheme}://{request.Host}{request.PathBase}/dicomweb/studies/{study}";

    /// <summary>The WADO-RS Retrieve URL of an instance.</summary>
    public static string InstanceUrl(HttpRequest request, string study, string series, string instance) =>
        $"{StudyUrl(request, study)}/series/{series}/instances/{instance}";

    /// <summary>An <see cref="IResult"/> writing <see cref="WriteXmlPartsAsync"/>.</summary>
    public static IResult Xml(this IResultExtensions _, IReadOnlyList<System.Text.Json.JsonElement> datasets) => new XmlPartsResult(datasets);

    private sealed class XmlPartsResult(IReadOnlyList<System.Text.Json.JsonElement> datasets) : IResult
    {
        public Task ExecuteAsync(HttpContext context) => WriteXmlPartsAsync(context.Response, datasets);
    }
}

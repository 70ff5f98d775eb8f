using System.Text.Json;
using Microsoft.Net.Http.Headers;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Reads a small JSON request body with a hard size bound, whatever Content-Length claims. The dialects
/// send JSON as application/json, text/json (document e) or a +json type; anything else is a 415.
/// </summary>
public static class JsonBody
{
    public const int DefaultMaxBytes = 256 * 1024;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 32, CommentHandling = JsonCommentHandling.Disallow };

    public static async Task<(JsonDocument? Document, IResult? Error)> ReadObjectAsync(
        HttpRequest request, CancellationToken cancellation, int maxBytes = DefaultMaxBytes, bool arrayOfOneObject = false, bool allowEmpty = false)
    {
        if (!string.IsNullOrEmpty(request.ContentType) && !IsJson(request.ContentType))
        {
            return (null, Problems.Create(StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type",
                $"Expected a JSON body (application/json or text/json), got '{request.ContentType}'."));
        }

        if (request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }

        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellation)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return (null, TooLarge(maxBytes));
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            return allowEmpty ? (null, null) : (null, Problems.BadRequest("No request body has been provided."));
        }

        // JsonDocument checks UTF-8 only when a string is read, long after parsing: check it here, once.
        if (!System.Text.Unicode.Utf8.IsValid(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)))
        {
            return (null, Problems.BadRequest("The request body is not valid UTF-8."));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), Options);
        }
        catch (JsonException e)
        {
            return (null, Problems.BadRequest($"The request body is not valid JSON: {e.Message}"));
        }

        // DICOM JSON (PS3.18 F.2) sends a data set as an array of objects: one object is taken as the data set.
        if (arrayOfOneObject && document.RootElement is { ValueKind: JsonValueKind.Array } array
            && array.GetArrayLength() == 1 && array[0].ValueKind == JsonValueKind.Object)
        {
            var inner = JsonDocument.Parse(array[0].GetRawText(), Options);
            document.Dispose();
            return (inner, null);
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            return (null, Problems.BadRequest("The request body must be a JSON object."));
        }

        return (document, null);
    }

    private static bool IsJson(string contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.MediaType.Equals("text/json", StringComparison.OrdinalIgnoreCase)
            || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase));

    private static IResult TooLarge(int maxBytes) =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, "Payload Too Large", $"The request body exceeds {maxBytes} bytes.");
}

using EventSourced.Application.Retrieval;
using EventSourced.Web.Shared.DicomWeb;
using Microsoft.Net.Http.Headers;

namespace EventSourced.Web.DicomWeb.Wado;

/// <summary>How frames and bulk data go out: a part media type and the transfer syntax named in the part's Content-Type.</summary>
public readonly record struct BulkDataRepresentation(string MediaType, string TransferSyntax);

/// <summary>
/// Accept negotiation for frames and bulk data (PS3.18 §8.7.3.3, §8.7.3.5). We never transcode, so each
/// value has exactly one syntax it can go out in: native (uncompressed) data in Explicit VR Little Endian (the
/// default of <c>application/octet-stream</c>), encapsulated data in the syntax it was stored in. A request
/// names what it takes with <c>multipart/related; type="…"; transfer-syntax=…</c>:
/// <list type="bullet">
/// <item><c>application/octet-stream</c> without transfer-syntax (or with Explicit VR Little Endian) takes native data only;</item>
/// <item><c>transfer-syntax=*</c> takes the value as stored, whatever its syntax (what viewers ask for);</item>
/// <item>an image media type (<c>image/jpeg</c>, <c>image/jls</c>, <c>image/jp2</c>, <c>image/jpx</c>,
/// <c>image/dicom-rle</c>, or <c>image/*</c>) takes encapsulated data whose stored syntax belongs to it;</item>
/// <item>no Accept, or <c>*/*</c>, takes anything.</item>
/// </list>
/// Anything else is a 406: there is no transcoder for compressed syntaxes.
/// </summary>
public static class BulkDataNegotiation
{
    public const string OctetStream = "application/octet-stream";

    /// <summary>The image media type of an encapsulated transfer syntax (PS3.18 Table 8.7.3-5), or null.</summary>
    public static string? ImageMediaType(string transferSyntax) => transferSyntax switch
    {
        "1.2.840.10008.1.2.4.50" or "1.2.840.10008.1.2.4.51" or "1.2.840.10008.1.2.4.57" or "1.2.840.10008.1.2.4.70" => "image/jpeg",
        "1.2.840.10008.1.2.4.80" or "1.2.840.10008.1.2.4.81" => "image/jls",
        "1.2.840.10008.1.2.4.90" or "1.2.840.10008.1.2.4.91" => "image/jp2",
        "1.2.840.10008.1.2.4.92" or "1.2.840.10008.1.2.4.93" => "image/jpx",
        "1.2.840.10008.1.2.4.201" or "1.2.840.10008.1.2.4.202" or "1.2.840.10008.1.2.4.203" => "image/jphc",
        "1.2.840.10008.1.2.5" => "image/dicom-rle",
        _ => null,
    };

    /// <summary>The representation to send, or null when the Accept header admits none we can give.</summary>
    public static BulkDataRepresentation? Choose(HttpRequest request, string transferSyntax, bool encapsulated)
    {
        var accept = request.GetTypedHeaders().Accept;
        var asStored = new BulkDataRepresentation(encapsulated ? ImageMediaType(transferSyntax) ?? OctetStream : OctetStream, transferSyntax);
        if (accept.Count == 0)
        {
            return asStored;
        }

        foreach (var media in accept.Where(a => a.Quality is not 0).OrderByDescending(a => a.Quality ?? 1))
        {
            if (media.MatchesAllTypes)
            {
                return asStored;
            }

            if (!media.MediaType.Equals(DicomWebMediaTypes.MultipartRelated, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var type = Parameter(media, "type") is { Length: > 0 } t ? t.ToLowerInvariant() : OctetStream;
            var syntax = Parameter(media, "transfer-syntax");
            if (Admits(type, syntax, transferSyntax, encapsulated) is { } mediaType)
            {
                return new BulkDataRepresentation(mediaType, transferSyntax);
            }
        }

        return null;
    }

    /// <summary>The 406 detail: what this value can be had as.</summary>
    public static string NotAcceptable(string transferSyntax, bool encapsulated) => encapsulated
        ? $"This value is stored compressed ({transferSyntax}) and is served only in that syntax: ask for multipart/related; type=\"{ImageMediaType(transferSyntax) ?? OctetStream}\" or type=\"{OctetStream}\"; transfer-syntax=* (or ={transferSyntax}). There is no transcoder."
        : $"This value is served as multipart/related; type=\"{OctetStream}\" in Explicit VR Little Endian ({StoredPixelData.ExplicitVrLittleEndian}, or transfer-syntax=*). There is no transcoder to compressed syntaxes.";

    private static string? Admits(string type, string syntax, string transferSyntax, bool encapsulated)
    {
        var anySyntax = syntax == "*" || syntax.Equals(transferSyntax, StringComparison.Ordinal);
        switch (type)
        {
            case OctetStream or "application/*":
                return anySyntax || (syntax.Length == 0 && !encapsulated) ? OctetStream : null;
            case "*/*":
                return anySyntax || syntax.Length == 0 ? encapsulated ? ImageMediaType(transferSyntax) ?? OctetStream : OctetStream : null;
            case "image/*":
                return encapsulated && (anySyntax || syntax.Length == 0) ? ImageMediaType(transferSyntax) : null;
            default:
                var image = encapsulated ? ImageMediaType(transferSyntax) : null;
                var normalized = type switch { "image/x-jls" => "image/jls", "image/x-dicom-rle" => "image/dicom-rle", _ => type };
                return image is not null && image == normalized && (anySyntax || syntax.Length == 0) ? type : null;
        }
    }

    private static string Parameter(MediaTypeHeaderValue media, string name) =>
        HeaderUtilities.RemoveQuotes(media.Parameters.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))?.Value ?? default).ToString().Trim();
}

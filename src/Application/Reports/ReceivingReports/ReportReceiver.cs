using System.Text.Json;
using EventSourced.Application.Blobs;
using EventSourced.Dicom;
using EventSourced.Domain.Reports;
using EventSourced.Domain.Studies;
using Microsoft.Extensions.Options;

namespace EventSourced.Application.Reports.ReceivingReports;

/// <summary>Why report content was refused, as the HTTP status it maps to (400, 413, 415) and a sentence.</summary>
public sealed record ReportReceiveFailure(int Status, string Detail);

/// <summary>
/// Report content from the producing side: streamed into a temporary blob (size-bounded), checked against
/// its media type from that file (JSON parses; a PDF starts with its header; a DICOM instance parses with
/// our codec and is a Structured Report or an Encapsulated PDF), and only then committed. Refused content
/// leaves nothing behind; committed content is durable before the command that names it is sent.
/// </summary>
public sealed class ReportReceiver(IBlobStore blobs, IOptions<ReportOptions> options)
{
    public const string Json = "application/json";
    public const string Pdf = "application/pdf";
    public const string Dicom = "application/dicom";

    /// <summary>Encapsulated PDF Storage (PS3.4 B.5, PS3.3 A.45.1).</summary>
    public const string EncapsulatedPdfSopClass = "1.2.840.10008.5.1.4.1.1.104.1";

    /// <summary>The Structured Report storage SOP classes share this root (PS3.4 B.5: 1.2.840.10008.5.1.4.1.1.88.x).</summary>
    private const string StructuredReportRoot = "1.2.840.10008.5.1.4.1.1.88.";

    /// <summary>Key Object Selection Document (…88.59) shares the SR root but is a selection of images, not a report.</summary>
    private const string KeyObjectSelectionSopClass = "1.2.840.10008.5.1.4.1.1.88.59";

    private static readonly DicomTag StudyInstanceUidTag = DicomTag.StudyInstanceUID;

    /// <param name="mediaType">The request's media type, already normalised: <see cref="Json"/>, <see cref="Pdf"/> or <see cref="Dicom"/>.</param>
    /// <param name="expectedStudyUid">For an order's report: a DICOM report must belong to the order's study.</param>
    public async Task<(ReportContent? Content, ReportReceiveFailure? Failure)> ReceiveAsync(
        Stream body, string mediaType, string? expectedStudyUid, CancellationToken cancellation)
    {
        var limit = options.Value.MaxReportBytes;
        await using var write = blobs.BeginWrite();
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellation)) > 0)
        {
            total += read;
            if (total > limit)
            {
                return (null, new ReportReceiveFailure(413, $"The report exceeds {limit} bytes."));
            }

            await write.Content.WriteAsync(buffer.AsMemory(0, read), cancellation);
        }

        if (total == 0)
        {
            return (null, new ReportReceiveFailure(400, "The report has no content."));
        }

        ReportFormat format;
        string? sopClass = null, sopInstance = null;
        await using (var written = await write.OpenWrittenAsync(cancellation))
        {
            switch (mediaType)
            {
                case Json:
                    try
                    {
                        using var _ = await JsonDocument.ParseAsync(written, new JsonDocumentOptions { MaxDepth = 64 }, cancellation);
                    }
                    catch (JsonException e)
                    {
                        return (null, new ReportReceiveFailure(400, $"The report is not valid JSON: {e.Message}"));
                    }

                    format = ReportFormat.Json;
                    break;

                case Pdf:
                    if (!await StartsWithPdfHeaderAsync(written, cancellation))
                    {
                        return (null, new ReportReceiveFailure(400, "The report is not a PDF: it does not start with a %PDF- header (ISO 32000-1 §7.5.2)."));
                    }

                    format = ReportFormat.Pdf;
                    break;

                case Dicom:
                    DicomFile file;
                    try
                    {
                        file = DicomReader.Read(written, DicomReadOptions.Streaming);
                    }
                    catch (DicomFormatException e)
                    {
                        return (null, new ReportReceiveFailure(400, $"The report is not a readable DICOM instance: {e.Message}"));
                    }

                    sopClass = Uid(file.Dataset, DicomTag.SOPClassUID) ?? Uid(file.Meta, DicomTag.MediaStorageSOPClassUID);
                    sopInstance = Uid(file.Dataset, DicomTag.SOPInstanceUID) ?? Uid(file.Meta, DicomTag.MediaStorageSOPInstanceUID);
                    if (!DicomUid.IsValid(sopInstance))
                    {
                        return (null, new ReportReceiveFailure(400, "The DICOM report has no valid SOPInstanceUID (0008,0018)."));
                    }

                    if (sopClass == EncapsulatedPdfSopClass)
                    {
                        format = ReportFormat.DicomEncapsulatedPdf;
                    }
                    else if (sopClass is not null && sopClass.StartsWith(StructuredReportRoot, StringComparison.Ordinal) && sopClass != KeyObjectSelectionSopClass)
                    {
                        format = ReportFormat.DicomStructuredReport;
                    }
                    else
                    {
                        return (null, new ReportReceiveFailure(400,
                            $"A DICOM report must be a Structured Report (1.2.840.10008.5.1.4.1.1.88.x) or an Encapsulated PDF ({EncapsulatedPdfSopClass}); SOPClassUID is '{sopClass}'."));
                    }

                    var study = Uid(file.Dataset, StudyInstanceUidTag);
                    if (expectedStudyUid is not null && study != expectedStudyUid)
                    {
                        return (null, new ReportReceiveFailure(400,
                            $"The DICOM report belongs to study '{study}', not to the order's study {expectedStudyUid}."));
                    }

                    break;

                default:
                    return (null, new ReportReceiveFailure(415, $"Report content must be {Json}, {Pdf} or {Dicom}, not '{mediaType}'."));
            }
        }

        var blob = await write.CommitAsync(cancellation);
        return (new ReportContent(new BlobRef(blob.Sha256, blob.Sha1, blob.Length), mediaType, format, sopClass, sopInstance), null);
    }

    /// <summary>ISO 32000-1 §7.5.2: the file begins with <c>%PDF-</c>; readers tolerate it within the first 1024 bytes.</summary>
    private static async Task<bool> StartsWithPdfHeaderAsync(Stream content, CancellationToken cancellation)
    {
        var head = new byte[1024];
        var length = 0;
        int read;
        while (length < head.Length && (read = await content.ReadAsync(head.AsMemory(length), cancellation)) > 0)
        {
            length += read;
        }

        return head.AsSpan(0, length).IndexOf("%PDF-"u8) >= 0;
    }

    private static string? Uid(DicomDataset dataset, DicomTag tag)
    {
        try
        {
            return dataset.GetString(tag)?.TrimEnd('\0', ' ');
        }
        catch (DicomFormatException)
        {
            return null;
        }
    }
}

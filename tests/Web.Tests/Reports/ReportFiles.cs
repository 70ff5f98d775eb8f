using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using EventSourced.Dicom;

namespace EventSourced.Web.Tests.Reports;

/// <summary>Report contents as a producer sends them: JSON, PDF, and DICOM SR / Encapsulated PDF instances made with our codec.</summary>
public static class ReportFiles
{
    public const string BasicTextSr = "1.2.840.10008.5.1.4.1.1.88.11";
    public const string EncapsulatedPdf = "1.2.840.10008.5.1.4.1.1.104.1";

    public static byte[] JsonReport(string finding) => Encoding.UTF8.GetBytes($$"""{"finding":"{{finding}}","score":0.87}""");

    /// <summary>A minimal PDF 1.4 document (one empty page).</summary>
    public static byte[] Pdf(string title) => Encoding.ASCII.GetBytes(
        $"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n" +
        $"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj\n% {title}\ntrailer << /Root 1 0 R >>\n%%EOF\n");

    /// <summary>A Basic Text SR (PS3.3 A.35.1): a container with one text item, in the given study.</summary>
    public static (byte[] Bytes, string SopInstanceUid) StructuredReport(string studyUid, string text, string sopClass = BasicTextSr)
    {
        var ds = Patient(studyUid, sopClass, "SR", out var sop);
        ds.AddString(new DicomTag(0x0040, 0xA040), DicomVR.CS, "CONTAINER"); // Value Type
        ds.Set(DicomElement.Sequence(new DicomTag(0x0040, 0xA043), [Code("18748-4", "LN", "Diagnostic Imaging Report")])); // Concept Name Code Sequence
        ds.AddString(new DicomTag(0x0040, 0xA050), DicomVR.CS, "SEPARATE"); // Continuity Of Content
        ds.AddString(new DicomTag(0x0040, 0xA491), DicomVR.CS, "COMPLETE"); // Completion Flag
        ds.AddString(new DicomTag(0x0040, 0xA493), DicomVR.CS, "UNVERIFIED"); // Verification Flag
        var item = new DicomDataset();
        item.AddString(new DicomTag(0x0040, 0xA010), DicomVR.CS, "CONTAINS"); // Relationship Type
        item.AddString(new DicomTag(0x0040, 0xA040), DicomVR.CS, "TEXT");
        item.Set(DicomElement.Sequence(new DicomTag(0x0040, 0xA043), [Code("121071", "DCM", "Finding")]));
        item.AddString(new DicomTag(0x0040, 0xA160), DicomVR.UT, text); // Text Value
        ds.Set(DicomElement.Sequence(new DicomTag(0x0040, 0xA730), [item])); // Content Sequence
        return (DicomWriter.ToBytes(new DicomFile(new DicomDataset(), ds, DicomTransferSyntax.ExplicitVRLittleEndian)), sop);
    }

    /// <summary>An Encapsulated PDF instance (PS3.3 A.45.1) holding <paramref name="pdf"/>.</summary>
    public static byte[] EncapsulatedPdfInstance(string studyUid, byte[] pdf)
    {
        var ds = Patient(studyUid, EncapsulatedPdf, "DOC", out _);
        ds.AddString(new DicomTag(0x0028, 0x0301), DicomVR.CS, "NO"); // Burned In Annotation
        ds.AddString(new DicomTag(0x0042, 0x0010), DicomVR.ST, "Report"); // Document Title
        ds.Set(DicomElement.Sequence(new DicomTag(0x0040, 0xA043), [Code("18748-4", "LN", "Diagnostic Imaging Report")]));
        ds.AddString(new DicomTag(0x0042, 0x0012), DicomVR.LO, "application/pdf"); // MIME Type of Encapsulated Document
        var even = pdf.Length % 2 == 0 ? pdf : [.. pdf, 0];
        ds.Set(new DicomElement(new DicomTag(0x0042, 0x0011), DicomVR.OB, even)); // Encapsulated Document
        return DicomWriter.ToBytes(new DicomFile(new DicomDataset(), ds, DicomTransferSyntax.ExplicitVRLittleEndian));
    }

    private static DicomDataset Patient(string studyUid, string sopClass, string modality, out string sop)
    {
        sop = DicomUid.Generate();
        var ds = new DicomDataset();
        ds.AddString(DicomTag.SOPClassUID, DicomVR.UI, sopClass);
        ds.AddString(DicomTag.SOPInstanceUID, DicomVR.UI, sop);
        ds.AddString(new DicomTag(0x0008, 0x0060), DicomVR.CS, modality);
        ds.AddString(DicomTag.PatientName, DicomVR.PN, "DOE^JANE");
        ds.AddString(DicomTag.PatientID, DicomVR.LO, "P1");
        ds.AddString(DicomTag.StudyInstanceUID, DicomVR.UI, studyUid);
        ds.AddString(DicomTag.SeriesInstanceUID, DicomVR.UI, DicomUid.Generate());
        ds.AddString(new DicomTag(0x0020, 0x0011), DicomVR.IS, "1"); // Series Number
        ds.AddString(new DicomTag(0x0020, 0x0013), DicomVR.IS, "1"); // Instance Number
        return ds;
    }

    private static DicomDataset Code(string value, string scheme, string meaning)
    {
        var code = new DicomDataset();
        code.AddString(new DicomTag(0x0008, 0x0100), DicomVR.SH, value);
        code.AddString(new DicomTag(0x0008, 0x0102), DicomVR.SH, scheme);
        code.AddString(new DicomTag(0x0008, 0x0104), DicomVR.LO, meaning);
        return code;
    }

    public static ByteArrayContent Content(byte[] bytes, string mediaType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);
        return content;
    }

    /// <summary>DCMTK's dcmdump of the bytes: the independent oracle that what we built and stored is DICOM.</summary>
    public static async Task<string> DcmdumpAsync(byte[] bytes)
    {
        var path = Path.Combine(Path.GetTempPath(), $"report-{Guid.NewGuid():N}.dcm");
        await File.WriteAllBytesAsync(path, bytes);
        try
        {
            using var process = Process.Start(new ProcessStartInfo("dcmdump", ["-q", "-Un", path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = await process.StandardOutput.ReadToEndAsync();
            var errors = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"dcmdump failed: {errors}");
            return output;
        }
        finally
        {
            File.Delete(path);
        }
    }
}

using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Archive;

/// <summary>Document d test helpers: real DICOM files made by our codec, the upload form, the error shape, the zip.</summary>
public static class ArchiveSupport
{
    public const string OphthalmicPhotography8Bit = "1.2.840.10008.5.1.4.1.1.77.1.5.1";

    public sealed record Instance(byte[] Bytes, string Study, string Series, string Sop);

    /// <summary>pydicom's CT_small.dcm (or another corpus file) re-identified, with the given attributes (keyword → value; null removes).</summary>
    public static Instance Create(
        string patientId, string? study = null, string? series = null, string template = "CT_small.dcm",
        string? sopClass = null, int pixelBytes = 0, params (string Keyword, DicomVR VR, string? Value)[] attributes)
    {
        var file = DicomReader.Read(Multipart.Corpus(template));
        study ??= DicomUid.Generate();
        series ??= DicomUid.Generate();
        var sop = DicomUid.Generate();
        var dataset = file.Dataset;
        dataset.AddString(DicomTag.StudyInstanceUID, DicomVR.UI, study);
        dataset.AddString(DicomTag.SeriesInstanceUID, DicomVR.UI, series);
        dataset.AddString(DicomTag.SOPInstanceUID, DicomVR.UI, sop);
        file.Meta.AddString(DicomTag.MediaStorageSOPInstanceUID, DicomVR.UI, sop);
        if (sopClass is not null)
        {
            dataset.AddString(DicomTag.SOPClassUID, DicomVR.UI, sopClass);
            file.Meta.AddString(DicomTag.MediaStorageSOPClassUID, DicomVR.UI, sopClass);
        }

        dataset.Remove(DicomTag.PatientID);
        if (patientId.Length > 0)
        {
            dataset.AddString(DicomTag.PatientID, DicomVR.LO, patientId);
        }

        foreach (var (keyword, vr, value) in attributes)
        {
            var tag = DicomDictionary.TagOf(keyword) ?? throw new ArgumentException(keyword);
            dataset.Remove(tag);
            if (value is not null)
            {
                dataset.AddString(tag, vr, value);
            }
        }

        if (pixelBytes > 0)
        {
            // A larger file for the streaming test: the pixel data's value replaced (the receiver does not decode it).
            var pixels = new byte[pixelBytes];
            new Random(pixelBytes).NextBytes(pixels);
            dataset.Set(new DicomElement(DicomTag.PixelData, DicomVR.OW, pixels));
        }

        return new Instance(DicomWriter.ToBytes(file), study, series, sop);
    }

    public static MultipartFormDataContent Form(byte[]? file, string? project, string? archive)
    {
        var form = new MultipartFormDataContent();
        if (project is not null)
        {
            form.Add(new StringContent(project), "Project");
        }

        if (archive is not null)
        {
            form.Add(new StringContent(archive), "Archive");
        }

        if (file is not null)
        {
            var part = new ByteArrayContent(file);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "file", "file.dcm");
        }

        return form;
    }

    public static async Task<JsonElement> UploadOkAsync(this HttpClient client, byte[] file, string project, string archive)
    {
        var response = await client.PostAsync("/api/v1/instance/upload/", Form(file, project, archive));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static string Query(params (string Name, string Value)[] parameters) =>
        "?" + string.Join("&", parameters.Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value)}"));

    /// <summary>Asserts document d's error shape and status.</summary>
    public static async Task AssertErrorAsync(HttpResponseMessage response, int status, string errorType, string? suberrorType)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal(["error_type", "suberror_type", "message"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(errorType, body.GetProperty("error_type").GetString());
        Assert.Equal(suberrorType, body.GetProperty("suberror_type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("message").GetString()));
    }

    public static async Task<JsonElement> GetOkAsync(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url} → {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The zip's entries (name → bytes), read back with System.IO.Compression.</summary>
    public static Dictionary<string, byte[]> Entries(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        return archive.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var content = e.Open();
            var copy = new MemoryStream();
            content.CopyTo(copy);
            return copy.ToArray();
        });
    }

    /// <summary>
    /// An outside opinion on the zip: Info-ZIP's <c>unzip -t</c> tests every entry's CRC, and Python's
    /// zipfile lists each entry's compression method (0 = stored).
    /// </summary>
    public static (string UnzipTest, string PythonMethods) OutsideTools(byte[] zip)
    {
        var path = Path.Combine(Path.GetTempPath(), $"archive-test-{Guid.NewGuid():N}.zip");
        File.WriteAllBytes(path, zip);
        try
        {
            var unzip = Run("unzip", "-t", path);
            var python = Run("python3", "-c",
                "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(','.join(str(i.compress_type) for i in z.infolist()))",
                path);
            return (unzip, python.Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} failed ({process.ExitCode}): {output}{error}");
        return output;
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Web.Tests.Support;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace EventSourced.Web.Tests.Ingestion;

/// <summary>
/// pydicom's whole corpus through STOW-RS and back through WADO-RS: what is stored comes back byte for
/// byte; what is refused is refused for a reason DCMTK confirms (unreadable, or missing a UID).
/// </summary>
public sealed class CorpusRoundTripTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string PydicomData = "/usr/lib/python3/dist-packages/pydicom/data";

    public static TheoryData<string> CorpusFiles()
    {
        var files = new TheoryData<string>();
        foreach (var folder in new[] { "test_files", "charset_files" })
        {
            foreach (var file in Directory.GetFiles(Path.Combine(PydicomData, folder), "*.dcm").Order())
            {
                files.Add($"{folder}/{Path.GetFileName(file)}");
            }
        }

        return files;
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public async Task A_corpus_file_stored_through_STOW_comes_back_through_WADO_byte_for_byte(string file)
    {
        // Files of the corpus share UIDs (MR_small in six encodings): each gets a tenant of its own.
        var client = await fixture.App.ClientForTenantAsync("corpus-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(file)))[..12]);
        var bytes = await File.ReadAllBytesAsync(Path.Combine(PydicomData, file));

        var stow = await client.PostAsync("/dicomweb/studies", Multipart.Related(bytes));
        var body = await stow.Content.ReadFromJsonAsync<JsonElement>();
        var uids = await DcmtkUidsAsync(file);

        if (stow.StatusCode != HttpStatusCode.OK)
        {
            Assert.Equal(HttpStatusCode.Conflict, stow.StatusCode);
            var reason = body.GetProperty("00081198").GetProperty("Value")[0].GetProperty("00081197").GetProperty("Value")[0].GetInt32();
            Assert.Equal(0xC000, reason);
            // Refused only where DCMTK cannot read it either, or finds a UID missing.
            if (uids is not null && !uids.Values.Any(string.IsNullOrEmpty))
            {
                Assert.Fail($"{file} was refused but DCMTK reads all its UIDs: {string.Join(", ", uids)}");
            }

            return;
        }

        Assert.NotNull(uids);
        var url = $"/dicomweb/studies/{uids["StudyInstanceUID"]}/series/{uids["SeriesInstanceUID"]}/instances/{uids["SOPInstanceUID"]}";
        var wado = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, wado.StatusCode);
        var parts = await PartsAsync(wado);
        Assert.Equal(bytes, Assert.Single(parts));

        // Its metadata is the codec's DICOM JSON of the file, as ingestion records it (bulk data left out, each
        // left-out value referenced by a BulkDataURI), plus Available Transfer Syntax UID (0008,3002).
        var metadata = await client.GetAsync(url + "/metadata");
        Assert.Equal(HttpStatusCode.OK, metadata.StatusCode);
        Assert.Equal("application/dicom+json", metadata.Content.Headers.ContentType?.MediaType);
        var served = Assert.Single((await metadata.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray());
        var expected = JsonDocument.Parse(EventSourced.Dicom.DicomJsonWriter.Serialize(
            EventSourced.Dicom.DicomReader.Read(bytes, EventSourced.Dicom.DicomReadOptions.Streaming).Dataset,
            new EventSourced.Dicom.DicomJsonOptions { BulkDataThreshold = 1024 })).RootElement;
        Assert.Equal(Canonical(expected), Canonical(served, withoutBulkDataUris: true));
        Assert.Equal(EventSourced.Dicom.DicomReader.Read(bytes, EventSourced.Dicom.DicomReadOptions.Streaming).TransferSyntax.Uid.TrimEnd('\0', ' '),
            served.GetProperty("00083002").GetProperty("Value")[0].GetString());
    }

    /// <summary>
    /// JSON compared by meaning: object keys sorted (jsonb keeps its own order), strings decoded (escaping
    /// may differ), numbers by value (jsonb normalises 1.000000e+00 to 1.000000).
    /// </summary>
    private static string Canonical(JsonElement element, bool withoutBulkDataUris = false, bool top = true) => element.ValueKind switch
    {
        JsonValueKind.Object => "{" + string.Join(",", element.EnumerateObject()
            .Where(p => !withoutBulkDataUris || (p.Name != "BulkDataURI" && !(top && p.Name == "00083002")))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => p.Name + ":" + Canonical(p.Value, withoutBulkDataUris, top: false))) + "}",
        JsonValueKind.Array => "[" + string.Join(",", element.EnumerateArray().Select(e => Canonical(e, withoutBulkDataUris, top: false))) + "]",
        JsonValueKind.String => "\"" + element.GetString() + "\"",
        JsonValueKind.Number => (element.GetDouble() + 0.0).ToString("R", System.Globalization.CultureInfo.InvariantCulture), // -0 and 0 are one value
        _ => element.GetRawText(),
    };

    /// <summary>The four top-level UIDs as DCMTK reads them; null when DCMTK cannot read the file at all.</summary>
    private static async Task<Dictionary<string, string>?> DcmtkUidsAsync(string file)
    {
        var start = new ProcessStartInfo("dcmdump", ["-q", "-Un", "+L", Path.Combine(PydicomData, file)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            return null;
        }

        var uids = new Dictionary<string, string> { ["StudyInstanceUID"] = "", ["SeriesInstanceUID"] = "", ["SOPInstanceUID"] = "", ["SOPClassUID"] = "" };
        // Top-level elements start in column 0; items of sequences are indented.
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('(')))
        {
            var keyword = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];
            var open = line.IndexOf('[');
            if (!uids.ContainsKey(keyword) || uids[keyword] != "")
            {
                continue;
            }

            if (open > 0)
            {
                uids[keyword] = line[(open + 1)..line.IndexOf(']', open)].TrimEnd('\0', ' ');
            }
            else if (line[12..14] == "UN")
            {
                // Stored as explicit UN; DCMTK prints the bytes (our codec reads them with the dictionary's VR, PS3.5 §6.2.2).
                var hex = line[15..line.IndexOf('#')].Trim().Split('\\');
                uids[keyword] = System.Text.Encoding.ASCII.GetString([.. hex.Select(h => Convert.ToByte(h, 16))]).TrimEnd('\0', ' ');
            }
        }

        return uids;
    }

    public static async Task<List<byte[]>> PartsAsync(HttpResponseMessage response)
    {
        var type = MediaTypeHeaderValue.Parse(response.Content.Headers.ContentType!.ToString());
        Assert.Equal("multipart/related", type.MediaType.ToString());
        var boundary = HeaderUtilities.RemoveQuotes(type.Parameters.Single(p => p.Name == "boundary").Value).ToString();
        var reader = new MultipartReader(boundary, await response.Content.ReadAsStreamAsync());
        var parts = new List<byte[]>();
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            Assert.StartsWith("application/dicom", section.ContentType);
            var buffer = new MemoryStream();
            await section.Body.CopyToAsync(buffer);
            parts.Add(buffer.ToArray());
        }

        return parts;
    }
}

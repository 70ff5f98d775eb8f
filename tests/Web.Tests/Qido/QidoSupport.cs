using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourced.Application.Common;
using EventSourced.Application.Ingestion.StoringInstances;
using EventSourced.Dicom;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using EventSourced.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace EventSourced.Web.Tests.Qido;

/// <summary>Instances for the QIDO tests: headers made by our codec, stored through the StoreInstance command (as STOW will).</summary>
public static class QidoSupport
{
    public const string CorpusFolder = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

    /// <summary>Bulk data excluded from the header, as the ingestion slice stores it (values above 1 KiB dropped).</summary>
    public static readonly DicomJsonOptions HeaderOptions = new() { BulkDataThreshold = 1024 };

    public static DicomFile Corpus(string name) => DicomFile.Open(Path.Combine(CorpusFolder, name), DicomReadOptions.Streaming);

    public static StoredInstance FromDataset(DicomDataset dataset, string? callingAe = "MODALITY", string? stationName = null, long length = 1000, string? transferSyntax = null)
    {
        var header = JsonDocument.Parse(DicomJsonWriter.Serialize(dataset, HeaderOptions)).RootElement.Clone();
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(header.GetRawText() + length)));
        return new StoredInstance(
            dataset.GetString(DicomTag.StudyInstanceUID)!,
            dataset.GetString(DicomTag.SeriesInstanceUID)!,
            dataset.GetString(DicomTag.SOPInstanceUID)!,
            dataset.GetString(DicomTag.SOPClassUID) ?? "1.2.840.10008.5.1.4.1.1.7",
            transferSyntax ?? "1.2.840.10008.1.2.1",
            header,
            new BlobRef(sha256, sha256[..40], length),
            IngestChannel.StowRs,
            callingAe,
            stationName);
    }

    public static StoredInstance FromCorpus(string name)
    {
        var file = Corpus(name);
        return FromDataset(file.Dataset, transferSyntax: file.TransferSyntax.Uid);
    }

    /// <summary>A synthetic instance: the given UIDs and (keyword, VR, value) attributes, written with our codec.</summary>
    public static DicomDataset Synthetic(string study, string series, string sop, params (string Keyword, DicomVR VR, string Value)[] attributes)
    {
        var dataset = new DicomDataset();
        dataset.AddString(DicomTag.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");
        dataset.AddString(DicomTag.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.2");
        dataset.AddString(DicomTag.SOPInstanceUID, DicomVR.UI, sop);
        dataset.AddString(DicomTag.StudyInstanceUID, DicomVR.UI, study);
        dataset.AddString(DicomTag.SeriesInstanceUID, DicomVR.UI, series);
        foreach (var (keyword, vr, value) in attributes)
        {
            dataset.AddString(DicomDictionary.TagOf(keyword) ?? throw new ArgumentException(keyword), vr, value.Split('\\'));
        }

        return dataset;
    }

    public static async Task<InstanceStoreResult> StoreAsync(this AppFactory app, string tenant, StoredInstance instance)
    {
        var response = await app.Services.GetRequiredService<IMessageBus>().InvokeForTenantAsync<StoreInstancesResponse>(
            tenant, new StoreInstances([instance], new Actor("modality", "tests")), CancellationToken.None, TimeSpan.FromSeconds(60));
        var result = response.Results.Single();
        return result.Rejection is null ? result : throw new InvalidOperationException(result.Rejection.Detail);
    }

    public static async Task<(HttpResponseMessage Response, JsonElement Body)> QidoAsync(this HttpClient client, string url, string? accept = "application/dicom+json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>The first value of an attribute in a DICOM JSON object (PN: the alphabetic group), as text.</summary>
    public static string? Value(this JsonElement dataset, string tag)
    {
        if (!dataset.TryGetProperty(tag, out var attribute) || !attribute.TryGetProperty("Value", out var values) || values.GetArrayLength() == 0)
        {
            return null;
        }

        var first = values[0];
        return first.ValueKind switch
        {
            JsonValueKind.Object => first.TryGetProperty("Alphabetic", out var a) ? a.GetString() : null,
            JsonValueKind.String => first.GetString(),
            _ => first.GetRawText(),
        };
    }

    public static IReadOnlyList<string?> Values(this JsonElement results, string tag) =>
        [.. results.EnumerateArray().Select(r => r.Value(tag))];
}

using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Web.Tests.Ingestion;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Studies;

/// <summary>A study stored through STOW-RS for the storage tests: the bytes sent, by SOP Instance UID, and their SHA-256.</summary>
public sealed record StoredStudy(string Study, string Accession, Dictionary<string, byte[]> Sent)
{
    public IReadOnlySet<string> Hashes => Sent.Values.Select(Sha).ToHashSet();

    public static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static async Task<StoredStudy> StoreAsync(HttpClient client, int instances, string? accession = null)
    {
        var study = new StoredStudy(DicomUid.Generate(), accession ?? "AN" + Guid.NewGuid().ToString("N")[..10], []);
        for (var i = 0; i < instances; i++)
        {
            await study.AddAsync(client);
        }

        return study;
    }

    /// <summary>One more instance of the study, through STOW-RS.</summary>
    public async Task<string> AddAsync(HttpClient client)
    {
        var (bytes, _, _, sop) = SyntheticInstances.Create(Study);
        var file = DicomReader.Read(bytes);
        file.Dataset.AddString(DicomTags.AccessionNumber, DicomVR.SH, Accession);
        var tagged = DicomWriter.ToBytes(file);
        var response = await client.PostAsync("/dicomweb/studies", Multipart.Related(tagged));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Sent[sop] = tagged;
        return Sha(tagged);
    }

    /// <summary>The study as WADO-RS serves it, each part's SHA-256.</summary>
    public async Task<HashSet<string>> RetrievedHashesAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/dicomweb/studies/{Study}");
        request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("multipart/related; type=\"application/dicom\"; transfer-syntax=*"));
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await CorpusRoundTripTests.PartsAsync(response)).Select(Sha).ToHashSet();
    }
}

public static class Relocation
{
    public static Task<HttpResponseMessage> PostAsync(HttpClient client, object body) =>
        client.PostAsync("/o3-dpacs-wado/studies/relocation", Json.Body(JsonSerializer.Serialize(body), "application/json"));

    /// <summary>The blobs of a local-disk location (a physical medium's root), each checked against its name.</summary>
    public static HashSet<string> BlobsOnDisk(string root)
    {
        var objects = Path.Combine(root, "objects");
        if (!Directory.Exists(objects))
        {
            return [];
        }

        var found = new HashSet<string>();
        foreach (var file in Directory.EnumerateFiles(objects, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            Assert.Equal(name, StoredStudy.Sha(File.ReadAllBytes(file)));
            found.Add(name);
        }

        return found;
    }

    /// <summary>The objects of a bucket, each checked against its key.</summary>
    public static async Task<HashSet<string>> BlobsInBucketAsync(S3Server server, string bucket)
    {
        var hashes = await server.ObjectHashesAsync(bucket);
        foreach (var (key, sha) in hashes)
        {
            Assert.Equal(key, sha);
        }

        return [.. hashes.Keys];
    }
}

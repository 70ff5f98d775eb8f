using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Pathology;

/// <summary>
/// Slides are gigabytes: an upload streams from the socket into the blob store. A real service process
/// receives a slide generated on the fly by the test (never held in memory on either side), and its peak
/// resident set (VmHWM) must grow by less than 200 MB over the upload.
/// </summary>
public sealed class PathologyStreamingTests : IAsyncLifetime
{
    /// <summary>2 GiB, as the acceptance criterion says (measured on this machine: docs/benchmarks.md).</summary>
    private const long SlideBytes = 2L * 1024 * 1024 * 1024;

    private const long MaxGrowthBytes = 200L * 1000 * 1000;

    private readonly ScratchSpace scratch = new("patho-blobs");

    public Task InitializeAsync() => scratch.InitializeAsync();

    public Task DisposeAsync() => scratch.DisposeAsync();

    [Fact]
    public async Task A_2_GiB_slide_streams_into_the_blob_store_with_the_server_memory_growing_by_less_than_200_MB()
    {
        await using var service = new ServiceProcess(scratch.ConnectionString, scratch.Folder, new Dictionary<string, string> { ["Nodes__Dicom__1__AeTitle"] = "SCANNER1" });
        var output = await service.RunCliAsync("tenants", "ensure", "patho-stream", "--scopes", "studies.read,studies.write");
        var key = output.Split("Authorization: ")[1].Split('\n')[0].Trim();
        await service.StartAsync();
        using var http = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromMinutes(20) };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        const string store = "/o3-dpacs-wado/pathoRsListener/SCANNER1/studies";

        // Warm up (handler compilation, first queries) so the baseline is the service at work, not at start.
        var warm = await http.PostAsync(store, new GeneratedSlideForm(SlideFiles.Metadata("WARM", "WARM-1"), 4 * 1024 * 1024));
        Assert.True(warm.StatusCode == HttpStatusCode.OK, await warm.Content.ReadAsStringAsync());
        var baseline = PeakResidentBytes(service.ProcessId);

        var container = "BIG-" + Guid.NewGuid().ToString("N")[..8];
        var form = new GeneratedSlideForm(SlideFiles.Metadata("BIG", container), SlideBytes);
        var clock = Stopwatch.StartNew();
        var response = await http.PostAsync(store, form);
        clock.Stop();
        var body = await response.Content.ReadAsStringAsync();
        var peak = PeakResidentBytes(service.ProcessId);

        var figure = $"{SlideBytes / 1048576} MiB in {clock.Elapsed.TotalSeconds:F1} s ({SlideBytes / 1048576.0 / clock.Elapsed.TotalSeconds:F0} MiB/s); "
            + $"server peak RSS {baseline / 1048576} MiB → {peak / 1048576} MiB (+{(peak - baseline) / 1048576} MiB)";
        Console.WriteLine(figure);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body + " " + figure);
        Assert.Equal("stored", JsonDocument.Parse(body).RootElement.GetProperty("message").GetString());
        Assert.True(peak - baseline < MaxGrowthBytes, figure);

        // The server checked the fileHash and fileLength parts sent after the file: the stored slide is the one sent.
        var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/o3-dpacs-wado/wholeslide?barcode={container}"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(SlideBytes, head.Content.Headers.ContentLength);
    }

    /// <summary>VmHWM: the process's peak resident set since it started (proc(5)).</summary>
    private static long PeakResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>
    /// document e's form with a slide of <paramref name="length"/> bytes produced while it is sent (1 MiB of
    /// random bytes, each copy stamped with its offset), and the fileHash and fileLength parts after it: the
    /// hash is computed as the file goes out.
    /// </summary>
    private sealed class GeneratedSlideForm : HttpContent
    {
        private const string Boundary = "generated-slide-boundary";
        private readonly string metadata;
        private readonly long length;

        public GeneratedSlideForm(string metadata, long length)
        {
            this.metadata = metadata;
            this.length = length;
            Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={Boundary}");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await Write(stream, $"--{Boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n{metadata}\r\n");
            await Write(stream, $"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.svs\"\r\nContent-Type: application/octet-stream\r\n\r\n");
            var block = new byte[1024 * 1024];
            Random.Shared.NextBytes(block);
            using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            for (long sent = 0; sent < length;)
            {
                BitConverter.TryWriteBytes(block, sent);
                var count = (int)Math.Min(block.Length, length - sent);
                sha1.AppendData(block, 0, count);
                await stream.WriteAsync(block.AsMemory(0, count));
                sent += count;
            }

            var hash = Convert.ToHexStringLower(sha1.GetHashAndReset());
            await Write(stream, $"\r\n--{Boundary}\r\nContent-Disposition: form-data; name=\"fileHash\"\r\n\r\n{hash}\r\n");
            await Write(stream, $"--{Boundary}\r\nContent-Disposition: form-data; name=\"fileLength\"\r\n\r\n{length}\r\n--{Boundary}--\r\n");
        }

        protected override bool TryComputeLength(out long size)
        {
            size = 0;
            return false; // chunked: the body is made as it is sent
        }

        private static Task Write(Stream stream, string text) => stream.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask();
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using EventSourced.Application.Blobs;
using EventSourced.Dicom;
using EventSourced.Projections.Blobs;
using EventSourced.Web.Infrastructure.Blobs;
using EventSourced.Web.Tests.Support;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace EventSourced.Web.Tests.Blobs;

/// <summary>
/// The orphan sweep for committed blobs no event references, on the service's own blob store and
/// database; its clock is a fake one moved past the grace period, so nothing waits in real time.
/// </summary>
public sealed class OrphanBlobSweeperTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private static readonly TimeSpan Grace = TimeSpan.FromHours(24);

    private IBlobStore Blobs => fixture.App.Services.GetRequiredService<IBlobStore>();

    private OrphanBlobSweeper Sweeper(DateTimeOffset now) => new(
        Blobs,
        fixture.App.Store,
        fixture.App.Services.GetRequiredService<NpgsqlDataSource>(),
        Options.Create(new BlobStoreOptions { OrphanGracePeriod = Grace }),
        new FakeTimeProvider(now),
        NullLogger<OrphanBlobSweeper>.Instance);

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private async Task<string> CommitAsync(byte[] bytes)
    {
        await using var write = Blobs.BeginWrite();
        await write.Content.WriteAsync(bytes);
        return (await write.CommitAsync(CancellationToken.None)).Sha256;
    }

    private async Task StowAsync(string tenant, byte[] bytes)
    {
        var client = await fixture.App.ClientForTenantAsync(tenant);
        var response = await client.PostAsync("/dicomweb/studies", Multipart.Related(bytes));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The same SOP instance with other bytes (another Series Description): stored again within the window, it is a replacement.</summary>
    private static byte[] Variant(byte[] bytes)
    {
        var file = DicomReader.Read(bytes);
        file.Dataset.AddString(new DicomTag(0x0008, 0x103E), DicomVR.LO, "replaced");
        return DicomWriter.ToBytes(file);
    }

    [Fact]
    public async Task A_blob_no_event_references_is_removed_after_the_grace_period_and_referenced_ones_never()
    {
        var kept = SyntheticInstances.Create().Bytes;
        await StowAsync("orphans-a", kept);
        var original = SyntheticInstances.Create().Bytes;
        var replacement = Variant(original);
        await StowAsync("orphans-a", original);
        await StowAsync("orphans-a", replacement); // the original's blob is now named only by the old InstanceStored
        var otherTenant = SyntheticInstances.Create().Bytes;
        await StowAsync("orphans-b", otherTenant);
        var orphan = await CommitAsync(RandomNumberGenerator.GetBytes(4096)); // committed, never recorded
        var referenced = new[] { Sha(kept), Sha(original), Sha(replacement), Sha(otherTenant) };

        await using (var session = fixture.App.Store.QuerySession("orphans-a"))
        {
            var stored = await session.Events.QueryAllRawEvents().Where(e => e.EventTypeName == "instance_replaced").CountAsync();
            Assert.Equal(1, stored);
        }

        // Within the grace period: an unreferenced blob may belong to a request about to append its event.
        Assert.Equal(0, await Sweeper(DateTimeOffset.UtcNow.AddHours(1)).SweepOnceAsync(CancellationToken.None));
        Assert.True(Blobs.Exists(orphan));

        var removed = await Sweeper(DateTimeOffset.UtcNow + Grace + TimeSpan.FromHours(1)).SweepOnceAsync(CancellationToken.None);

        Assert.Equal(1, removed);
        Assert.False(Blobs.Exists(orphan));
        Assert.All(referenced, sha => Assert.True(Blobs.Exists(sha), $"referenced blob {sha} was removed"));
    }

    [Fact]
    public async Task The_projected_references_are_found_in_every_tenant()
    {
        // Three tenants that sort around the others of this fixture's database, each naming its own blob.
        var first = SyntheticInstances.Create().Bytes;
        var middle = SyntheticInstances.Create().Bytes;
        var last = SyntheticInstances.Create().Bytes;
        await StowAsync("0-projected-first", first);
        await StowAsync("m-projected-middle", middle);
        await StowAsync("zz-projected-last", last);
        var orphan = await CommitAsync(RandomNumberGenerator.GetBytes(4096));

        var projected = await Sweeper(DateTimeOffset.UtcNow).ProjectedReferencesAsync([Sha(first), Sha(middle), Sha(last), orphan], CancellationToken.None);

        Assert.Equal(new[] { Sha(first), Sha(middle), Sha(last) }.Order(), projected.Order());
    }

    [Fact]
    public async Task A_delivered_report_s_blob_is_projected_as_referenced_and_kept()
    {
        const string tenant = "orphans-report";
        var client = await fixture.App.ClientForTenantAsync(tenant);
        var orderId = await client.CreateOkAsync(Support.Orders.ExampleBody(Support.Orders.NewStudyUid()));
        var response = await client.PostAsync($"/orders/{orderId}/reports?report_type=pdf",
            Reports.ReportFiles.Content(Reports.ReportFiles.Pdf($"orphans {Guid.NewGuid()}"), "application/pdf"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var sha = (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("sha256").GetString()!;

        await using (var session = fixture.App.Store.QuerySession(tenant))
        {
            Assert.NotNull(await session.LoadAsync<ReferencedBlob>(ReferencedBlob.IdOf(sha)));
        }

        await Sweeper(DateTimeOffset.UtcNow + Grace + TimeSpan.FromHours(1)).SweepOnceAsync(CancellationToken.None);
        Assert.True(Blobs.Exists(sha));
    }

    [Fact]
    public async Task A_blob_named_by_an_event_but_missing_from_the_projection_is_kept()
    {
        // Events written before the projection existed have no row: the events themselves decide.
        var bytes = SyntheticInstances.Create().Bytes;
        await StowAsync("orphans-c", bytes);
        await using (var session = fixture.App.Store.LightweightSession("orphans-c"))
        {
            session.Delete<ReferencedBlob>(ReferencedBlob.IdOf(Sha(bytes)));
            await session.SaveChangesAsync();
        }

        await Sweeper(DateTimeOffset.UtcNow + Grace + TimeSpan.FromHours(1)).SweepOnceAsync(CancellationToken.None);

        Assert.True(Blobs.Exists(Sha(bytes)));
    }

    [Fact]
    public async Task Committing_bytes_already_stored_starts_the_grace_period_again()
    {
        var bytes = RandomNumberGenerator.GetBytes(2048);
        var sha = await CommitAsync(bytes);
        var path = Path.Combine(fixture.App.BlobRoot, "objects", sha[..2], sha[2..4], sha);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow - Grace - TimeSpan.FromHours(2)); // an old orphan…

        await CommitAsync(bytes); // …that a new upload of the same bytes is about to reference

        Assert.Equal(0, await Sweeper(DateTimeOffset.UtcNow.AddMinutes(1)).SweepOnceAsync(CancellationToken.None));
        Assert.True(Blobs.Exists(sha));
    }
}

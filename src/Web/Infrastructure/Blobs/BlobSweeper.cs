using EventSourced.Application.Blobs;
using Microsoft.Extensions.Options;

namespace EventSourced.Web.Infrastructure.Blobs;

/// <summary>
/// Removes temporary files of writes that never committed (the process died between receiving and
/// committing). Committed blobs that no event references (a crash between commit and append) are
/// <see cref="OrphanBlobSweeper"/>'s.
/// </summary>
public sealed class BlobSweeper(IBlobStore store, IOptions<BlobStoreOptions> options, ILogger<BlobSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval);
        do
        {
            try
            {
                var removed = store.SweepAbandonedWrites(options.Value.AbandonedWriteAge);
                if (removed > 0)
                {
                    logger.LogInformation("Removed {Count} abandoned blob writes", removed);
                }
            }
            catch (IOException e)
            {
                logger.LogWarning(e, "Blob sweep failed; retrying at the next interval");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

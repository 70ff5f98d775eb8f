using Marten;
using Marten.Services;

namespace EventSourced.Projections.StudyFeed;

/// <summary>
/// Pulsed after every batch the async daemon commits in this process (registered with
/// <c>Projections.AsyncListeners</c>): feed requests that wait for news re-read then, instead of polling.
/// </summary>
public sealed class StudyFeedSignal : IChangeListener
{
    private TaskCompletionSource current = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next pulse.</summary>
    public Task NextAsync() => Volatile.Read(ref current).Task;

    public void Pulse() => Interlocked.Exchange(ref current, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        Pulse();
        return Task.CompletedTask;
    }

    public Task BeforeCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token) => Task.CompletedTask;
}

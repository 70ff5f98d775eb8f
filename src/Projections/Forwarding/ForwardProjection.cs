using EventSourced.Domain.Forwarding;
using Marten.Events.Aggregation;

namespace EventSourced.Projections.Forwarding;

/// <summary>
/// The forward's state, projected inline: the write side's aggregate (<c>FetchForWriting&lt;Forward&gt;</c>)
/// and the operator's list (<c>GET /o3-dpacs-wado/forwards?state=failed</c>) in one document per forward.
/// </summary>
public partial class ForwardProjection : SingleStreamProjection<Forward, Guid>
{
    public static Forward Create(ForwardRequested requested) => Forward.Create(requested);

    public Forward Apply(SeriesForwarded forwarded, Forward forward) => forward.Apply(forwarded);

    public Forward Apply(ForwardFailed failed, Forward forward) => forward.Apply(failed);

    public Forward Apply(ForwardRetried retried, Forward forward) => forward.Apply(retried);
}

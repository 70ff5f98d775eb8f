using EventSourced.Domain.Orders;
using Marten;

namespace EventSourced.Application.Orders;

public static class OrderLookup
{
    /// <summary>The order a study-addressed command acts on, from the study's order register in the session's tenant.</summary>
    public static async Task<Guid?> CurrentOrderForStudy(IQuerySession session, string studyInstanceUid, CancellationToken cancellation)
    {
        var register = await session.Events.AggregateStreamAsync<StudyOrderRegister>(
            StudyOrderRegister.StreamId(session.TenantId, studyInstanceUid), token: cancellation);
        return register?.CurrentOrderId;
    }
}

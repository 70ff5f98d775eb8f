using EventSourced.Application.Ingestion.StoringInstances;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Studies;
using JasperFx.Events;
using Marten;

namespace EventSourced.Application.Orders.RecordingImages;

/// <summary>
/// Recorded by <see cref="StoreInstancesHandler"/> in the transaction that appends the study's
/// <see cref="InstanceStored"/>/<see cref="InstanceReplaced"/> events (<see cref="InstancesArrivedForStudyHandler.RecordAsync"/>):
/// committed together or not at all, so an order is never left behind by a crash between the two. Series
/// moves cascade it as a message through the Marten outbox (it carries the tenant on its envelope).
/// </summary>
public sealed record InstancesArrivedForStudy(
    string StudyInstanceUid,
    IReadOnlyList<string> SopInstanceUids,
    IReadOnlyList<string> MetadataInHeaders,
    Actor StoredBy,
    DateTimeOffset StoredAt)
{
    /// <summary>The message for the instances a StoreInstances command appended (stored or replaced); null when it appended none.</summary>
    public static InstancesArrivedForStudy? From(StoreInstances command, IReadOnlyList<InstanceStoreResult> results, DateTimeOffset now)
    {
        var appended = command.Instances
            .Where((_, i) => results[i].Outcome is StoreOutcome.Stored or StoreOutcome.Replaced)
            .ToList();
        if (appended.Count == 0)
        {
            return null;
        }

        var names = appended.SelectMany(i => HeaderMetadata.PresentIn(i.Header)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return new InstancesArrivedForStudy(appended[0].StudyInstanceUid, [.. appended.Select(i => i.SopInstanceUid)], names, command.By, now);
    }
}

public static class InstancesArrivedForStudyHandler
{
    /// <summary>
    /// Records the arrival on the study's order register and on its active order. The register row is
    /// locked for the duration (<c>FetchForExclusiveWriting</c>): arrivals for one study are recorded
    /// one after another instead of retrying each other, and an order created concurrently for the
    /// study conflicts with the register's append and is retried, so it then starts from these images.
    /// </summary>
    public static Task Handle(InstancesArrivedForStudy message, IDocumentSession session, OrderWriteCache orders, CancellationToken cancellation) =>
        RecordAsync(message, session, orders, cancellation);

    /// <summary>
    /// The arrival recorded in <paramref name="session"/>'s transaction. <see cref="StoreInstancesHandler"/>
    /// calls it directly, after locking the study's stream (the study, then its register: no writer takes
    /// them the other way round), so a STOW commits its events and the register's in one transaction
    /// instead of a second, cascaded one. <paramref name="locked"/>: the register's stream when the caller
    /// already fetched it for exclusive writing (in the study's batch, after the study's lock).
    /// </summary>
    /// <remarks>
    /// The active order's row is locked too (after the register's, as every writer of both takes them), and the order
    /// taken as this node last left it when that is still what the log says (<see cref="OrderWriteCache"/>): each arrival
    /// appends an event to the order, so folding its whole stream cost in proportion to the requests before.
    /// </remarks>
    public static async Task RecordAsync(
        InstancesArrivedForStudy message, IDocumentSession session, OrderWriteCache orders, CancellationToken cancellation, IEventStream<StudyOrderRegister>? locked = null)
    {
        var registerId = StudyOrderRegister.StreamId(session.TenantId, message.StudyInstanceUid);
        var register = locked is { } l && l.Id == registerId
            ? l
            : await session.Events.FetchForExclusiveWriting<StudyOrderRegister>(registerId, cancellation);
        if (StudyOrderRegister.NoteImages(register.Aggregate, registerId, message.StudyInstanceUid, message.MetadataInHeaders, message.StoredAt) is { } noted)
        {
            register.AppendOne(noted);
        }

        if (register.Aggregate?.ActiveOrderId is not { } orderId)
        {
            return;
        }

        var order = await orders.FetchForWritingAsync(session, orderId, cancellation);
        if (order.Aggregate is not { } current)
        {
            return;
        }

        if (current.RecordImages(message.SopInstanceUids, message.MetadataInHeaders, message.StoredBy, message.StoredAt) is { } arrived)
        {
            order.Append(arrived);
            current = current.Apply(arrived);
        }

        order.KeepAfterCommit(orders, current);
    }
}

using EventSourced.Application.Common;
using EventSourced.Application.Ingestion;
using EventSourced.Domain.Orders;
using Microsoft.Extensions.Options;

namespace EventSourced.Application.Orders.RecordingImages;

/// <summary>
/// The order aggregates this node last recorded images on (<see cref="AggregateWriteCache{T}"/>), so that recording
/// the next arrival reads only what the order's stream gained since, not one event per earlier arrival (a study with
/// an active order sent one instance per request: docs/benchmarks.md, "A study stored instance by instance: the
/// aggregate kept between stores"). Bounded by <see cref="IngestionOptions.OrderCacheOrders"/> orders.
/// </summary>
public sealed class OrderWriteCache(IOptions<IngestionOptions> options)
    : AggregateWriteCache<Order>(() => options.Value.OrderCacheOrders, _ => 1);

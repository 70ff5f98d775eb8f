using EventSourced.Application.Common;
using EventSourced.Domain.Studies;
using Microsoft.Extensions.Options;

namespace EventSourced.Application.Ingestion.StoringInstances;

/// <summary>
/// The study aggregates this node's stores last committed (<see cref="AggregateWriteCache{T}"/>), so that the next
/// store into a study reads only what its stream gained since: a study sent one instance per request no longer costs
/// in proportion to what it already holds (docs/benchmarks.md, "A study stored instance by instance: the aggregate
/// kept between stores"). Bounded by <see cref="IngestionOptions.StudyCacheInstances"/> instances in all.
/// </summary>
public sealed class StudyWriteCache(IOptions<IngestionOptions> options)
    : AggregateWriteCache<Study>(() => options.Value.StudyCacheInstances, study => study.Instances.Count);

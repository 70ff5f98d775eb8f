using EventSourced.Projections.Qido;
using Marten;

namespace EventSourced.Web.Pacs;

/// <summary>The series a document e request names, on the QIDO records (deprecated content is not found).</summary>
public static class PacsSeriesLookup
{
    public sealed record SeriesKey(string Study, string Series);

    public static async Task<IReadOnlyList<SeriesKey>> BySeriesUidAsync(IQuerySession session, string seriesUid, CancellationToken cancellation) =>
        (await session.Query<QidoSeries>().Where(x => x.SeriesInstanceUid == seriesUid)
            .Select(x => new SeriesKey(x.StudyInstanceUid, x.SeriesInstanceUid)).ToListAsync(cancellation)).Distinct().ToList();

    /// <summary>Container Identifier (0040,0512) of any stored instance, in the QIDO instance records' headers.</summary>
    public static async Task<IReadOnlyList<SeriesKey>> ByContainerAsync(IQuerySession session, string container, CancellationToken cancellation) =>
        (await WithContainer(session, container)
            .Select(x => new SeriesKey(x.StudyInstanceUid, x.SeriesInstanceUid))
            .ToListAsync(cancellation)).Distinct().ToList();

    /// <summary>
    /// The visible instances whose Container Identifier (0040,0512) is <paramref name="container"/> (a deprecated instance
    /// is not one): the records' column under its partial index, so the lookup does not grow with the archive.
    /// </summary>
    public static IQueryable<QidoInstance> WithContainer(IQuerySession session, string container)
    {
        var wanted = container.Trim(); // LO: leading and trailing spaces are not significant (PS3.5 6.2), the column is trimmed
        return session.Query<QidoInstance>().Where(x => x.ContainerIdentifier == wanted);
    }
}

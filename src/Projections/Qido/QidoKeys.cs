using EventSourced.Domain.Common;

namespace EventSourced.Projections.Qido;

/// <summary>Document ids of the series and instance read models: name-based on the tenant-scoped study stream id.</summary>
public static class QidoKeys
{
    public static Guid Series(Guid studyStreamId, string seriesInstanceUid) =>
        DeterministicGuid.Create(studyStreamId, "series\n" + seriesInstanceUid);

    public static Guid Instance(Guid studyStreamId, string sopInstanceUid) =>
        DeterministicGuid.Create(studyStreamId, "instance\n" + sopInstanceUid);
}

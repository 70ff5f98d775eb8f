using EventSourced.Projections.Qido;
using Marten;

namespace EventSourced.Projections.Studies;

/// <summary>
/// Where an instance's bytes are, as retrieval (WADO-RS and the dialects' downloads) needs it: not a document of its
/// own but the location columns of the instance's <see cref="QidoInstance"/> row (duplicated columns, so a retrieval
/// never reads or decompresses the row's header), read by <see cref="InstanceLocations"/>.
/// </summary>
public sealed record InstanceLocation
{
    /// <summary>The SOP Instance UID.</summary>
    public string Id { get; init; } = "";
    public string StudyInstanceUid { get; init; } = "";
    public string SeriesInstanceUid { get; init; } = "";
    public string SopClassUid { get; init; } = "";
    public string TransferSyntaxUid { get; init; } = "";
    public string Sha256 { get; init; } = "";
    public long Length { get; init; }

    /// <summary>Instance Number (0020,0013), for a stable retrieval order within a series; null when absent or not a number.</summary>
    public long? InstanceNumber { get; init; }

    public DateTimeOffset StoredAt { get; init; }
}

/// <summary>
/// The locations of the instance records of the session's tenant, each a <see cref="QidoInstance"/> row's columns: by
/// study (and series) in the order of the QIDO order index, by study and SOP Instance UID, or by SOP Instance UID alone.
/// One record per study and SOP Instance UID: an instance stored in two studies of a tenant is found in each of them.
/// </summary>
public static class InstanceLocations
{
    /// <summary>
    /// The row's location columns, as a JSON object of <see cref="InstanceLocation"/>'s members (the header is not read);
    /// <c>json</c>, written out as text as it is built, not a <c>jsonb</c> built and then written out.
    /// </summary>
    public const string Columns =
        "json_build_object('Id', sop_instance_uid, 'StudyInstanceUid', study_instance_uid, 'SeriesInstanceUid', series_instance_uid, " +
        "'SopClassUid', sop_class_uid, 'TransferSyntaxUid', transfer_syntax_uid, 'Sha256', blob_sha256, 'Length', blob_length, " +
        "'InstanceNumber', instance_number, 'StoredAt', stored_at)";

    /// <summary>The order of the QIDO order index within a study: series, instance number, SOP Instance UID.</summary>
    private const string Order = "order by series_instance_uid, instance_number, sop_instance_uid";

    /// <summary>The instances of <paramref name="study"/> (of one of its series when <paramref name="series"/> is given), in retrieval order.</summary>
    public static Task<IReadOnlyList<InstanceLocation>> InStudyAsync(IQuerySession session, string study, string? series, CancellationToken cancellation) =>
        series is null
            ? QueryAsync(session, $"study_instance_uid = ? {Order}", cancellation, study)
            : QueryAsync(session, $"study_instance_uid = ? and series_instance_uid = ? {Order}", cancellation, study, series);

    /// <summary>The instances of <paramref name="study"/> among <paramref name="sopInstanceUids"/>, in retrieval order.</summary>
    public static Task<IReadOnlyList<InstanceLocation>> AmongAsync(IQuerySession session, string study, string[] sopInstanceUids, CancellationToken cancellation) =>
        QueryAsync(session, $"sop_instance_uid = any(?) and study_instance_uid = ? {Order}", cancellation, sopInstanceUids, study);

    /// <summary>The instance <paramref name="sopInstanceUid"/> of series <paramref name="series"/> of study <paramref name="study"/>, or null.</summary>
    public static async Task<InstanceLocation?> OfAsync(IQuerySession session, string study, string series, string sopInstanceUid, CancellationToken cancellation) =>
        (await QueryAsync(session, "sop_instance_uid = ? and study_instance_uid = ? and series_instance_uid = ?", cancellation, sopInstanceUid, study, series))
        .FirstOrDefault();

    /// <summary>
    /// An instance by its SOP Instance UID alone (a dialect that names nothing else): of the studies of the tenant that
    /// hold it, the one that stored it first.
    /// </summary>
    public static async Task<InstanceLocation?> BySopInstanceUidAsync(IQuerySession session, string sopInstanceUid, CancellationToken cancellation) =>
        (await QueryAsync(session, "sop_instance_uid = ? order by stored_at, study_instance_uid limit 1", cancellation, sopInstanceUid)).FirstOrDefault();

    /// <summary>The first instance of a series (by instance number, then SOP Instance UID), or null.</summary>
    public static async Task<InstanceLocation?> FirstOfSeriesAsync(IQuerySession session, string series, CancellationToken cancellation) =>
        (await QueryAsync(session, "series_instance_uid = ? order by instance_number, sop_instance_uid limit 1", cancellation, series)).FirstOrDefault();

    /// <summary>The instance records' table of <paramref name="store"/> (the live schema's).</summary>
    public static string Table(IDocumentStore store) => store.Options.FindOrResolveDocumentType(typeof(QidoInstance)).TableName.QualifiedName;

    /// <summary>
    /// Read as JSON text and deserialised here: asked for as <see cref="InstanceLocation"/>, Marten would take the type
    /// (it has an Id) for a document and create a table for it.
    /// </summary>
    private static async Task<IReadOnlyList<InstanceLocation>> QueryAsync(IQuerySession session, string condition, CancellationToken cancellation, params object[] parameters) =>
        [.. (await session.AdvancedSql.QueryAsync<string>(
                $"select {Columns}::text from {Table(session.DocumentStore)} where tenant_id = ? and {condition}", cancellation, [session.TenantId, .. parameters]))
            .Select(json => System.Text.Json.JsonSerializer.Deserialize<InstanceLocation>(json)!)];
}

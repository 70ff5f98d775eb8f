using System.Text.Json;
using EventSourced.Application.Blobs;
using EventSourced.Dicom;
using EventSourced.Domain.Patients;
using EventSourced.Projections.Qido;
using EventSourced.Projections.Studies;
using Marten;
using Marten.Linq.MatchesSql;
using Marten.Services.BatchQuerying;

namespace EventSourced.Web.Shared.Retrieval;

/// <summary>
/// Attribute coercion at retrieval (PS3.4 §B.4.1.3 / C.4.3.1.3): the stored bytes stay as received; an
/// instance of a study whose patient was corrected (update, merge, move) is served with the study's
/// current patient attributes, and an instance whose series joined another study (reconcile, swap) with
/// that study's identity and patient — in its DICOM JSON (QIDO, WADO-RS metadata) and in the DICOM file served
/// (WADO-RS, documents c and d). Instances of uncorrected studies are served byte for byte, unparsed.
/// </summary>
public sealed class CoercedRetrieval
{
    private readonly IBlobStore? _blobs;
    private readonly IReadOnlyDictionary<string, QidoStudy> _corrected;

    private CoercedRetrieval(IBlobStore? blobs, IReadOnlyDictionary<string, QidoStudy> corrected)
    {
        _blobs = blobs;
        _corrected = corrected;
    }

    /// <summary>The corrections in force for <paramref name="studyUids"/> (one indexed query).</summary>
    public static async Task<CoercedRetrieval> ForStudiesAsync(IQuerySession session, IBlobStore? blobs, IEnumerable<string> studyUids, CancellationToken cancellation) =>
        From(blobs, await StudiesAsync(session, studyUids, patientCorrectedOnly: false, cancellation));

    /// <summary>
    /// The patient corrections in force for <paramref name="studyUids"/>, for <see cref="Header"/> only (a search's
    /// answers): only the records of studies a correction filed under another patient are read, so an answer of
    /// uncorrected studies reads no record. Not for serving files: series moves (<see cref="Coerces"/>) are left out.
    /// </summary>
    public static async Task<CoercedRetrieval> ForHeadersAsync(IQuerySession session, IEnumerable<string> studyUids, CancellationToken cancellation) =>
        From(null, await StudiesAsync(session, studyUids, patientCorrectedOnly: true, cancellation));

    /// <summary>
    /// The records of <paramref name="studyUids"/> (one indexed statement); only those filed under another patient when
    /// <paramref name="patientCorrectedOnly"/>. Written as SQL on the records' columns (<see cref="Qido.QidoRows"/>), not
    /// as a LINQ query: Marten parsed and translated that query again on every search of instances, about a quarter of
    /// the service's CPU for a series' instances (docs/benchmarks.md, "QIDO pages: the attributes copied as the database
    /// sent them").
    /// </summary>
    private static async Task<IReadOnlyCollection<QidoStudy>> StudiesAsync(IQuerySession session, IEnumerable<string> studyUids, bool patientCorrectedOnly, CancellationToken cancellation)
    {
        var uids = studyUids.Distinct(StringComparer.Ordinal).ToArray();
        if (uids.Length == 0)
        {
            return [];
        }

        var sql = $"select d.data from {new Qido.QidoSql(session.DocumentStore).StudyTable} as d where {Qido.QidoRows.Where("d.study_instance_uid = any(?)")}"
            + (patientCorrectedOnly ? $" and jsonb_typeof(d.data -> '{nameof(QidoStudy.AssignedPatient)}') = 'object'" : "");
        var serializer = session.DocumentStore.Options.Serializer();
        return await Qido.QidoRows.ReadAsync(session, sql, reader => serializer.FromJson<QidoStudy>(reader, 0), cancellation, session.TenantId, uids);
    }

    /// <summary>
    /// Queues the study record of <paramref name="studyUid"/> on <paramref name="batch"/> by its key (the study
    /// stream's id, computed from tenant and UID), so a retrieval reads its documents and the corrections in
    /// force in one round trip. Finish with <see cref="ForStudyAsync"/> once the batch has run.
    /// </summary>
    public static Task<QidoStudy?> QueueStudy(IBatchedQuery batch, string tenantId, string studyUid) =>
        batch.Load<QidoStudy>(Domain.Studies.Study.StreamId(tenantId, studyUid));

    /// <summary>
    /// The corrections in force for one study from its record queued by <see cref="QueueStudy"/>. A study
    /// record not found under the computed key (or under it with another UID) is looked up by its UID,
    /// so the answer never depends on how the record was keyed.
    /// </summary>
    public static async Task<CoercedRetrieval> ForStudyAsync(IQuerySession session, IBlobStore? blobs, string studyUid, Task<QidoStudy?> queued, CancellationToken cancellation) =>
        await queued is { } study && study.StudyInstanceUid == studyUid
            ? From(blobs, [study])
            : await ForStudiesAsync(session, blobs, [studyUid], cancellation);

    /// <summary>
    /// The corrections in force for one study as of <paramref name="stamp"/> (its stream's state, read in the
    /// request's round trip before anything else): kept in <paramref name="cache"/> from an earlier request at the
    /// same state, else read from its record (one more round trip) and kept.
    /// </summary>
    /// <param name="queued">The study's record queued by <see cref="QueueStudy"/> on the round trip that read
    /// <paramref name="stamp"/> (after it), when <see cref="Kept"/> said nothing was kept; else null.</param>
    /// <param name="store">Opens a session of <paramref name="tenantId"/> only when nothing is kept.</param>
    public static async Task<CoercedRetrieval> ForStudyAsync(
        IDocumentStore store, string tenantId, IBlobStore? blobs, StudyRetrievalCache cache, string studyUid, StudyStamp? stamp, Task<QidoStudy?>? queued, CancellationToken cancellation)
    {
        var key = new CorrectionsKey(tenantId, studyUid);
        if (!cache.TryGet<Corrections>(key, stamp, out var known))
        {
            // The record read in the request's round trip, found under its key with this UID, is all that is needed:
            // no session. Else (not queued, not found, another UID) it is read, or looked up by UID, through Marten.
            var read = queued is not null && await queued is { } record && record.StudyInstanceUid == studyUid
                ? From(blobs, [record])
                : await ReadAsync();
            known = new Corrections(read._corrected.GetValueOrDefault(studyUid));
            cache.Set(key, stamp, known, 512 + (known.Study?.RefiledFrom.Count ?? 0) * 160 + (known.Study?.Attributes.ValueKind == JsonValueKind.Object ? known.Study.Attributes.GetRawText().Length * 2 : 0));
        }

        return From(blobs, known.Study is null ? [] : [known.Study]);

        async Task<CoercedRetrieval> ReadAsync()
        {
            await using var session = store.QuerySession(tenantId);
            return await ForStudyAsync(session, blobs, studyUid,
                queued ?? session.LoadAsync<QidoStudy>(Domain.Studies.Study.StreamId(tenantId, studyUid), cancellation), cancellation);
        }
    }

    /// <summary>Whether corrections of the study are kept at some stamp (the next retrieval most likely needs no record read).</summary>
    public static bool Kept(StudyRetrievalCache cache, string tenantId, string studyUid) => cache.Holds(new CorrectionsKey(tenantId, studyUid));

    private sealed record CorrectionsKey(string TenantId, string StudyUid);

    /// <summary>The study's record when it is corrected (an assigned patient, refiled series); null when it is served as stored.</summary>
    private sealed record Corrections(QidoStudy? Study);

    private static CoercedRetrieval From(IBlobStore? blobs, IReadOnlyCollection<QidoStudy> studies) =>
        new(blobs, studies.Count == 0 || !studies.Any(Corrected) ? Uncorrected
            : studies.Where(Corrected).ToDictionary(s => s.StudyInstanceUid, StringComparer.Ordinal));

    private static bool Corrected(QidoStudy study) => study.AssignedPatient is not null || study.RefiledFrom.Count > 0;

    /// <summary>No study corrected: shared by every answer that serves its instances as stored.</summary>
    private static readonly IReadOnlyDictionary<string, QidoStudy> Uncorrected = System.Collections.Frozen.FrozenDictionary<string, QidoStudy>.Empty;

    public PatientDemographics? PatientOf(string studyUid) => _corrected.GetValueOrDefault(studyUid)?.AssignedPatient;

    /// <summary>Whether the instance is served other than as stored: its study's patient was corrected, or its series joined the study from another.</summary>
    public bool Coerces(InstanceLocation location) =>
        _corrected.TryGetValue(location.StudyInstanceUid, out var study) && (study.AssignedPatient is not null || study.RefiledFrom.ContainsKey(location.Id));

    public JsonElement Header(string studyUid, JsonElement header) =>
        PatientOf(studyUid) is { } patient ? PatientHeaders.Coerce(header, patient) : header;

    /// <summary>A QIDO-RS result's header (<see cref="Header(string, JsonElement)"/>): as stored unless its study's patient was corrected.</summary>
    public Qido.StoredAttributes Header(string studyUid, Qido.StoredAttributes header) =>
        PatientOf(studyUid) is { } patient ? Qido.StoredAttributes.FromElement(PatientHeaders.Coerce(header.ToElement(), patient)) : header;

    /// <summary>The file to serve and its length: the blob itself, or a coerced copy (built in memory).</summary>
    public async Task<(Stream Content, long Length)> OpenAsync(InstanceLocation location, CancellationToken cancellation)
    {
        var blob = (_blobs ?? throw new InvalidOperationException("No blob store given.")).OpenRead(location.Sha256)
            ?? throw new InvalidOperationException($"Blob {location.Sha256} of instance {location.Id} is missing.");
        if (!Coerces(location))
        {
            return (blob, location.Length);
        }

        var bytes = new MemoryStream(checked((int)location.Length));
        await using (blob)
        {
            await blob.CopyToAsync(bytes, cancellation);
        }

        var study = _corrected[location.StudyInstanceUid];
        var file = bytes.GetBuffer().AsMemory(0, (int)bytes.Length);
        var coerced = study.RefiledFrom.ContainsKey(location.Id) ? CoerceIdentity(file, study.Attributes) : Coerce(file, study.AssignedPatient!);
        return (new MemoryStream(coerced, writable: false), coerced.Length);
    }

    /// <summary>The file to serve, as bytes.</summary>
    public async Task<byte[]> ReadAllAsync(InstanceLocation location, CancellationToken cancellation)
    {
        var (content, _) = await OpenAsync(location, cancellation);
        await using (content)
        {
            var buffer = new MemoryStream();
            await content.CopyToAsync(buffer, cancellation);
            return buffer.ToArray();
        }
    }

    /// <summary>The file with its patient attributes replaced (absent values removed), in its own transfer syntax.</summary>
    public static byte[] Coerce(ReadOnlyMemory<byte> file, PatientDemographics patient)
    {
        var dicom = DicomReader.Read(file);
        var dataset = dicom.Dataset;
        Set(dataset, DicomTags.PatientName, DicomVR.PN, patient.PatientName);
        Set(dataset, DicomTags.PatientID, DicomVR.LO, patient.PatientId);
        Set(dataset, DicomTags.IssuerOfPatientID, DicomVR.LO, patient.IssuerOfPatientId);
        Set(dataset, DicomTags.PatientBirthDate, DicomVR.DA, patient.PatientBirthDate);
        Set(dataset, DicomTags.PatientSex, DicomVR.CS, patient.PatientSex);
        return DicomWriter.ToBytes(dicom);
    }

    /// <summary>
    /// The file of an instance whose series joined another study: its study and patient identity
    /// (SeriesRefiling.IdentityTags) replaced by the study's as QIDO shows it (<paramref name="study"/>:
    /// the study's attributes, its current patient laid over them; absent values removed).
    /// </summary>
    public static byte[] CoerceIdentity(ReadOnlyMemory<byte> file, JsonElement study)
    {
        var dicom = DicomReader.Read(file);
        foreach (var (tag, vr) in Domain.Studies.SeriesRefiling.IdentityTags)
        {
            Set(dicom.Dataset, new DicomTag(uint.Parse(tag, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture)),
                Enum.Parse<DicomVR>(vr), Domain.Studies.SeriesRefiling.Value(study, tag));
        }

        return DicomWriter.ToBytes(dicom);
    }

    private static void Set(DicomDataset dataset, DicomTag tag, DicomVR vr, string? value)
    {
        if (value is null)
        {
            dataset.Remove(tag);
        }
        else
        {
            dataset.AddString(tag, vr, value);
        }
    }
}

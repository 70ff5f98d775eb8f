using EventSourced.Application.Blobs;
using EventSourced.Application.Common;
using EventSourced.Application.Ingestion;
using EventSourced.Application.Ingestion.ReceivingInstances;
using EventSourced.Dicom;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Reports;
using EventSourced.Domain.Studies;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventSourced.Application.Patients.ErasingPatient;

/// <summary>
/// A patient's request to be forgotten. <see cref="OrderIds"/>: the orders of the patient (the caller
/// looks them up by PatientID and by the patient's studies), whose details are erased too.
/// </summary>
public sealed record ErasePatient(PatientKey Patient, string? Reason, Actor By)
{
    public IReadOnlyList<Guid> OrderIds { get; init; } = [];
}

/// <summary>What was erased (counts and identifiers, never an erased value).</summary>
public sealed record PatientErasedResponse(Guid ErasureId, IReadOnlyList<string> StudyInstanceUids, IReadOnlyList<Guid> OrderIds, int InstancesRewritten, DateTimeOffset ErasedAt);

public static class ErasePatientHandler
{
    /// <remarks>
    /// Order of the steps, so that a failure at any point leaves nothing unreachable and a repeated request
    /// finishes the work: (1) each instance's bytes are rewritten into a new blob, durable before an event
    /// names it; (2) Marten masks the stored events of every stream of the patient (its own, its studies',
    /// its orders', its corrections'), in its own transaction; (3) <see cref="InstanceErased"/>,
    /// <see cref="OrderPatientErased"/> and <see cref="PatientErased"/> are committed (the inline read
    /// models drop the values in that transaction; the asynchronous study feed, seeing them after the
    /// masked events, rewrites its earlier entries); (4) the old blobs (every blob the studies' events named,
    /// but the rewritten ones) are deleted unless another stream, of any tenant, names the same bytes: a
    /// study a series moved to, say (the events of patients erased earlier, up to their erasure, do not count). The study streams stay locked from (1) to (3), so no instance
    /// is stored in between. A failure before (3) leaves the old blobs and the read models as they were,
    /// with the events masked: the request is repeated. A request for an erased patient repeats (2) and (4).
    /// </remarks>
    public static async Task<CommandResult<PatientErasedResponse>> Handle(
        ErasePatient command, IDocumentSession session, IBlobStore blobs, IOptions<IngestionOptions> ingestion, NpgsqlDataSource database, TimeProvider clock, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var streams = new PatientStreams(session, cancellation);
        var patientStreamId = streams.IdOf(command.Patient);
        var stream = await streams.LockAsync(patientStreamId);
        if (stream?.Aggregate is not { } patient)
        {
            return CommandResult<PatientErasedResponse>.Reject(Rejection.NotFound($"No patient found with PatientID '{command.Patient.PatientId}'."));
        }

        var erasureId = patient.ErasureId ?? Guid.CreateVersion7(now);
        var history = await session.Events.FetchStreamAsync(patientStreamId, token: cancellation);
        var studies = history.Select(e => e.Data).OfType<PatientStudyLinked>().Select(l => l.StudyInstanceUid)
            .Concat(patient.Studies).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var corrections = history.Select(e => e.Data switch
        {
            PatientStudyLinked l => l.CorrectionId,
            PatientStudyUnlinked u => u.CorrectionId,
            PatientMerged m => m.CorrectionId,
            PatientMergeUndone u => u.CorrectionId,
            _ => null,
        }).OfType<Guid>().Distinct().ToList();

        var oldBlobs = new HashSet<string>(StringComparer.Ordinal);
        var rewritten = 0;
        foreach (var uid in studies)
        {
            var study = await session.Events.FetchForExclusiveWriting<Study>(Study.StreamId(session.TenantId, uid), cancellation);
            if (study.Aggregate is null)
            {
                continue;
            }

            var (current, named) = await CurrentInstancesAsync(session, study.Id, cancellation);
            oldBlobs.UnionWith(named);
            foreach (var (instance, refiled) in current)
            {
                if (await RewriteAsync(blobs, instance, refiled, ingestion.Value.HeaderBulkDataThreshold, cancellation) is not { } erased)
                {
                    continue;
                }

                var archives = study.Aggregate.Archives.Where(a => a.Value.SopInstanceUids.Contains(instance.SopInstanceUid))
                    .Select(a => a.Key.Split('\n')).Select(k => new ArchivePlacement(k[0], k[1])).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
                study.AppendOne(new InstanceErased(study.Id, erased, instance.Blob.Sha256, archives, erasureId, command.By, now));
                oldBlobs.Add(instance.Blob.Sha256);
                rewritten++;
            }
        }

        var orders = new List<Guid>();
        foreach (var orderId in command.OrderIds.Distinct())
        {
            // Locked, as the studies are, before the erasure epoch moves (AggregateWriteCache).
            var order = await session.Events.FetchForExclusiveWriting<Order>(orderId, cancellation);
            if (order.Aggregate is not null)
            {
                order.AppendOne(new OrderPatientErased(orderId, erasureId, command.By, now));
                orders.Add(orderId);
                var reports = (await session.Events.FetchStreamAsync(orderId, token: cancellation)).Select(e => e.Data).OfType<ReportDelivered>().ToList();
                if (reports.Count > 0 && patient.ErasureId is null)
                {
                    order.AppendOne(new ReportContentErased(
                        orderId, [.. reports.Select(r => r.ReportId)], [.. reports.Select(r => r.ReportType).Distinct().Order(StringComparer.Ordinal)], erasureId, command.By, now));
                }

                oldBlobs.UnionWith(reports.Select(r => r.Content.Blob.Sha256));
            }
        }

        if (patient.ErasureId is null)
        {
            stream.AppendOne(new PatientErased(patientStreamId, erasureId, studies, orders, rewritten, command.Reason, command.By, now));
        }

        // The patient, its studies and its orders are locked: no command folds their events until this commits. The epoch
        // moves before the events are masked, so no node takes an aggregate it folded before for current (AggregateWriteCache).
        await Common.ErasureEpoch.AdvanceAsync(database, session, cancellation);

        var tenant = session.TenantId;
        var masked = new List<Guid> { patientStreamId };
        masked.AddRange(studies.Select(uid => Study.StreamId(tenant, uid)));
        masked.AddRange(orders);
        masked.AddRange(corrections);
        await session.DocumentStore.Advanced.ApplyEventDataMasking(x =>
        {
            x.ForTenant(tenant);
            foreach (var id in masked)
            {
                x.IncludeStream(id);
            }

            x.AddHeader("erasure", erasureId.ToString());
        }, cancellation);
        await session.SaveChangesAsync(cancellation);

        // The events of patients erased earlier, up to their erasure, name bytes only their since-rewritten or departed instances had.
        var erasureEvents = await session.Events.QueryAllRawEvents()
            .Where(e => e.EventTypeName == "patient_erased" || e.EventTypeName == "instance_erased").ToListAsync(cancellation);
        var lastEventOf = erasureEvents
            .GroupBy(e => e.Data switch { PatientErased p => p.ErasureId, InstanceErased i => i.ErasureId, _ => Guid.Empty })
            .ToDictionary(g => g.Key, g => g.Max(e => e.Sequence));
        var erasedEarlier = erasureEvents.Select(e => e.Data).OfType<PatientErased>().Where(p => p.ErasureId != erasureId)
            .SelectMany(p => p.StudyInstanceUids.Select(uid => (Stream: Study.StreamId(tenant, uid), Sequence: lastEventOf[p.ErasureId])))
            .ToList();
        foreach (var sha in await StillNamedAsync(session, database, tenant, masked, erasedEarlier, oldBlobs, cancellation))
        {
            oldBlobs.Remove(sha);
        }

        foreach (var sha in oldBlobs)
        {
            blobs.Delete(sha);
        }

        return CommandResult<PatientErasedResponse>.Ok(new(erasureId, studies, orders, rewritten, now));
    }

    /// <summary>
    /// Each SOP instance filed under the study now, with its latest form (stored, replaced, restored, arrived by
    /// a series move, or already erased): what the study received and kept, and what series moves brought in
    /// (<c>Refiled</c>: shown with the study's identity, not the one its bytes carry). Instances whose series
    /// left for another study are no longer the patient's: that study's patient holds them.
    /// </summary>
    /// <c>Named</c>: every blob the stream's events gave an instance before this erasure (a departed series' too).
    private static async Task<(IReadOnlyCollection<(StoredInstance Instance, bool Refiled)> Current, IReadOnlySet<string> Named)> CurrentInstancesAsync(
        IDocumentSession session, Guid studyStreamId, CancellationToken cancellation)
    {
        var current = new Dictionary<string, (StoredInstance Instance, bool Erased, bool Refiled)>(StringComparer.Ordinal);
        var named = new HashSet<string>(StringComparer.Ordinal);
        var events = await session.Events.FetchStreamAsync(studyStreamId, token: cancellation);
        foreach (var data in InstancesStored.Unbatched(events.Select(e => e.Data)))
        {
            switch (data)
            {
                case InstanceStored s:
                    named.Add(s.Instance.Blob.Sha256);
                    current[s.Instance.SopInstanceUid] = (s.Instance, false, false);
                    break;
                case InstanceReplaced r:
                    named.Add(r.Instance.Blob.Sha256);
                    named.Add(r.PreviousSha256);
                    current[r.Instance.SopInstanceUid] = (r.Instance, false, false);
                    break;
                case InstanceErased x:
                    current[x.Instance.SopInstanceUid] = current.TryGetValue(x.Instance.SopInstanceUid, out var before) ? before with { Instance = x.Instance, Erased = true } : (x.Instance, true, false);
                    break;
                case SeriesRefiledIn moved:
                    foreach (var arrived in moved.Arrived)
                    {
                        named.Add(arrived.Instance.Blob.Sha256);
                        current[arrived.Instance.SopInstanceUid] = (arrived.Instance, false, arrived.ReceivedStudyInstanceUid != moved.StudyInstanceUid);
                    }

                    break;
                case SeriesRefiledOut moved:
                    foreach (var departed in moved.Departed)
                    {
                        current.Remove(departed.SopInstanceUid);
                    }

                    break;
                case StudyDeprecationRevoked revoked:
                    Restore(revoked.Restored);
                    break;
                case DeletedContentRestored restored:
                    Restore(restored.Restored);
                    break;
            }
        }

        named.ExceptWith(current.Values.Where(v => v.Erased).Select(v => v.Instance.Blob.Sha256));
        return ([.. current.Values.Where(v => !v.Erased).Select(v => (v.Instance, v.Refiled))], named);

        void Restore(IEnumerable<InstanceStored> restored)
        {
            foreach (var back in restored)
            {
                named.Add(back.Instance.Blob.Sha256);
                current[back.Instance.SopInstanceUid] = current.TryGetValue(back.Instance.SopInstanceUid, out var before)
                    ? before with { Instance = back.Instance, Erased = before.Erased && before.Instance.Blob.Sha256 == back.Instance.Blob.Sha256 }
                    : (back.Instance, false, false);
            }
        }
    }

    /// <summary>The instance rewritten into a new blob, or null when its bytes are gone (nothing to rewrite).</summary>
    /// <remarks>
    /// An instance that joined the study by a series move keeps the study's identity in its header (its bytes
    /// carry the study they were received in; retrieval coerces them), with the patient's values erased.
    /// </remarks>
    private static async Task<StoredInstance?> RewriteAsync(IBlobStore blobs, StoredInstance instance, bool refiled, int bulkDataThreshold, CancellationToken cancellation)
    {
        var source = blobs.OpenRead(instance.Blob.Sha256);
        if (source is null)
        {
            return null;
        }

        var bytes = new MemoryStream();
        await using (source)
        {
            await source.CopyToAsync(bytes, cancellation);
        }

        var rewritten = BasicProfileRewriter.Rewrite(bytes.GetBuffer().AsMemory(0, (int)bytes.Length));
        await using var write = blobs.BeginWrite();
        DicomWriter.Write(write.Content, rewritten);
        var blob = await write.CommitAsync(cancellation);
        var station = rewritten.Dataset.GetString(DicomTags.StationName)?.Trim();
        var header = InstanceReceiver.HeaderJson(rewritten.Dataset, bulkDataThreshold);
        return instance with
        {
            Header = refiled ? SeriesRefiling.Rewrite(header, SeriesRefiling.IdentityOf(instance.WithPersonalDataErased().Header)) : header,
            Blob = new BlobRef(blob.Sha256, blob.Sha1, blob.Length),
            StationName = string.IsNullOrEmpty(station) ? null : station,
        };
    }

    /// <summary>
    /// Old blobs some event outside the erased streams still names (the same bytes stored by another tenant or
    /// study, or shown by the study a series moved to), not counting the events of earlier erasures' studies up to that erasure.
    /// </summary>
    private static async Task<List<string>> StillNamedAsync(
        IDocumentSession session, NpgsqlDataSource database, string tenant, List<Guid> erasedStreams, List<(Guid Stream, long Sequence)> erasedEarlier, HashSet<string> shas, CancellationToken cancellation)
    {
        if (shas.Count == 0)
        {
            return [];
        }

        await using var command = database.CreateCommand(StillNamedSql($"\"{session.DocumentStore.Options.Events.DatabaseSchemaName}\".mt_events"));
        command.Parameters.AddWithValue("shas", shas.ToArray());
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("streams", erasedStreams.ToArray());
        command.Parameters.AddWithValue("earlier_streams", erasedEarlier.Select(e => e.Stream).ToArray());
        command.Parameters.AddWithValue("earlier_seqs", erasedEarlier.Select(e => e.Sequence).ToArray());
        var named = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            named.Add(reader.GetString(0));
        }

        return named;
    }

    /// <summary>
    /// <see cref="StillNamedAsync"/>'s statement over the event table <paramref name="events"/> (parameters <c>@shas</c>,
    /// <c>@tenant</c>, <c>@streams</c>, <c>@earlier_streams</c>, <c>@earlier_seqs</c>): per hash, the events naming it
    /// (<see cref="EventBlobNames"/>, through its index), less the erased streams' and earlier erasures'.
    /// </summary>
    public static string StillNamedSql(string events) =>
        $"select s from unnest(@shas) as s where exists (select 1 from {events} e " +
        $"where {EventBlobNames.Names("e", "s")} and not (e.tenant_id = @tenant and e.stream_id = any(@streams)) " +
        "and not exists (select 1 from unnest(@earlier_streams, @earlier_seqs) as b(stream, seq) where e.tenant_id = @tenant and e.stream_id = b.stream and e.seq_id <= b.seq))";
}

using System.Collections.Immutable;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Studies;

/// <summary>The study's deprecations: the pending one, the completed ones, and which instances are hidden now.</summary>
public sealed partial record Study
{
    /// <summary>A deprecation: its scope (a series, or the whole study when null), and once completed what it hid.</summary>
    public sealed record Deprecation(
        Guid Id,
        string? SeriesInstanceUid,
        DateTimeOffset StartedAt,
        string? RejectionKosSopInstanceUid,
        ImmutableHashSet<string> Hidden,
        bool Revoked);

    /// <summary>The deprecation started and not yet completed; a second one is refused meanwhile.</summary>
    public Deprecation? PendingDeprecation { get; init; }

    public ImmutableList<Deprecation> Deprecations { get; init; } = [];

    /// <summary>SOP Instance UIDs out of the read models now.</summary>
    public ImmutableHashSet<string> HiddenInstances { get; init; } = [];

    /// <summary>Instances every read path shows.</summary>
    public IEnumerable<KeyValuePair<string, InstanceState>> VisibleInstances =>
        Instances.Where(i => !HiddenInstances.Contains(i.Key) && !DepartedInstances.Contains(i.Key));

    public Study Apply(StudyDeprecationStarted started) => this with
    {
        PendingDeprecation = new(started.DeprecationId, started.SeriesInstanceUid, started.StartedAt, null, [], false),
    };

    public Study Apply(StudyDeprecationCompleted completed)
    {
        var hidden = completed.Hidden.Select(h => h.SopInstanceUid).ToImmutableHashSet();
        var done = (PendingDeprecation ?? new(completed.DeprecationId, null, completed.CompletedAt, null, [], false))
            with { RejectionKosSopInstanceUid = completed.RejectionKosSopInstanceUid, Hidden = hidden };
        return this with
        {
            PendingDeprecation = null,
            Deprecations = Deprecations.Add(done),
            HiddenInstances = HiddenInstances.Union(hidden),
        };
    }

    public Study Apply(StudyDeprecationRevoked revoked) => this with
    {
        Deprecations = [.. Deprecations.Select(d => d.Id == revoked.DeprecationId ? d with { Revoked = true } : d)],
        HiddenInstances = HiddenInstances
            .Except(revoked.Restored.Select(r => r.Instance.SopInstanceUid))
            .Union(revoked.Hidden.Select(h => h.SopInstanceUid)),
    };
}

/// <summary>Why a deprecation or a restore was refused; the Web maps each to its document's status.</summary>
public enum DeprecationRefusal
{
    StudyNotFound,
    SeriesNotFound,
    Pending,
    NothingToRestore,
}

public sealed record DeprecationDecision<T>(T? Event, DeprecationRefusal? Refused)
    where T : class;

/// <summary>The pure rules of deprecating and restoring a study's content.</summary>
public static class StudyDeprecations
{
    /// <summary>
    /// Start a deprecation of the study, or of one of its series. Refused when nothing of it is visible
    /// (never stored, or already deprecated), and while another deprecation of the study is pending
    /// (document e: "there was at least one ongoing deprecation for the study").
    /// </summary>
    public static DeprecationDecision<StudyDeprecationStarted> Start(
        Study? study, Guid deprecationId, string? seriesInstanceUid, string author, string reason, Actor by, DateTimeOffset now)
    {
        if (study is null || !study.VisibleInstances.Any())
        {
            return new(null, seriesInstanceUid is null ? DeprecationRefusal.StudyNotFound : DeprecationRefusal.SeriesNotFound);
        }

        if (study.PendingDeprecation is not null)
        {
            return new(null, DeprecationRefusal.Pending);
        }

        if (seriesInstanceUid is not null && !study.VisibleInstances.Any(i => i.Value.SeriesInstanceUid == seriesInstanceUid))
        {
            return new(null, DeprecationRefusal.SeriesNotFound);
        }

        return new(new StudyDeprecationStarted(study.Id, deprecationId, study.StudyInstanceUid, seriesInstanceUid, author, reason, by, now), null);
    }

    /// <summary>The visible instances a deprecation hides: its series, or the whole study.</summary>
    public static IReadOnlyList<KeyValuePair<string, Study.InstanceState>> InScope(Study study, string? seriesInstanceUid) =>
        [.. study.VisibleInstances
            .Where(i => seriesInstanceUid is null || i.Value.SeriesInstanceUid == seriesInstanceUid)
            .OrderBy(i => i.Key, StringComparer.Ordinal)];

    /// <summary>
    /// Complete the pending deprecation <paramref name="deprecationId"/> once its rejection KOS is stored
    /// (already applied to <paramref name="study"/>): hide its scope, and the KOS too when the whole study
    /// goes (a deprecated study leaves every read path; the KOS stays in the log and the study stream).
    /// Null when that deprecation is not pending (a redelivered message).
    /// </summary>
    public static StudyDeprecationCompleted? Complete(
        Study study, Guid deprecationId, string rejectionKosSopInstanceUid, IReadOnlyList<InstanceFiledInArchive> filings, DateTimeOffset now)
    {
        if (study.PendingDeprecation is not { } pending || pending.Id != deprecationId)
        {
            return null;
        }

        var hidden = InScope(study, pending.SeriesInstanceUid)
            .Where(i => pending.SeriesInstanceUid is null || i.Key != rejectionKosSopInstanceUid)
            .Select(i => new InstanceHidden(study.Id, i.Value.SeriesInstanceUid, i.Key))
            .ToList();
        var hiddenUids = hidden.Select(h => h.SopInstanceUid).ToHashSet(StringComparer.Ordinal);
        return new StudyDeprecationCompleted(study.Id, deprecationId, rejectionKosSopInstanceUid, hidden, FilingsOf(study, filings, hiddenUids), now);
    }

    /// <summary>The latest completed, not yet revoked deprecation of this scope, if any.</summary>
    public static Study.Deprecation? Restorable(Study? study, string? seriesInstanceUid) =>
        study?.Deprecations.LastOrDefault(d => !d.Revoked && d.SeriesInstanceUid == seriesInstanceUid);

    /// <summary>
    /// Restore the latest deprecation of this scope: its instances come back as last stored
    /// (<paramref name="lastStored"/>: the study's latest InstanceStored/InstanceReplaced per SOP instance,
    /// as an InstanceStored), its rejection KOS leaves the read models.
    /// </summary>
    public static DeprecationDecision<StudyDeprecationRevoked> Revoke(
        Study? study,
        string? seriesInstanceUid,
        IReadOnlyDictionary<string, InstanceStored> lastStored,
        IReadOnlyList<InstanceFiledInArchive> filings,
        string author,
        string reason,
        Actor by,
        DateTimeOffset now)
    {
        if (study is null)
        {
            return new(null, DeprecationRefusal.StudyNotFound);
        }

        if (study.PendingDeprecation is not null)
        {
            return new(null, DeprecationRefusal.Pending);
        }

        if (Restorable(study, seriesInstanceUid) is not { } deprecation)
        {
            return new(null, DeprecationRefusal.NothingToRestore);
        }

        var back = deprecation.Hidden
            .Where(uid => uid != deprecation.RejectionKosSopInstanceUid && study.HiddenInstances.Contains(uid))
            .Where(lastStored.ContainsKey)
            .Order(StringComparer.Ordinal)
            .Select(uid => lastStored[uid])
            .OrderBy(s => s.StoredAt)
            .ToList();
        var backUids = back.Select(b => b.Instance.SopInstanceUid).ToHashSet(StringComparer.Ordinal);
        var kos = deprecation.RejectionKosSopInstanceUid is { } kosUid
                  && !study.HiddenInstances.Contains(kosUid)
                  && study.Instances.TryGetValue(kosUid, out var kosState)
            ? new[] { new InstanceHidden(study.Id, kosState.SeriesInstanceUid, kosUid) }
            : [];
        var kosUids = kos.Select(k => k.SopInstanceUid).ToHashSet(StringComparer.Ordinal);
        return new(new StudyDeprecationRevoked(
            study.Id, deprecation.Id, author, reason, back,
            [.. filings.Where(f => backUids.Contains(f.SopInstanceUid))],
            kos, FilingsOf(study, filings, kosUids), by, now), null);
    }

    /// <summary>The filings of the instances being hidden, per archive; the last of an archive whose every filing is then hidden empties it.</summary>
    internal static List<ArchiveFilingHidden> FilingsOf(Study study, IReadOnlyList<InstanceFiledInArchive> filings, IReadOnlySet<string> sopInstanceUids)
    {
        var hiddenAfter = study.HiddenInstances.Union(sopInstanceUids);
        var result = new List<ArchiveFilingHidden>();
        foreach (var archive in filings.Where(f => sopInstanceUids.Contains(f.SopInstanceUid)).GroupBy(f => new ArchivePlacement(f.Project, f.Archive).Key))
        {
            var mine = archive.OrderBy(f => f.SopInstanceUid, StringComparer.Ordinal).ToList();
            var emptied = study.Archives.TryGetValue(archive.Key, out var filing) && filing.SopInstanceUids.All(hiddenAfter.Contains);
            result.AddRange(mine.Select((f, i) => new ArchiveFilingHidden(
                f.StudyStreamId, f.Project, f.Archive, f.ArchiveSeriesUid, f.SopInstanceUid, emptied && i == mine.Count - 1)));
        }

        return result;
    }
}

using EventSourced.Domain.Archive;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.Archive;

public static class ArchiveRegistration
{
    /// <summary>
    /// Document d's read models, inline (an upload is visible through /api/v1 when it returns),
    /// multi-tenanted (conjoined), with the lookups the API makes as composite indexes:
    /// patient → studies by (Project, Archive, PatientId), study → series by ArchiveStudyId; single
    /// documents are loaded by their name-based id.
    /// </summary>
    public static StoreOptions AddArchiveProjections(this StoreOptions options)
    {
        options.Projections.Add<ArchiveStudyProjection>(ProjectionLifecycle.Inline);
        options.Projections.Add<ArchiveSeriesProjection>(ProjectionLifecycle.Inline);

        // The first column of each lookup has no index of its own: the composite serves it (CompositeIndexes).
        options.DuplicateLeadingColumnOfComposite<ArchiveStudy>(nameof(ArchiveStudy.Project));
        options.DuplicateLeadingColumnOfComposite<ArchiveSeries>(nameof(ArchiveSeries.ArchiveStudyId));
        options.Schema.For<ArchiveStudy>()
            .MultiTenanted()
            .Duplicate(x => x.Archive)
            .Duplicate(x => x.PatientId)
            .Duplicate(x => x.StudyInstanceUid)
            .Index([x => x.Project, x => x.Archive, x => x.PatientId, x => x.StudyInstanceUid], index => index.Name = "mt_doc_archivestudy_idx_lookup")
            // The studies a correction moved to a patient, found by their study streams (ArchiveReader).
            .Index(x => x.StudyKey);

        options.Schema.For<ArchiveSeries>()
            .MultiTenanted()
            .Duplicate(x => x.ArchiveSeriesUid)
            .Index([x => x.ArchiveStudyId, x => x.ArchiveSeriesUid], index => index.Name = "mt_doc_archiveseries_idx_lookup");

        options.Projections.Add<ArchiveSeriesResultProjection>(ProjectionLifecycle.Inline);
        options.Projections.Add<ArchiveFormEntryProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<ArchiveSeriesResult>().MultiTenanted().Duplicate(x => x.ArchiveSeriesId);
        options.Schema.For<ArchiveFormEntry>().MultiTenanted().Duplicate(x => x.ArchiveSeriesId);

        // Erasure of personal data: the PatientID of a filing is masked like the header's.
        options.Events.AddMaskingRuleForProtectedInformation<InstanceFiledInArchive>(e => e.WithPersonalDataErased());
        options.Events.AddMaskingRuleForProtectedInformation<SeriesFormSubmitted>(e => e.WithPersonalDataErased());
        options.Events.AddEventType<InstanceFiledInArchive>();
        options.Events.AddEventType<SeriesResultRecorded>();
        options.Events.AddEventType<SeriesFormSubmitted>();
        return options;
    }
}

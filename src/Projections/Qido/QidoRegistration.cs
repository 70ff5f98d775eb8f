using EventSourced.Domain.Studies;
using JasperFx.Events.Projections;
using Marten;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace EventSourced.Projections.Qido;

public static class QidoRegistration
{
    /// <summary>The b-tree the case-folded PatientName match uses: <c>upper(d.patient_name) like upper(?)</c> and <c>= upper(?)</c>.</summary>
    public const string PatientNameUpperIndex = "mt_doc_qidostudy_idx_patient_name_upper";

    /// <summary>The trigram GIN the fuzzy PatientName match uses: <c>d.patient_name_fuzzy like '% WORD%'</c>.</summary>
    public const string PatientNameFuzzyTrigramIndex = "mt_doc_qidostudy_idx_patient_name_fuzzy_trgm";

    /// <summary>The partial index of the studies a correction assigned to a patient, by that patient's ID.</summary>
    public const string AssignedPatientIndex = "mt_doc_qidostudy_idx_assigned_patient_id";

    /// <summary>The instance record's column of its Container Identifier, its partial index, and that index's predicate.</summary>
    public const string ContainerIdentifierColumn = "container_identifier", ContainerIdentifierIndex = "mt_doc_qidoinstance_idx_container_identifier",
        ContainerIdentifierPredicate = ContainerIdentifierColumn + " is not null";

    /// <summary>The instance record's columns of its blob's SHA-256 and length (<see cref="QidoInstance.Blob"/>).</summary>
    public const string BlobSha256Column = "blob_sha256", BlobLengthColumn = "blob_length";

    /// <summary>
    /// The QIDO-RS read models, inline (read-your-writes: a study stored is visible to QIDO when its
    /// STOW response returns), multi-tenanted (conjoined). Every matchable attribute is a duplicated
    /// column with its own b-tree index, so the query module matches on plain columns
    /// (docs/dicomweb-conformance.md, "QIDO-RS"). The list-valued keys (modalities in study, station
    /// names, and the calling AE titles the PACS study count filters on) are <c>text[]</c> columns under
    /// GIN indexes: PostgreSQL keeps element statistics for arrays (it has none for jsonb containment),
    /// so it knows whether a station is on three studies or on all of them and plans the series search
    /// accordingly (docs/benchmarks.md). The document itself has no index: nothing matches on it by
    /// containment, and a GIN over every key and value of every study was half the table's bytes and
    /// an index write with every instance stored. Person names have
    /// the indexes their generated SQL can use: <c>upper(patient_name) text_pattern_ops</c> for the
    /// case-folded single value and prefix, a trigram GIN for the fuzzy word-start search. The composite
    /// indexes that give QIDO its order (study, series, instance) also serve the lookups by study alone,
    /// so the study UID has no index of its own (<see cref="CompositeIndexes"/>).
    /// </summary>
    public static StoreOptions AddQidoProjections(this StoreOptions options)
    {
        options.Projections.Add<QidoStudyProjection>(ProjectionLifecycle.Inline);
        options.Projections.Add<QidoSeriesProjection>(ProjectionLifecycle.Inline);

        // The fuzzy forms are matched with a leading wildcard (`like '% WORD%'`), which no b-tree serves:
        // the patient's has the trigram index below, the referring physician's none (a scan, as before).
        options.DuplicateWithoutIndex<QidoStudy>(nameof(QidoStudy.PatientNameFuzzy));
        options.DuplicateWithoutIndex<QidoStudy>(nameof(QidoStudy.ReferringPhysicianNameFuzzy));
        options.Schema.For<QidoStudy>()
            .MultiTenanted()
            .Duplicate(x => x.StudyInstanceUid)
            .Duplicate(x => x.PatientId)
            .Duplicate(x => x.PatientName)
            .Duplicate(x => x.PatientBirthDate)
            .Duplicate(x => x.PatientSex)
            // A date range's page is sorted on the matches' received_at and UID (QIDO study pages: keys first): covered by
            // the index, a week's 1,500 studies of a million-instance archive are sorted without a heap fetch each.
            .Duplicate(x => x.StudyDate, configure: index => index.IncludeColumns = ["tenant_id", "received_at", "study_instance_uid", "id"])
            .Duplicate(x => x.StudyTime)
            .Duplicate(x => x.AccessionNumber)
            .Duplicate(x => x.StudyId)
            .Duplicate(x => x.ReferringPhysicianName)
            .Duplicate(x => x.StudyDescription)
            .Duplicate(x => x.InstitutionName)
            .Duplicate(x => x.NumberOfStudyRelatedSeries)
            .Duplicate(x => x.NumberOfStudyRelatedInstances)
            .Duplicate(x => x.ReceivedAt)
            .Duplicate(x => x.SizeInBytes)
            .Duplicate(x => x.ModalitiesInStudy, pgType: "text[]", dbType: NpgsqlDbType.Array | NpgsqlDbType.Text, configure: index => index.Method = IndexMethod.gin)
            .Duplicate(x => x.StationNames, pgType: "text[]", dbType: NpgsqlDbType.Array | NpgsqlDbType.Text, configure: index => index.Method = IndexMethod.gin)
            .Duplicate(x => x.CallingAeTitles, pgType: "text[]", dbType: NpgsqlDbType.Array | NpgsqlDbType.Text, configure: index => index.Method = IndexMethod.gin)
            .Index(x => x.PatientName!, index =>
            {
                index.Name = PatientNameUpperIndex;
                index.Mask = "upper(?) text_pattern_ops";
            })
            .Index(x => x.PatientNameFuzzy!, index =>
            {
                index.Name = PatientNameFuzzyTrigramIndex;
                index.Method = IndexMethod.gin;
                index.Mask = "? gin_trgm_ops";
            })
            // Document d's patient reads find the studies a correction assigned to the patient (few): only those are in it.
            .Index(x => x.AssignedPatient!.PatientId, index =>
            {
                index.Name = AssignedPatientIndex;
                index.Predicate = "(data -> 'AssignedPatient' ->> 'PatientId') is not null";
            });

        // The trigram operator class of the fuzzy name index (a trusted extension: the database owner may create it).
        options.Storage.ExtendedSchemaObjects.Add(new Extension("pg_trgm"));

        // Lookups by study alone use the composites below (study, series, instance order).
        options.DuplicateLeadingColumnOfComposite<QidoSeries>(nameof(QidoSeries.StudyInstanceUid));
        options.DuplicateLeadingColumnOfComposite<QidoInstance>(nameof(QidoInstance.StudyInstanceUid));

        // Where an instance's bytes are (Studies/InstanceLocation): read with the row, by study and SOP Instance UID,
        // never searched on; columns of their own so that a retrieval never reads the row's header.
        options.DuplicateWithoutIndex<QidoInstance>(nameof(QidoInstance.TransferSyntaxUid));
        options.DuplicateWithoutIndex<QidoInstance>(nameof(QidoInstance.StoredAt));
        options.DuplicateWithoutIndex<QidoInstance>(BlobSha256Column, nameof(QidoInstance.Blob), nameof(BlobRef.Sha256));
        options.DuplicateWithoutIndex<QidoInstance>(BlobLengthColumn, nameof(QidoInstance.Blob), nameof(BlobRef.Length));
        options.Schema.For<QidoSeries>()
            .MultiTenanted()
            .Duplicate(x => x.StudyKey)
            .Duplicate(x => x.SeriesInstanceUid)
            .Duplicate(x => x.Modality)
            .Duplicate(x => x.SeriesNumber)
            .Duplicate(x => x.SeriesDescription)
            .Duplicate(x => x.PerformedProcedureStepStartDate)
            .Duplicate(x => x.PerformedProcedureStepStartTime)
            .Duplicate(x => x.NumberOfSeriesRelatedInstances)
            .Index([x => x.StudyInstanceUid, x => x.SeriesNumber!, x => x.SeriesInstanceUid], index => index.Name = "mt_doc_qidoseries_idx_qido_order");

        options.Schema.For<QidoInstance>()
            .MultiTenanted()
            .Duplicate(x => x.StudyKey)
            .Duplicate(x => x.SeriesKey)
            .Duplicate(x => x.SeriesInstanceUid)
            .Duplicate(x => x.SopInstanceUid)
            .Duplicate(x => x.SopClassUid)
            .Duplicate(x => x.InstanceNumber)
            // A slide by its barcode (document e's whole slide, deprecation and forwarding by container): only the few
            // instances that carry one are in the index.
            .Duplicate(x => x.ContainerIdentifier, configure: index =>
            {
                index.Name = ContainerIdentifierIndex;
                index.Predicate = ContainerIdentifierPredicate;
            })
            .Index([x => x.StudyInstanceUid, x => x.SeriesInstanceUid, x => x.InstanceNumber!, x => x.SopInstanceUid], index => index.Name = "mt_doc_qidoinstance_idx_qido_order")
            // One row per instance: no version or timestamp columns (24 bytes a row), nothing reads them. The
            // study and series aggregates keep theirs (Marten's projection revision is their version).
            .Metadata(m => m.DisableInformationalFields());

        return options;
    }
}

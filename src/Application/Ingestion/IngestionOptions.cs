namespace EventSourced.Application.Ingestion;

/// <summary>Configuration section <c>Ingestion</c>.</summary>
public sealed class IngestionOptions
{
    public const string Section = "Ingestion";

    /// <summary>Different bytes for a stored SOP Instance UID within this time of its previous store replace it; later they are a conflict (document b: 5 minutes).</summary>
    public TimeSpan ReplaceWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The largest single instance accepted (bytes); larger parts fail without being stored.</summary>
    public long MaxInstanceBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>The largest request body accepted by the upload endpoints (bytes).</summary>
    public long MaxRequestBytes { get; set; } = 16L * 1024 * 1024 * 1024;

    /// <summary>
    /// Document d's Project in which an instance received through any other channel (STOW-RS, document c's
    /// exams upload, document b's presigned upload) is filed, so every study is readable through every
    /// dialect. Empty (with <see cref="DefaultArchive"/>) files nothing.
    /// </summary>
    public string DefaultProject { get; set; } = "default";

    /// <summary>Document d's Archive (in <see cref="DefaultProject"/>) for instances of the other channels.</summary>
    public string DefaultArchive { get; set; } = "default";

    /// <summary>Where the other channels file, or null when the setting is empty or not a valid name.</summary>
    public Domain.Archive.ArchivePlacement? DefaultPlacement =>
        Domain.Archive.ArchivePlacement.IsValidName(DefaultProject) && Domain.Archive.ArchivePlacement.IsValidName(DefaultArchive)
            ? new Domain.Archive.ArchivePlacement(DefaultProject, DefaultArchive)
            : null;

    /// <summary>
    /// Instances the study aggregates kept for the next store into their study may hold in all
    /// (<see cref="StoringInstances.StudyWriteCache"/>; about 310 bytes each); 0 keeps none.
    /// </summary>
    public int StudyCacheInstances { get; set; } = 30_000;

    /// <summary>
    /// Studies the patient aggregates kept for filing the next new study may hold in all
    /// (<see cref="Patients.PatientWriteCache"/>; about 110 bytes each); 0 keeps none.
    /// </summary>
    public int PatientCacheStudies { get; set; } = 30_000;

    /// <summary>
    /// Orders kept for recording the next arrival of images (<see cref="Orders.RecordingImages.OrderWriteCache"/>);
    /// 0 keeps none.
    /// </summary>
    public int OrderCacheOrders { get; set; } = 10_000;

    /// <summary>Binary values longer than this are left out of the header kept in the event (bulk data excluded).</summary>
    public int HeaderBulkDataThreshold { get; set; } = 1024;
}

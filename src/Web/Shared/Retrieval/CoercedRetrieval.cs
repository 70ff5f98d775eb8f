using System.Text.Json;
using EventSourced.Application.Blobs;
using EventSourced.Dicom;
using EventSourced.Domain.Patients;
using EventSourced.Projections.Qido;
using EventSourced.Projections.Studies;
using Marten;

namespace EventSourced.Web.Shared.Retrieval;

/// <summary>
/// Attribute coercion at retrieval (PS3.4 §B.4.1.3 / C.4.3.1.3): the stored bytes stay as received; an
/// instance of a study whose patient was corrected (update, merge, move) is served with the study's
/// current patient attributes — in its DICOM JSON (QIDO, WADO-RS metadata) and in the DICOM file served
/// (WADO-RS, documents c and d). Instances of uncorrected studies are served byte for byte, unparsed.
/// </summary>
public sealed class CoercedRetrieval
{
    private readonly IBlobStore? _blobs;
    private readonly IReadOnlyDictionary<string, PatientDemographics> _assigned;

    private CoercedRetrieval(IBlobStore? blobs, IReadOnlyDictionary<string, PatientDemographics> assigned)
    {
        _blobs = blobs;
        _assigned = assigned;
    }

    /// <summary>The corrections in force for <paramref name="studyUids"/> (one indexed query).</summary>
    public static async Task<CoercedRetrieval> ForStudiesAsync(IQuerySession session, IBlobStore? blobs, IEnumerable<string> studyUids, CancellationToken cancellation)
    {
        var uids = studyUids.Distinct(StringComparer.Ordinal).ToArray();
        var studies = uids.Length == 0
            ? []
            : await session.Query<QidoStudy>().Where(x => x.StudyInstanceUid.IsOneOf(uids)).ToListAsync(cancellation);
        return new(blobs, studies.Where(s => s.AssignedPatient is not null).ToDictionary(s => s.StudyInstanceUid, s => s.AssignedPatient!, StringComparer.Ordinal));
    }

    public PatientDemographics? PatientOf(string studyUid) => _assigned.GetValueOrDefault(studyUid);

    public JsonElement Header(string studyUid, JsonElement header) =>
        PatientOf(studyUid) is { } patient ? PatientHeaders.Coerce(header, patient) : header;

    /// <summary>The file to serve and its length: the blob itself, or a coerced copy (built in memory).</summary>
    public async Task<(Stream Content, long Length)> OpenAsync(InstanceLocation location, CancellationToken cancellation)
    {
        var blob = (_blobs ?? throw new InvalidOperationException("No blob store given.")).OpenRead(location.Sha256)
            ?? throw new InvalidOperationException($"Blob {location.Sha256} of instance {location.Id} is missing.");
        if (PatientOf(location.StudyInstanceUid) is not { } patient)
        {
            return (blob, location.Length);
        }

        var bytes = new MemoryStream(checked((int)location.Length));
        await using (blob)
        {
            await blob.CopyToAsync(bytes, cancellation);
        }

        var coerced = Coerce(bytes.GetBuffer().AsMemory(0, (int)bytes.Length), patient);
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

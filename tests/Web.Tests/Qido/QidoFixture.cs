using System.Net.Http.Headers;
using EventSourced.Dicom;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Qido;

/// <summary>
/// One service and a small archive for the QIDO tests, seeded once per class: three synthetic studies
/// chosen for the matching cases, and one corpus file.
/// </summary>
public class QidoFixture : ServiceFixture, IAsyncLifetime
{
    public const string Tenant = "qido-a";

    public static readonly string Root = "1.2.826.0.1.3680043.10.543." + DateTime.UtcNow.Ticks;
    public static readonly string StudyA = Root + ".1";
    public static readonly string StudyB = Root + ".2";
    public static readonly string StudyC = Root + ".3";
    public static readonly string SeriesA1 = StudyA + ".1";
    public static readonly string SeriesA2 = StudyA + ".2";
    public static readonly string SeriesB1 = StudyB + ".1";
    public static readonly string SeriesC1 = StudyC + ".1";

    public const string CorpusStudy = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"; // CT_small.dcm

    public HttpClient Client { get; private set; } = null!;

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Client = await App.ClientForTenantAsync(Tenant, "studies.read");
        Client.DefaultRequestHeaders.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("application/dicom+json"));

        (string, DicomVR, string)[] a =
        [
            ("PatientID", DicomVR.LO, "P1"), ("PatientName", DicomVR.PN, "Müller^Jürgen"), ("PatientBirthDate", DicomVR.DA, "19700101"),
            ("PatientSex", DicomVR.CS, "M"), ("StudyDate", DicomVR.DA, "20240110"), ("StudyTime", DicomVR.TM, "101500"),
            ("AccessionNumber", DicomVR.SH, "ACC1"), ("StudyID", DicomVR.SH, "S1"), ("ReferringPhysicianName", DicomVR.PN, "Ref^Doc"),
            ("StudyDescription", DicomVR.LO, "CT HEAD"), ("InstitutionName", DicomVR.LO, "General Hospital"),
        ];
        for (var i = 1; i <= 3; i++)
        {
            await Store(QidoSupport.Synthetic(StudyA, SeriesA1, $"{SeriesA1}.{i}", [.. a, ("Modality", DicomVR.CS, "CT"), ("SeriesNumber", DicomVR.IS, "1"),
                ("SeriesDescription", DicomVR.LO, "Axial"), ("PerformedProcedureStepStartDate", DicomVR.DA, "20240110"), ("InstanceNumber", DicomVR.IS, (4 - i).ToString())]), "CT_AE");
        }

        await Store(QidoSupport.Synthetic(StudyA, SeriesA2, $"{SeriesA2}.1", [.. a, ("Modality", DicomVR.CS, "MR"), ("SeriesNumber", DicomVR.IS, "2"), ("InstanceNumber", DicomVR.IS, "1")]), "MR_AE");

        (string, DicomVR, string)[] b =
        [
            ("PatientID", DicomVR.LO, "P2"), ("PatientName", DicomVR.PN, "Doe^John"), ("StudyDate", DicomVR.DA, "20240305"),
            ("StudyTime", DicomVR.TM, "230000"), ("AccessionNumber", DicomVR.SH, "ACC2"), ("Modality", DicomVR.CS, "MR"), ("SeriesNumber", DicomVR.IS, "7"),
        ];
        for (var i = 1; i <= 2; i++)
        {
            await Store(QidoSupport.Synthetic(StudyB, SeriesB1, $"{SeriesB1}.{i}", [.. b, ("InstanceNumber", DicomVR.IS, i.ToString()),
                ("AcquisitionDateTime", DicomVR.DT, $"2024030512000{i}")]), "MR_AE");
        }

        await Store(QidoSupport.Synthetic(StudyC, SeriesC1, $"{SeriesC1}.1",
            ("PatientID", DicomVR.LO, "P3"), ("PatientName", DicomVR.PN, "Smith^Anna"), ("StudyDate", DicomVR.DA, "20231231"),
            ("AccessionNumber", DicomVR.SH, "X_1%"), ("Modality", DicomVR.CS, "US")), "US_AE");

        await App.StoreAsync(Tenant, QidoSupport.FromCorpus("CT_small.dcm"));
    }

    private Task Store(DicomDataset dataset, string callingAe) => App.StoreAsync(Tenant, QidoSupport.FromDataset(dataset, callingAe));
}

/// <summary>The QIDO test classes share one service and archive (each seeds its own tenant where it needs its own data).</summary>
[CollectionDefinition(Name)]
public sealed class QidoCollection : ICollectionFixture<QidoFixture>
{
    public const string Name = "qido";
}

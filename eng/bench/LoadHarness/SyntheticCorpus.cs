using EventSourced.Dicom;

namespace LoadHarness;

/// <summary>
/// A deterministic synthetic archive written with our codec: the same seed gives the same UIDs, names,
/// dates and pixels on every run, so two servers are measured on identical data.
/// </summary>
public sealed class SyntheticCorpus(int studies, int seriesPerStudy, int instancesPerSeries, int patients, int size, int seed)
{
    private static readonly string[] FamilyNames = ["DOE", "SMITH", "MARTIN", "GARCIA", "MULLER", "ROSSI", "DUBOIS", "SILVA", "NOVAK", "KOWALSKI"];
    private static readonly string[] Modalities = ["CT", "MR", "CR", "US", "DX"];
    private readonly string root = $"2.25.{(uint)seed}{seed % 7919}";

    public int Studies => studies;
    public int SeriesPerStudy => seriesPerStudy;
    public int InstancesPerSeries => instancesPerSeries;
    public int InstanceCount => studies * seriesPerStudy * instancesPerSeries;

    public string StudyUid(int s) => $"{root}.1.{s + 1}";
    public string SeriesUid(int s, int se) => $"{root}.2.{s + 1}.{se + 1}";
    public string SopUid(int s, int se, int i) => $"{root}.3.{s + 1}.{se + 1}.{i + 1}";
    public int PatientOf(int s) => s % patients;
    public string PatientId(int p) => $"PAT{seed}-{p:D5}"; // the full seed: the warm-up corpus (seed + 1000) never shares a patient
    public string PatientName(int p) => $"{FamilyNames[p % FamilyNames.Length]}^P{p:D5}";
    public string Accession(int s) => $"ACC{seed % 1000:D3}{s:D6}";
    public DateOnly StudyDate(int s) => new DateOnly(2024, 1, 1).AddDays(s % 366);
    public string Modality(int s, int se) => Modalities[(s + se) % Modalities.Length];

    /// <summary>A STOW-RS body (multipart/related, application/dicom parts) of every instance of <paramref name="count"/> studies from <paramref name="first"/>.</summary>
    public byte[] StowBody(int first, int count, string boundary)
    {
        var body = new MemoryStream();
        for (var s = first; s < first + count; s++)
        {
            for (var se = 0; se < seriesPerStudy; se++)
            {
                for (var i = 0; i < instancesPerSeries; i++)
                {
                    body.Write(System.Text.Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n"));
                    body.Write(Instance(s, se, i));
                    body.Write("\r\n"u8);
                }
            }
        }

        body.Write(System.Text.Encoding.ASCII.GetBytes($"--{boundary}--\r\n"));
        return body.ToArray();
    }

    /// <summary>A STOW-RS body of one instance (study <paramref name="s"/>, series <paramref name="se"/>, instance <paramref name="i"/>).</summary>
    public byte[] InstanceBody(int s, int se, int i, string boundary)
    {
        var body = new MemoryStream();
        body.Write(System.Text.Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n"));
        body.Write(Instance(s, se, i));
        body.Write(System.Text.Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n"));
        return body.ToArray();
    }

    public byte[] Instance(int s, int se, int i)
    {
        var p = PatientOf(s);
        var ds = new DicomDataset();
        void Text(ushort group, ushort element, DicomVR vr, string value) => ds.AddString(new DicomTag(group, element), vr, value);
        Text(0x0008, 0x0005, DicomVR.CS, "ISO_IR 100");
        Text(0x0008, 0x0016, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.7"); // Secondary Capture: no modality-specific modules required
        Text(0x0008, 0x0018, DicomVR.UI, SopUid(s, se, i));
        Text(0x0008, 0x0020, DicomVR.DA, StudyDate(s).ToString("yyyyMMdd"));
        Text(0x0008, 0x0030, DicomVR.TM, $"{8 + (s % 10):D2}{s % 60:D2}00");
        Text(0x0008, 0x0050, DicomVR.SH, Accession(s));
        Text(0x0008, 0x0060, DicomVR.CS, Modality(s, se));
        Text(0x0008, 0x0080, DicomVR.LO, "BENCH HOSPITAL");
        Text(0x0008, 0x0090, DicomVR.PN, "REFERRER^A");
        Text(0x0008, 0x1010, DicomVR.SH, $"STATION{se}");
        Text(0x0008, 0x1030, DicomVR.LO, $"Study {s}");
        Text(0x0008, 0x103E, DicomVR.LO, $"Series {se}");
        Text(0x0010, 0x0010, DicomVR.PN, PatientName(p));
        Text(0x0010, 0x0020, DicomVR.LO, PatientId(p));
        Text(0x0010, 0x0030, DicomVR.DA, new DateOnly(1940, 1, 1).AddDays(p * 173 % 25000).ToString("yyyyMMdd"));
        Text(0x0010, 0x0040, DicomVR.CS, p % 2 == 0 ? "F" : "M");
        Text(0x0020, 0x000D, DicomVR.UI, StudyUid(s));
        Text(0x0020, 0x000E, DicomVR.UI, SeriesUid(s, se));
        Text(0x0020, 0x0010, DicomVR.SH, $"{s}");
        Text(0x0020, 0x0011, DicomVR.IS, $"{se + 1}");
        Text(0x0020, 0x0013, DicomVR.IS, $"{i + 1}");
        Text(0x0028, 0x0004, DicomVR.CS, "MONOCHROME2");
        ds.Set(new DicomElement(new DicomTag(0x0028, 0x0002), DicomVR.US, DicomValues.EncodeBinary<ushort>([1])));
        ds.Set(new DicomElement(new DicomTag(0x0028, 0x0010), DicomVR.US, DicomValues.EncodeBinary<ushort>([(ushort)size])));
        ds.Set(new DicomElement(new DicomTag(0x0028, 0x0011), DicomVR.US, DicomValues.EncodeBinary<ushort>([(ushort)size])));
        ds.Set(new DicomElement(new DicomTag(0x0028, 0x0100), DicomVR.US, DicomValues.EncodeBinary<ushort>([16])));
        ds.Set(new DicomElement(new DicomTag(0x0028, 0x0101), DicomVR.US, DicomValues.EncodeBinary<ushort>([12])));
        ds.Set(new DicomElement(new DicomTag(0x0028, 0x0102), DicomVR.US, DicomValues.EncodeBinary<ushort>([11])));
        ds.Set(new DicomElement(new DicomTag(0x0028, 0x0103), DicomVR.US, DicomValues.EncodeBinary<ushort>([0])));
        var pixels = new ushort[size * size];
        var state = (uint)(seed ^ (s * 73856093) ^ (se * 19349663) ^ (i * 83492791));
        for (var k = 0; k < pixels.Length; k++)
        {
            state = (state * 1664525) + 1013904223; // LCG: deterministic, cheap
            pixels[k] = (ushort)(((k % size) * 4095 / size + (state >> 24)) & 0x0FFF);
        }

        ds.Set(new DicomElement(DicomTag.PixelData, DicomVR.OW, DicomValues.EncodeBinary<ushort>(pixels)));
        return DicomWriter.ToBytes(new DicomFile(new DicomDataset(), ds, DicomTransferSyntax.ExplicitVRLittleEndian));
    }
}

using EventSourced.Dicom;
using EventSourced.Domain.Common;

namespace EventSourced.Application.Patients.ErasingPatient;

/// <summary>
/// Rewrites a stored DICOM file under the Basic Application Level Confidentiality Profile with the Retain
/// UIDs Option (<see cref="ConfidentialityProfile"/>): listed attributes removed, emptied or given dummy
/// values, private attributes removed, sequence items walked; pixel data and UIDs kept, the transfer
/// syntax unchanged. PS3.15 E.1.1 asks a de-identifier to add Patient Identity Removed = YES and the
/// method used (De-identification Method), which it does.
/// </summary>
public static class BasicProfileRewriter
{
    public const string Method = "PS3.15 E.1.1 Basic Profile, Retain UIDs Option (erasure)";

    public static DicomFile Rewrite(ReadOnlyMemory<byte> file)
    {
        var dicom = DicomReader.Read(file);
        Apply(dicom.Dataset);
        dicom.Dataset.AddString(DicomTags.PatientIdentityRemoved, DicomVR.CS, "YES");
        dicom.Dataset.AddString(DicomTags.DeidentificationMethod, DicomVR.LO, Method);
        return dicom;
    }

    private static void Apply(DicomDataset dataset)
    {
        foreach (var element in dataset.Elements.ToList())
        {
            var vr = DicomVRInfo.Code(element.VR);
            switch (ConfidentialityProfile.ActionFor(element.Tag.Value))
            {
                case ProfileAction.Remove:
                    dataset.Remove(element.Tag);
                    break;
                case ProfileAction.Empty:
                    dataset.Set(element.Items is null ? new DicomElement(element.Tag, element.VR, ReadOnlyMemory<byte>.Empty) : DicomElement.Sequence(element.Tag, []));
                    break;
                case ProfileAction.Dummy when element.Items is null:
                    if (ConfidentialityProfile.DummyValue(vr) is { } dummy)
                    {
                        dataset.AddString(element.Tag, element.VR, dummy);
                    }
                    else
                    {
                        dataset.Set(new DicomElement(element.Tag, element.VR, ReadOnlyMemory<byte>.Empty));
                    }

                    break;
                default:
                    foreach (var item in element.Items ?? [])
                    {
                        Apply(item);
                    }

                    break;
            }
        }
    }
}

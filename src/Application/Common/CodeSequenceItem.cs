using EventSourced.Dicom;

namespace EventSourced.Application.Common;

/// <summary>An item of a code sequence (PS3.3 8.8, the basic coded entry attributes), for the data sets the archive writes.</summary>
public static class CodeSequenceItem
{
    public static DicomDataset Create(DicomDataset parent, string codeValue, string codingSchemeDesignator, string codeMeaning)
    {
        var item = new DicomDataset(parent);
        item.AddString(DicomTags.CodeValue, DicomVR.SH, codeValue);
        item.AddString(DicomTags.CodingSchemeDesignator, DicomVR.SH, codingSchemeDesignator);
        item.AddString(DicomTags.CodeMeaning, DicomVR.LO, codeMeaning);
        return item;
    }
}

using EventSourced.Dicom;
using EventSourced.Domain.Common;

namespace EventSourced.Application.Pathology.StoringSlides;

/// <summary>The identity of a slide's SM instance and the file it names.</summary>
public sealed record SlideIdentity(string StudyInstanceUid, string SeriesInstanceUid, string SopInstanceUid, string ContainerIdentifier, string ReferencedFileId);

/// <summary>
/// The DICOM instance that stands for a non-DICOM slide (document e, digital pathology storage): Modality
/// SM, the vendor's SOP Class <see cref="SopClassUid"/>, ReferencedFileID naming the slide file, the
/// sender's attributes, and the specimen → block → slide hierarchy as the Specimen module (PS3.3 C.7.6.22).
/// No pixel data: the slide itself is the file kept beside it. Pure and deterministic: the same metadata,
/// tenant and file name give the same bytes, so a slide sent twice is the same instance ("already existed").
/// </summary>
public static class SlideInstance
{
    /// <summary>Document e: "The SOP Class of the generated dicom file will be 1.2.826.0.1.3680043.2.619.20220407.1 (custom)".</summary>
    public const string SopClassUid = "1.2.826.0.1.3680043.2.619.20220407.1";

    public const string Modality = "SM";

    private static readonly Guid Namespace = new("2b7f9a64-0c3e-4f0b-9d55-7a1e3c86b2d4");

    /// <summary>A UID derived from a tenant's identifier (PS3.5 §B.2, 2.25 and a name-based UUID): equal inputs, equal UID; two tenants never share one.</summary>
    public static string DerivedUid(string tenantId, string purpose, string value) =>
        DicomUid.FromGuid(DeterministicGuid.ForTenant(Namespace, tenantId, $"{purpose}:{value}"));

    public static (byte[] Bytes, SlideIdentity Identity) Build(SlideMetadata metadata, string tenantId, string fileName)
    {
        var accession = metadata.Top("AccessionNumber")!;
        var container = metadata.Top("ContainerIdentifier")!;
        var identity = new SlideIdentity(
            metadata.Top("StudyInstanceUID") ?? DerivedUid(tenantId, "study", accession),
            metadata.Top("SeriesInstanceUID") ?? DerivedUid(tenantId, "series", container),
            metadata.Top("SOPInstanceUID") ?? DerivedUid(tenantId, "instance", container),
            container,
            fileName);

        var ds = new DicomDataset();
        ds.AddString(DicomTags.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");

        // Type 2 attributes of the Patient, General Study, Series and Equipment modules: present, empty unless sent.
        ds.AddString(DicomTags.PatientName, DicomVR.PN, "");
        ds.AddString(DicomTags.PatientBirthDate, DicomVR.DA, "");
        ds.AddString(DicomTags.PatientSex, DicomVR.CS, "");
        ds.AddString(DicomTags.StudyDate, DicomVR.DA, "");
        ds.AddString(DicomTags.StudyTime, DicomVR.TM, "");
        ds.AddString(DicomTags.ReferringPhysicianName, DicomVR.PN, "");
        ds.AddString(DicomTags.StudyID, DicomVR.SH, "");
        ds.AddString(DicomTags.SeriesNumber, DicomVR.IS, "1");
        ds.AddString(DicomTags.InstanceNumber, DicomVR.IS, "1");
        ds.AddString(DicomTags.Manufacturer, DicomVR.LO, "");
        ds.Set(DicomElement.Sequence(DicomTags.IssuerOfTheContainerIdentifierSequence, []));
        ds.Set(DicomElement.Sequence(DicomTags.ContainerTypeCodeSequence, []));

        foreach (var attribute in metadata.Attributes)
        {
            Set(ds, attribute);
        }

        // What document e fixes wins over what was sent.
        ds.AddString(DicomTags.SOPClassUID, DicomVR.UI, SopClassUid);
        ds.AddString(DicomTags.SOPInstanceUID, DicomVR.UI, identity.SopInstanceUid);
        ds.AddString(DicomTags.StudyInstanceUID, DicomVR.UI, identity.StudyInstanceUid);
        ds.AddString(DicomTags.SeriesInstanceUID, DicomVR.UI, identity.SeriesInstanceUid);
        ds.AddString(DicomTags.Modality, DicomVR.CS, Modality);
        ds.AddString(DicomTags.ReferencedFileID, DicomVR.CS, fileName);
        ds.AddString(DicomTags.ContainerIdentifier, DicomVR.LO, container);
        if (metadata.Specimen is not null || metadata.Block is not null || metadata.Slide is not null)
        {
            ds.Set(DicomElement.Sequence(DicomTags.SpecimenDescriptionSequence, [SpecimenDescription(ds, metadata, tenantId, container)]));
        }

        var bytes = DicomWriter.ToBytes(new DicomFile(new DicomDataset(), ds, DicomTransferSyntax.ExplicitVRLittleEndian));
        return (bytes, identity);
    }

    /// <summary>Sets one attribute, creating (or reusing) one item in each sequence of its path.</summary>
    private static void Set(DicomDataset ds, SlideAttribute attribute)
    {
        var target = ds;
        foreach (var sequence in attribute.Path.SkipLast(1))
        {
            var items = target.GetSequence(sequence.Tag);
            if (items.Count == 0)
            {
                var item = new DicomDataset(target);
                target.Set(DicomElement.Sequence(sequence.Tag, [item]));
                target = item;
            }
            else
            {
                target = items[0];
            }
        }

        target.AddString(attribute.Element.Tag, attribute.Element.VR, [.. attribute.Values]);
    }

    /// <summary>
    /// One item of the Specimen Description Sequence (PS3.3 C.7.6.22) for the specimen on the slide, its
    /// history as preparation steps (TID 8001): collection of the specimen, sampling of the block from it,
    /// sampling of the slide's section from the block, staining.
    /// </summary>
    private static DicomDataset SpecimenDescription(DicomDataset parent, SlideMetadata metadata, string tenantId, string container)
    {
        var item = new DicomDataset(parent);
        var slide = metadata.Slide;
        var identifier = slide?.Identifier ?? container;
        item.AddString(DicomTags.SpecimenIdentifier, DicomVR.LO, identifier);
        item.AddString(DicomTags.SpecimenUID, DicomVR.UI, DerivedUid(tenantId, "specimen", container));
        item.Set(DicomElement.Sequence(DicomTags.IssuerOfTheSpecimenIdentifierSequence, []));
        if (slide?.Alias is { } alias)
        {
            item.AddString(DicomTags.SpecimenShortDescription, DicomVR.LO, alias);
        }

        var described = new[] { ("Specimen", metadata.Specimen), ("block", metadata.Block), ("slide", metadata.Slide) }
            .Where(l => l.Item2 is not null)
            .Select(l => $"{l.Item1} {l.Item2!.Alias ?? l.Item2.Identifier ?? "?"}");
        item.AddString(DicomTags.SpecimenDetailedDescription, DicomVR.UT, string.Join(", ", described));

        var steps = new List<DicomDataset>();
        if (metadata.Specimen is { } specimen)
        {
            steps.Add(Step(item, specimen.Identifier ?? identifier, Processing.Collection, specimen.Procedure, null, specimen.BodySite));
        }

        if (metadata.Block is { } block)
        {
            steps.Add(Step(item, block.Identifier ?? identifier, Processing.Sampling, block.Procedure, metadata.Specimen?.Identifier, block.BodySite));
        }

        if (slide is not null)
        {
            steps.Add(Step(item, identifier, Processing.Sampling, slide.Procedure, metadata.Block?.Identifier ?? metadata.Specimen?.Identifier, slide.BodySite));
        }

        foreach (var stain in new[] { metadata.Specimen, metadata.Block, slide }.Where(l => l?.StainCode is not null))
        {
            var step = Step(item, identifier, Processing.Staining, null, null, null);
            var items = step.GetSequence(DicomTags.SpecimenPreparationStepContentItemSequence);
            items.Add(TextItem(step, Concepts.UsingSubstance, stain!.StainCode!));
            step.Set(DicomElement.Sequence(DicomTags.SpecimenPreparationStepContentItemSequence, items));
            steps.Add(step);
        }

        item.Set(DicomElement.Sequence(DicomTags.SpecimenPreparationSequence, steps));
        return item;
    }

    private static DicomDataset Step(DicomDataset parent, string specimenIdentifier, Code processing, string? description, string? parentSpecimen, string? bodySite)
    {
        var step = new DicomDataset(parent);
        var items = new List<DicomDataset>
        {
            TextItem(step, Concepts.SpecimenIdentifier, specimenIdentifier),
            CodeItem(step, Concepts.ProcessingType, processing),
        };
        if (description is not null)
        {
            items.Add(TextItem(step, Concepts.ProcessingStepDescription, description));
        }

        if (parentSpecimen is not null)
        {
            items.Add(TextItem(step, Concepts.ParentSpecimenIdentifier, parentSpecimen));
        }

        if (bodySite is not null)
        {
            items.Add(TextItem(step, Concepts.FindingSite, bodySite));
        }

        step.Set(DicomElement.Sequence(DicomTags.SpecimenPreparationStepContentItemSequence, items));
        return step;
    }

    private sealed record Code(string Value, string Scheme, string Meaning);

    /// <summary>Concept names of TID 8001–8004 (PS3.16).</summary>
    private static class Concepts
    {
        public static readonly Code SpecimenIdentifier = new("121041", "DCM", "Specimen Identifier");
        public static readonly Code ProcessingType = new("111701", "DCM", "Processing type");
        public static readonly Code ProcessingStepDescription = new("111703", "DCM", "Processing step description");
        public static readonly Code ParentSpecimenIdentifier = new("111705", "DCM", "Parent Specimen Identifier");
        public static readonly Code UsingSubstance = new("424361007", "SCT", "Using substance");
        public static readonly Code FindingSite = new("363698007", "SCT", "Finding site");
    }

    /// <summary>Processing types (CID 8111).</summary>
    private static class Processing
    {
        public static readonly Code Collection = new("17636008", "SCT", "Specimen collection");
        public static readonly Code Sampling = new("433465004", "SCT", "Sampling of tissue specimen");
        public static readonly Code Staining = new("127790008", "SCT", "Staining");
    }

    private static DicomDataset TextItem(DicomDataset parent, Code concept, string text)
    {
        var item = new DicomDataset(parent);
        item.AddString(DicomTags.ValueType, DicomVR.CS, "TEXT");
        item.Set(DicomElement.Sequence(DicomTags.ConceptNameCodeSequence, [CodeDataset(item, concept)]));
        item.AddString(DicomTags.TextValue, DicomVR.UT, text);
        return item;
    }

    private static DicomDataset CodeItem(DicomDataset parent, Code concept, Code value)
    {
        var item = new DicomDataset(parent);
        item.AddString(DicomTags.ValueType, DicomVR.CS, "CODE");
        item.Set(DicomElement.Sequence(DicomTags.ConceptNameCodeSequence, [CodeDataset(item, concept)]));
        item.Set(DicomElement.Sequence(DicomTags.ConceptCodeSequence, [CodeDataset(item, value)]));
        return item;
    }

    private static DicomDataset CodeDataset(DicomDataset parent, Code code) =>
        Common.CodeSequenceItem.Create(parent, code.Value, code.Scheme, code.Meaning);

    /// <summary>
    /// A sidecar (document e: an SM instance we generated earlier, sent back with its slide): its data win
    /// over any metadata. It must be ours: the vendor SOP Class, a ContainerIdentifier and a ReferencedFileID
    /// naming the slide file.
    /// </summary>
    public static (SlideIdentity? Identity, string? Error) ReadSidecar(ReadOnlyMemory<byte> bytes)
    {
        DicomDataset ds;
        try
        {
            ds = DicomReader.Read(bytes, DicomReadOptions.Streaming).Dataset;
        }
        catch (DicomFormatException e)
        {
            return (null, $"The sidecar is not a readable DICOM file: {e.Message}");
        }

        string? Text(DicomTag tag)
        {
            try
            {
                return ds.GetString(tag)?.TrimEnd('\0', ' ') is { Length: > 0 } v ? v : null;
            }
            catch (DicomFormatException)
            {
                return null;
            }
        }

        if (Text(DicomTags.SOPClassUID) != SopClassUid)
        {
            return (null, $"The sidecar is not a slide instance of this archive (SOP Class {SopClassUid}).");
        }

        var file = Text(DicomTags.ReferencedFileID);
        var container = Text(DicomTags.ContainerIdentifier);
        var study = Text(DicomTags.StudyInstanceUID);
        var series = Text(DicomTags.SeriesInstanceUID);
        var sop = Text(DicomTags.SOPInstanceUID);
        if (file is null || container is null || !DicomUid.IsValid(study) || !DicomUid.IsValid(series) || !DicomUid.IsValid(sop))
        {
            return (null, "The sidecar lacks its ReferencedFileID, ContainerIdentifier or a valid Study, Series or SOP Instance UID.");
        }

        return (new SlideIdentity(study!, series!, sop!, container, file), null);
    }
}

using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Projections.Qido;

namespace EventSourced.Web.Shared.Qido;

/// <summary>One result's DICOM JSON object (PS3.18 Annex F), attributes in tag order.</summary>
public sealed class QidoDataset
{
    /// <summary>Study return attributes, PS3.18 Table 10.6.3-3 (StudyDescription added: every viewer asks for it).</summary>
    public static readonly string[] StudyRequired =
        JsonKeys(DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.AccessionNumber, DicomTags.ReferringPhysicianName, DicomTags.StudyDescription, DicomTags.PatientName, DicomTags.PatientID, DicomTags.PatientBirthDate, DicomTags.PatientSex, DicomTags.StudyInstanceUID, DicomTags.StudyID);

    /// <summary>Series return attributes, PS3.18 Table 10.6.3-4 (StudyInstanceUID added so results of /series can be followed).</summary>
    public static readonly string[] SeriesRequired = JsonKeys(DicomTags.Modality, DicomTags.SeriesDescription, DicomTags.StudyInstanceUID, DicomTags.SeriesInstanceUID, DicomTags.SeriesNumber, DicomTags.PerformedProcedureStepStartDate, DicomTags.PerformedProcedureStepStartTime);

    /// <summary>Instance return attributes, PS3.18 Table 10.6.3-5 (Study and Series Instance UIDs added).</summary>
    public static readonly string[] InstanceRequired = JsonKeys(DicomTags.SOPClassUID, DicomTags.SOPInstanceUID, DicomTags.StudyInstanceUID, DicomTags.SeriesInstanceUID, DicomTags.InstanceNumber);

    /// <summary>Returned only when the instance has them (Table 10.6.3-x: "if present" / only meaningful for some objects).</summary>
    public static readonly string[] IfPresent = JsonKeys(DicomTags.SpecificCharacterSet, DicomTags.TimezoneOffsetFromUTC, DicomTags.RequestAttributesSequence, DicomTags.Rows, DicomTags.Columns, DicomTags.BitsAllocated, DicomTags.NumberOfFrames);

    /// <summary>Pixel Data, Float and Double Float Pixel Data, and Data Set Trailing Padding: never returned.</summary>
    private static readonly string[] BulkData = JsonKeys(DicomTags.PixelData, DicomTags.FloatPixelData, DicomTags.DoubleFloatPixelData, DicomTags.DataSetTrailingPadding);

    private static string[] JsonKeys(params DicomTag[] tags) => [.. tags.Select(t => t.JsonKey())];

    /// <summary>
    /// The attributes so far, each a stored element written as it is or a computed value, kept in tag order (each
    /// added where it goes). A result has about twenty, so a list and a linear look-up cost less than a sorted tree
    /// of JSON nodes (a hundred results to a page: docs/benchmarks.md, "QIDO pages read row by row and written as they
    /// are read").
    /// </summary>
    private readonly List<(string Tag, Attribute Value)> attributes = new(24);

    /// <summary>One attribute: a stored value's JSON text written as it is, or a VR with computed values (strings or integers; none: no Value).</summary>
    private readonly record struct Attribute(ReadOnlyMemory<byte> Stored, string? Vr, object[]? Values)
    {
        public void WriteTo(Utf8JsonWriter writer)
        {
            if (Vr is null)
            {
                // Text the database (or a correction's serializer) wrote: a valid value, copied without being parsed again.
                writer.WriteRawValue(Stored.Span, skipInputValidation: true);
                return;
            }

            writer.WriteStartObject();
            writer.WriteString("vr", Vr);
            if (Values is { Length: > 0 })
            {
                writer.WriteStartArray("Value");
                foreach (var value in Values)
                {
                    if (value is int number)
                    {
                        writer.WriteNumberValue(number);
                    }
                    else
                    {
                        writer.WriteStringValue((string)value);
                    }
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }
    }

    /// <summary>Where <paramref name="tag"/> is in the list kept in tag order, or its bitwise complement where it would go.</summary>
    private int Find(string tag)
    {
        var i = attributes.Count;
        while (i > 0)
        {
            var order = string.CompareOrdinal(attributes[i - 1].Tag, tag);
            if (order == 0)
            {
                return i - 1;
            }

            if (order < 0)
            {
                break;
            }

            i--;
        }

        return ~i;
    }

    private bool Has(string tag) => Find(tag) >= 0;

    /// <summary>Adds or replaces <paramref name="tag"/>, in tag order.</summary>
    private void Put(string tag, Attribute value)
    {
        var at = Find(tag);
        if (at >= 0)
        {
            attributes[at] = (tag, value);
        }
        else
        {
            attributes.Insert(~at, (tag, value));
        }
    }

    /// <summary>Copies each tag of <paramref name="tags"/> from <paramref name="source"/>; absent ones as empty attributes when <paramref name="emptyIfAbsent"/>.</summary>
    public QidoDataset Copy(StoredAttributes source, IEnumerable<string> tags, bool emptyIfAbsent)
    {
        foreach (var tag in tags)
        {
            if (Has(tag))
            {
                continue;
            }

            if (source.TryGet(tag, out var value))
            {
                // An attribute is kept as the stored text and written as it is, not parsed.
                Put(tag, new Attribute(value, null, null));
            }
            else if (emptyIfAbsent)
            {
                Put(tag, new Attribute(default, DicomVRInfo.Code(QidoKeyCatalog.VROf(tag)), null));
            }
        }

        return this;
    }

    /// <summary>
    /// Every attribute of the source except bulk data: Pixel Data, Data Set Trailing Padding, and binary
    /// values the stored header dropped (a binary VR with neither InlineBinary nor BulkDataURI would
    /// read as an empty value, which it is not).
    /// </summary>
    public QidoDataset CopyAll(StoredAttributes source)
    {
        foreach (var (name, value) in source.Members())
        {
            if (!Has(name) && !IsBulkData(name, value.Span))
            {
                Put(name, new Attribute(value, null, null));
            }
        }

        return this;
    }

    private static bool IsBulkData(string name, ReadOnlySpan<byte> value)
    {
        if (BulkData.Contains(name))
        {
            return true;
        }

        // The attribute object's own members: its VR, and whether it carries its bytes (inline or by reference).
        var reader = new Utf8JsonReader(value, DicomJsonWriter.ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        string? vr = null;
        var carried = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("vr"u8))
            {
                reader.Read();
                vr = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                continue;
            }

            carried |= reader.ValueTextEquals("InlineBinary"u8) || reader.ValueTextEquals("BulkDataURI"u8);
            reader.Read();
            reader.Skip();
        }

        return vr is "OB" or "OD" or "OF" or "OL" or "OV" or "OW" or "UN" && !carried;
    }

    public QidoDataset CopyRequired(StoredAttributes source, IEnumerable<string> required, QidoQuery query) =>
        Copy(source, required, true)
            .Copy(source, IfPresent, false)
            .Copy(source, query.IncludeFields, false);

    private static readonly string InstanceAvailabilityKey = DicomTags.InstanceAvailability.JsonKey();
    private static readonly string ModalitiesInStudyKey = DicomTags.ModalitiesInStudy.JsonKey();
    private static readonly string NumberOfStudyRelatedSeriesKey = DicomTags.NumberOfStudyRelatedSeries.JsonKey();
    private static readonly string NumberOfStudyRelatedInstancesKey = DicomTags.NumberOfStudyRelatedInstances.JsonKey();
    private static readonly string NumberOfSeriesRelatedInstancesKey = DicomTags.NumberOfSeriesRelatedInstances.JsonKey();
    private static readonly string RetrieveUrlKey = DicomTags.RetrieveURL.JsonKey();
    private static readonly string StudyInstanceUidKey = DicomTags.StudyInstanceUID.JsonKey();

    /// <summary>Instance Availability ONLINE (everything stored is online).</summary>
    private QidoDataset Online(string tag) => Set(tag, "CS", "ONLINE");

    /// <summary>Sets <paramref name="tag"/> to <paramref name="values"/> (each a string or an integer) of <paramref name="vr"/>.</summary>
    public QidoDataset Set(string tag, string vr, params object[] values)
    {
        Put(tag, new Attribute(default, vr, values));
        return this;
    }

    /// <summary>Sets <paramref name="tag"/> to <paramref name="value"/> unless the result already has a value for it (absent, or copied empty).</summary>
    private void Fill(string tag, string vr, string value)
    {
        var at = Find(tag);
        if (at < 0 || attributes[at].Value is { Vr: not null, Values: null or [] })
        {
            Put(tag, new Attribute(default, vr, [value]));
        }
    }

    /// <summary>Study attributes computed over the study's instances, plus availability and where to retrieve it.</summary>
    public QidoDataset StudyComputed(QidoStudySummary study, string? retrieveUrl)
    {
        Online(InstanceAvailabilityKey)
            .Set(ModalitiesInStudyKey, "CS", [.. study.ModalitiesInStudy])
            .Set(NumberOfStudyRelatedSeriesKey, "IS", study.NumberOfStudyRelatedSeries)
            .Set(NumberOfStudyRelatedInstancesKey, "IS", study.NumberOfStudyRelatedInstances);
        return retrieveUrl is null ? this : Set(RetrieveUrlKey, "UR", retrieveUrl);
    }

    /// <summary>
    /// The series' instance count and where to retrieve it, and the study it is filed under where the result has no
    /// Study Instance UID yet (the series' own attributes do not hold it): a series answer names its study whether or
    /// not the study is in the path.
    /// </summary>
    public QidoDataset SeriesComputed(QidoSeriesSummary series, string? retrieveUrl)
    {
        Fill(StudyInstanceUidKey, "UI", series.StudyInstanceUid);
        Set(NumberOfSeriesRelatedInstancesKey, "IS", series.NumberOfSeriesRelatedInstances);
        return retrieveUrl is null ? this : Set(RetrieveUrlKey, "UR", retrieveUrl);
    }

    public QidoDataset InstanceComputed(string retrieveUrl) => Online(InstanceAvailabilityKey)
        .Set(RetrieveUrlKey, "UR", retrieveUrl);

    /// <summary>The attributes as one DICOM JSON object, in tag order.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        foreach (var (tag, value) in attributes)
        {
            writer.WritePropertyName(tag);
            value.WriteTo(writer);
        }

        writer.WriteEndObject();
    }

    /// <summary>The attributes as a JSON element of its own (the XML answer converts elements).</summary>
    public JsonElement ToElement()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, DicomJsonWriter.WriterOptions))
        {
            WriteTo(writer);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory, DicomJsonWriter.DocumentOptions);
        return document.RootElement.Clone();
    }

    /// <summary>Results as one DICOM JSON array.</summary>
    public static void WriteArray(Utf8JsonWriter writer, IEnumerable<QidoDataset> results)
    {
        writer.WriteStartArray();
        foreach (var result in results)
        {
            result.WriteTo(writer);
        }

        writer.WriteEndArray();
    }
}

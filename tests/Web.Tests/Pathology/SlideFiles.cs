using System.Buffers.Binary;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Pathology;

/// <summary>Slide-shaped files for the pathology tests, and the outside readers that check them (Pillow, pydicom, DCMTK).</summary>
public static class SlideFiles
{
    /// <summary>
    /// A valid tiled TIFF (TIFF 6.0 §15): RGB, 8 bits per sample, uncompressed, <paramref name="tile"/>-square
    /// tiles, little-endian, the pixels a gradient with the seed in them so two slides differ.
    /// </summary>
    public static byte[] TiledTiff(int width, int height, int tile = 16, int seed = 0)
    {
        var across = (width + tile - 1) / tile;
        var down = (height + tile - 1) / tile;
        var tiles = across * down;
        var tileBytes = tile * tile * 3;
        const int entries = 11;
        var ifdOffset = 8;
        var ifdSize = 2 + entries * 12 + 4;
        var bitsOffset = ifdOffset + ifdSize;
        var offsetsOffset = bitsOffset + 6;
        var countsOffset = offsetsOffset + 4 * tiles;
        var dataOffset = countsOffset + 4 * tiles;
        var bytes = new byte[dataOffset + tiles * tileBytes];
        "II"u8.CopyTo(bytes);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan()[2..], 42);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan()[4..], (uint)ifdOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan()[ifdOffset..], entries);
        var at = ifdOffset + 2;
        void Entry(ushort tag, ushort type, uint count, uint value)
        {
            var entry = bytes.AsSpan(at);
            BinaryPrimitives.WriteUInt16LittleEndian(entry, tag);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[2..], type);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], count);
            if (type == 3 && count == 1)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(entry[8..], (ushort)value);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], value);
            }

            at += 12;
        }

        const ushort Short = 3, Long = 4;
        Entry(256, Long, 1, (uint)width);          // ImageWidth
        Entry(257, Long, 1, (uint)height);         // ImageLength
        Entry(258, Short, 3, (uint)bitsOffset);    // BitsPerSample 8,8,8
        Entry(259, Short, 1, 1);                   // Compression: none
        Entry(262, Short, 1, 2);                   // PhotometricInterpretation: RGB
        Entry(277, Short, 1, 3);                   // SamplesPerPixel
        Entry(284, Short, 1, 1);                   // PlanarConfiguration: chunky
        Entry(322, Short, 1, (uint)tile);          // TileWidth
        Entry(323, Short, 1, (uint)tile);          // TileLength
        Entry(324, Long, (uint)tiles, (uint)offsetsOffset); // TileOffsets
        Entry(325, Long, (uint)tiles, (uint)countsOffset);  // TileByteCounts
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan()[at..], 0); // no next IFD
        for (var i = 0; i < 3; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan()[(bitsOffset + 2 * i)..], 8);
        }

        for (var t = 0; t < tiles; t++)
        {
            var offset = dataOffset + t * tileBytes;
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan()[(offsetsOffset + 4 * t)..], (uint)offset);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan()[(countsOffset + 4 * t)..], (uint)tileBytes);
            for (var p = 0; p < tile * tile; p++)
            {
                bytes[offset + 3 * p] = (byte)(t * 7 + seed);
                bytes[offset + 3 * p + 1] = (byte)p;
                bytes[offset + 3 * p + 2] = (byte)(255 - p);
            }
        }

        return bytes;
    }

    /// <summary>A MIRAX-shaped zip: <c>{name}.mrxs</c>, its data folder <c>{name}/</c> with Slidedat.ini and a .dat, and a file that is no part of the slide.</summary>
    public static (byte[] Zip, byte[] Index, IReadOnlyDictionary<string, byte[]> SlideEntries) MiraxZip(string name, bool withIndex = true, int seed = 0)
    {
        var index = Encoding.ASCII.GetBytes($"[GENERAL]\r\nSLIDE_ID={name}-{seed}\r\nSLIDE_VERSION=01.02\r\n");
        var data = new byte[300_000];
        new Random(seed).NextBytes(data);
        var entries = new Dictionary<string, byte[]>
        {
            [$"{name}/Slidedat.ini"] = Encoding.ASCII.GetBytes($"[GENERAL]\r\nSLIDE_NAME={name}\r\nIMAGENUMBER_X=4\r\nIMAGENUMBER_Y=4\r\n[DATAFILE]\r\nFILE_COUNT=1\r\nFILE_0=Data0000.dat\r\n"),
            [$"{name}/Data0000.dat"] = data,
        };
        if (withIndex)
        {
            entries[$"{name}.mrxs"] = index;
        }

        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, content) in entries.Append(new("README.txt", "scanner export notes"u8.ToArray())))
            {
                using var stream = zip.CreateEntry(path, CompressionLevel.Optimal).Open();
                stream.Write(content);
            }
        }

        return (buffer.ToArray(), index, entries);
    }

    public static string Sha1(byte[] bytes) => Convert.ToHexStringLower(SHA1.HashData(bytes));

    /// <summary>The metadata part of document e's example, with the given identifiers.</summary>
    public static string Metadata(string accession, string container, string patientId = "PAT-1", string extraAttributes = "") => $$"""
        {
          "attributes": {
            "AccessionNumber": "{{accession}}",
            "ContainerIdentifier": "{{container}}",
            "PatientBirthDate": "20240115",
            "PatientID": "{{patientId}}",
            "PatientName": "TEST^TEST",
            "PatientSex": "M",
            "StudyDescription": "Test"{{extraAttributes}}
          },
          "hierarchy": {
            "specimen": { "alias": "B", "bodySite": "Specimen B Body Site", "identifier": "213", "procedure": "Specimen procedure" },
            "block": { "alias": "B-1", "identifier": "456", "procedure": "Block procedure" },
            "slide": { "alias": "B-1-1", "identifier": "222", "procedure": "Slide procedure", "stain": { "code": "EE" } }
          }
        }
        """;

    /// <summary>document e's multipart/form-data request: any of metadata, sidecar, file, fileHash, fileLength.</summary>
    public static MultipartFormDataContent Form(
        string? metadata, byte[]? file, string fileName, string? fileType = null, string? fileHash = null, string? fileLength = null, byte[]? sidecar = null)
    {
        var form = new MultipartFormDataContent("slide-boundary-0123");
        if (metadata is not null)
        {
            form.Add(new StringContent(metadata, Encoding.UTF8, "application/json"), "metadata");
        }

        if (sidecar is not null)
        {
            var part = new ByteArrayContent(sidecar);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
            form.Add(part, "sidecar", "sidecar.dcm");
        }

        if (file is not null)
        {
            var part = new ByteArrayContent(file);
            part.Headers.ContentType = new MediaTypeHeaderValue(fileType ?? "application/octet-stream");
            form.Add(part, "file", fileName);
        }

        if (fileHash is not null)
        {
            form.Add(new StringContent(fileHash), "fileHash");
        }

        if (fileLength is not null)
        {
            form.Add(new StringContent(fileLength), "fileLength");
        }

        return form;
    }

    /// <summary>Pillow's reading of a TIFF: size, and the first tile's extent (so a strip TIFF would fail).</summary>
    public static (int Width, int Height, int TileWidth, int TileHeight) PillowTiff(byte[] tiff) => WithFile(tiff, ".tif", path =>
    {
        var json = JsonDocument.Parse(Python("""
            import json, sys
            from PIL import Image
            im = Image.open(sys.argv[1])
            decoder, extent, offset, args = im.tile[0] if im.tile else (None, (0, 0, 0, 0), 0, None)
            im.load()
            print(json.dumps({'w': im.size[0], 'h': im.size[1], 'tw': extent[2] - extent[0], 'th': extent[3] - extent[1], 'mode': im.mode}))
            """, path)).RootElement;
        Assert.Equal("RGB", json.GetProperty("mode").GetString());
        return (json.GetProperty("w").GetInt32(), json.GetProperty("h").GetInt32(), json.GetProperty("tw").GetInt32(), json.GetProperty("th").GetInt32());
    });

    /// <summary>pydicom's reading of a generated SM instance: the attributes the tests look at, as JSON.</summary>
    public static JsonElement Pydicom(byte[] dicom) => WithFile(dicom, ".dcm", path => JsonDocument.Parse(Python("""
        import json, sys
        import pydicom
        ds = pydicom.dcmread(sys.argv[1])
        steps = []
        for item in ds.get('SpecimenDescriptionSequence', []):
            for step in item.SpecimenPreparationSequence:
                values = {}
                for content in step.SpecimenPreparationStepContentItemSequence:
                    name = content.ConceptNameCodeSequence[0].CodeMeaning
                    values[name] = content.TextValue if content.ValueType == 'TEXT' else content.ConceptCodeSequence[0].CodeMeaning
                steps.append(values)
        specimen = ds.SpecimenDescriptionSequence[0] if 'SpecimenDescriptionSequence' in ds else None
        print(json.dumps({
            'SOPClassUID': ds.SOPClassUID, 'MediaStorageSOPClassUID': ds.file_meta.MediaStorageSOPClassUID,
            'SOPInstanceUID': ds.SOPInstanceUID, 'StudyInstanceUID': ds.StudyInstanceUID, 'SeriesInstanceUID': ds.SeriesInstanceUID,
            'Modality': ds.Modality, 'ReferencedFileID': str(ds.ReferencedFileID), 'ContainerIdentifier': ds.ContainerIdentifier,
            'PatientID': ds.PatientID, 'PatientName': str(ds.PatientName), 'AccessionNumber': ds.AccessionNumber,
            'StationAET': ds.ScheduledProcedureStepSequence[0].ScheduledStationAETitle if 'ScheduledProcedureStepSequence' in ds else None,
            'SpecimenIdentifier': specimen.SpecimenIdentifier if specimen else None,
            'SpecimenUID': specimen.SpecimenUID if specimen else None,
            'SpecimenShortDescription': specimen.SpecimenShortDescription if specimen else None,
            'Steps': steps,
            'HasPixelData': 'PixelData' in ds,
        }))
        """, path)).RootElement.Clone());

    private static string Python(string script, string path)
    {
        var file = Path.Combine(Path.GetTempPath(), $"slide-{Guid.NewGuid():N}.py");
        File.WriteAllText(file, script);
        try
        {
            var (exit, stdout, stderr) = Run("/usr/bin/python3", file, path);
            Assert.True(exit == 0, $"python failed ({exit}): {stderr}");
            return stdout;
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static T WithFile<T>(byte[] bytes, string extension, Func<string, T> use) => ExternalTool.WithFile(bytes, extension, use);

    private static (int Exit, string Stdout, string Stderr) Run(string exe, params string[] args) => ExternalTool.Run(exe, args);
}

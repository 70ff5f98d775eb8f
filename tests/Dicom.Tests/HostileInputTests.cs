using System.Buffers.Binary;

namespace EventSourced.Dicom.Tests;

/// <summary>Malformed input: only <see cref="DicomFormatException"/>, bounded memory, no stack overflow.</summary>
public class HostileInputTests
{
    private static readonly string[] FuzzSeeds =
    [
        "test_files/CT_small.dcm", "test_files/MR_small_implicit.dcm", "test_files/MR_small_bigendian.dcm",
        "test_files/rtplan.dcm", "test_files/nested_priv_SQ.dcm", "test_files/image_dfl.dcm", "test_files/JPEG2000.dcm",
        "test_files/UN_sequence.dcm", "test_files/test-SR.dcm", "test_files/dicomdirtests/DICOMDIR",
        "test_files/ExplVR_BigEndNoMeta.dcm", "charset_files/chrH31.dcm", "charset_files/chrSQEncoding1.dcm",
        "test_files/SC_rgb_rle_2frame.dcm", "test_files/no_meta_group_length.dcm",
    ];

    public static TheoryData<string> Seeds() => [.. FuzzSeeds];

    /// <summary>
    /// Seeded mutations (byte flips, hostile 32-bit lengths, truncations) of corpus files. Each read must
    /// succeed or throw our error, allocate no more than a small multiple of the input, and what parses must
    /// also serialise to JSON and Part 10 without any other exception.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Mutated_corpus_files_fail_only_with_our_error_and_bounded_memory(string file)
    {
        var original = File.ReadAllBytes(CorpusCase.Get(file).FullPath);
        var rng = new Random(file.GetHashCode(StringComparison.Ordinal) ^ 20261123);
        uint[] hostile = [0xFFFFFFF0, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x0000FFFF, 0xFFFF, 0xFFFE, 1, 3];
        for (var round = 0; round < 600; round++)
        {
            var data = (byte[])original.Clone();
            switch (round % 4)
            {
                case 0:
                    for (var k = 0; k < 1 + rng.Next(8); k++)
                    {
                        data[rng.Next(data.Length)] = (byte)rng.Next(256);
                    }
                    break;
                case 1:
                    var at = rng.Next(Math.Max(1, data.Length - 4));
                    BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(at), hostile[rng.Next(hostile.Length)]);
                    break;
                case 2:
                    data = data[..rng.Next(data.Length)];
                    break;
                default:
                    var len = rng.Next(1, 64);
                    var from = rng.Next(data.Length);
                    var to = rng.Next(data.Length);
                    Array.Copy(original, from, data, to, Math.Min(len, Math.Min(data.Length - from, data.Length - to)));
                    break;
            }
            Exercise(data, round, file);
        }
    }

    private static void Exercise(byte[] data, int round, string file)
    {
        foreach (var streaming in new[] { false, true })
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var parsed = streaming
                    ? DicomReader.Read(new NonSeekableStream(data), DicomReadOptions.Streaming)
                    : DicomReader.Read(data);
                _ = DicomJsonWriter.Serialize(parsed.Dataset, new DicomJsonOptions { BulkDataUri = e => e.Tag.ToString() });
                // A mutated UID can leave fragments under a native syntax: the writer refuses that by design.
                if (!streaming && (parsed.TransferSyntax.Encapsulated || parsed.Dataset.Find(DicomTag.PixelData)?.Fragments is null))
                {
                    _ = DicomReader.Read(DicomWriter.ToBytes(parsed));
                }
            }
            catch (DicomFormatException)
            {
            }
            catch (Exception ex)
            {
                Assert.Fail($"{file} round {round} (streaming={streaming}): {ex}");
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            // Bound: JSON and re-encoded copies plus per-element objects; nothing proportional to a length field.
            Assert.True(allocated < 64L * data.Length + 4 * 1024 * 1024, $"{file} round {round}: {allocated} bytes allocated for {data.Length} input bytes");
        }
    }

    [Fact]
    public void Mutated_dicom_json_fails_only_with_our_error()
    {
        var json = DicomJsonWriter.Serialize(DicomFile.Open(CorpusCase.Get("test_files/rtplan.dcm").FullPath).Dataset);
        var rng = new Random(1123);
        const string alphabet = "{}[]\":,0123456789-.eE\\abcvrValueSQPNUSDSInlineBinary null true";
        for (var round = 0; round < 2000; round++)
        {
            var chars = json.ToCharArray();
            for (var k = 0; k < 1 + rng.Next(4); k++)
            {
                chars[rng.Next(chars.Length)] = alphabet[rng.Next(alphabet.Length)];
            }
            var text = new string(chars, 0, round % 5 == 0 ? rng.Next(chars.Length) : chars.Length);
            try
            {
                _ = DicomJsonWriter.Serialize(DicomJsonReader.Parse(text));
            }
            catch (DicomFormatException)
            {
            }
            catch (Exception ex)
            {
                Assert.Fail($"round {round}: {ex}");
            }
        }
    }

    [Fact]
    public void A_huge_length_in_a_small_file_allocates_nothing_like_it()
    {
        // 1 KiB: one element claiming 0xFFFFFFF0 bytes, followed by filler.
        var data = new byte[1024];
        BinaryPrimitives.WriteUInt16LittleEndian(data, 0x0010);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2), 0x0010);
        data[4] = (byte)'U';
        data[5] = (byte)'T';
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(8), 0xFFFFFFF0);
        foreach (var input in new Func<DicomFile>[] { () => DicomReader.Read(data), () => DicomReader.Read(new NonSeekableStream(data)) })
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var ex = Assert.Throws<DicomFormatException>(() => input());
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 512 * 1024);
            Assert.Equal(new DicomTag(0x00100010), ex.Tag);
            Assert.Equal(12, ex.Offset); // where the value begins, after the 12-byte explicit VR header
        }
    }

    /// <summary>Nested undefined-length sequences, explicit VR LE: (0040,A730) SQ, item, … closed by delimiters.</summary>
    private static byte[] Nested(int depth, bool close)
    {
        var ms = new MemoryStream();
        Span<byte> b = stackalloc byte[12];
        for (var i = 0; i < depth; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b, 0x0040);
            BinaryPrimitives.WriteUInt16LittleEndian(b[2..], 0xA730);
            b[4] = (byte)'S';
            b[5] = (byte)'Q';
            b[6] = b[7] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(b[8..], 0xFFFFFFFF);
            ms.Write(b);
            BinaryPrimitives.WriteUInt32LittleEndian(b, 0xE000FFFE);
            BinaryPrimitives.WriteUInt32LittleEndian(b[4..], 0xFFFFFFFF);
            ms.Write(b[..8]);
        }
        if (close)
        {
            for (var i = 0; i < depth; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(b, 0xE00DFFFE);
                BinaryPrimitives.WriteUInt32LittleEndian(b[4..], 0);
                ms.Write(b[..8]);
                BinaryPrimitives.WriteUInt32LittleEndian(b, 0xE0DDFFFE);
                ms.Write(b[..8]);
            }
        }
        return ms.ToArray();
    }

    [Fact]
    public void Deep_nesting_within_the_limit_reads_writes_and_serialises_without_recursion()
    {
        var file = DicomReader.Read(Nested(4000, close: true));
        var depth = 0;
        for (var ds = file.Dataset; ds.Count > 0; ds = ds.GetSequence(new DicomTag(0x0040A730))[0])
        {
            depth++;
        }
        Assert.Equal(4000, depth);
        var json = DicomJsonWriter.Serialize(file.Dataset);
        Assert.StartsWith("{\"0040A730\":{\"vr\":\"SQ\",\"Value\":[{", json);
        var again = DicomReader.Read(DicomWriter.ToBytes(file));
        Assert.Equal(json, DicomJsonWriter.Serialize(again.Dataset));
        var undefined = DicomReader.Read(DicomWriter.ToBytes(file, new DicomWriteOptions { UndefinedLengthSequences = true }));
        Assert.Equal(json, DicomJsonWriter.Serialize(undefined.Dataset));
    }

    [Fact]
    public void Nesting_beyond_the_limit_or_unclosed_is_our_error()
    {
        var ex = Assert.Throws<DicomFormatException>(() => DicomReader.Read(Nested(100_000, close: true)));
        Assert.Contains("nesting deeper", ex.Message, StringComparison.Ordinal);
        Assert.Throws<DicomFormatException>(() => DicomReader.Read(Nested(10, close: false)));
    }
}

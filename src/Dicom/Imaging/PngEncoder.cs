using System.Buffers.Binary;
using System.IO.Compression;

namespace EventSourced.Dicom.Imaging;

/// <summary>
/// A minimal PNG encoder (ISO/IEC 15948, W3C PNG 3rd edition) for rendered images: 8-bit greyscale or RGB,
/// no interlacing, each row filtered with the filter that makes the smallest sum of absolute differences
/// (the heuristic of §12.8), the image data compressed with zlib (RFC 1950) from the BCL. Lossless, so a
/// rendered PNG carries exactly the 8-bit values the renderer produced.
/// </summary>
public static class PngEncoder
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>Writes <paramref name="pixels"/> (rows top to bottom, <paramref name="components"/> bytes per pixel: 1 grey, 3 RGB) as a PNG.</summary>
    public static void Encode(Stream output, ReadOnlySpan<byte> pixels, int width, int height, int components, CompressionLevel level = CompressionLevel.Fastest)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (width < 1 || height < 1 || components is not (1 or 3) || pixels.Length < (long)width * height * components)
        {
            throw new ArgumentException($"a {width}×{height} image of {components} component(s) needs {(long)width * height * components} bytes, got {pixels.Length}");
        }

        output.Write(Signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)height);
        header[8] = 8;                                  // bit depth
        header[9] = (byte)(components == 1 ? 0 : 2);    // colour type: greyscale or truecolour
        header[10] = 0;                                 // compression: deflate
        header[11] = 0;                                 // filter method 0 (five filter types)
        header[12] = 0;                                 // no interlace
        WriteChunk(output, "IHDR"u8, header);

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, level, leaveOpen: true))
        {
            var stride = width * components;
            var previous = new byte[stride];
            var candidates = new byte[5][];
            for (var f = 0; f < 5; f++)
            {
                candidates[f] = new byte[stride + 1];
                candidates[f][0] = (byte)f;
            }

            for (var y = 0; y < height; y++)
            {
                var row = pixels.Slice(y * stride, stride);
                var best = 0;
                var bestScore = long.MaxValue;
                for (var f = 0; f < 5; f++)
                {
                    var score = Filter(f, row, previous, components, candidates[f].AsSpan(1));
                    if (score < bestScore)
                    {
                        (best, bestScore) = (f, score);
                    }
                }

                zlib.Write(candidates[best]);
                row.CopyTo(previous);
            }
        }

        WriteChunk(output, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(output, "IEND"u8, []);
    }

    /// <summary>Applies filter <paramref name="type"/> (§9.2) to a row; returns the sum of the filtered bytes as signed values.</summary>
    private static long Filter(int type, ReadOnlySpan<byte> row, ReadOnlySpan<byte> up, int bpp, Span<byte> into)
    {
        long score = 0;
        for (var i = 0; i < row.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
            var predictor = type switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) >> 1,
                _ => Paeth(a, b, c),
            };
            var value = (byte)(row[i] - predictor);
            into[i] = value;
            score += value < 128 ? value : 256 - value;
        }

        return score;
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        output.Write(word);
        output.Write(type);
        output.Write(data);
        var crc = Crc(Crc(0xFFFFFFFFu, type), data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        output.Write(word);
    }

    /// <summary>CRC-32 of ISO 3309 / ITU-T V.42 (§5.5), table-driven.</summary>
    private static uint Crc(uint crc, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}

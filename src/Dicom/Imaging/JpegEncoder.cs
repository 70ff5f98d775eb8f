using System.Buffers;
using System.Buffers.Binary;

namespace EventSourced.Dicom.Imaging;

/// <summary>Chroma subsampling of a 3-component JPEG (JFIF YCbCr).</summary>
public enum JpegSubsampling
{
    /// <summary>Cb and Cr at half resolution both ways (H=V=2 for Y): the usual choice for photographs and thumbnails.</summary>
    Yuv420,

    /// <summary>No subsampling (H=V=1 for every component).</summary>
    Yuv444,
}

/// <summary>Encoder settings.</summary>
public sealed record JpegEncoderOptions
{
    /// <summary>1..100; quantisation tables are Annex K's scaled as the IJG library does (50 = the tables as printed).</summary>
    public int Quality { get; init; } = 90;

    public JpegSubsampling Subsampling { get; init; } = JpegSubsampling.Yuv420;

    public static JpegEncoderOptions Default { get; } = new();
}

/// <summary>
/// Baseline sequential DCT JPEG encoder (ITU-T T.81 §4.5, Annex F; Huffman coding with the typical
/// tables of Annex K.3; quantisation tables of Annex K.1/K.2 scaled by quality as IJG's
/// <c>jpeg_quality_scaling</c>), JFIF 1.01 APP0. 8-bit greyscale (one component) or RGB input
/// converted to YCbCr (JFIF full range) with 4:2:0 or 4:4:4 sampling. No restart intervals.
/// </summary>
public static class JpegEncoder
{
    /// <summary>Encodes interleaved 8-bit samples (1 = grey, 3 = R,G,B) of <paramref name="width"/>×<paramref name="height"/> pixels.</summary>
    public static void Encode(Stream output, ReadOnlySpan<byte> pixels, int width, int height, int components, JpegEncoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        options ??= JpegEncoderOptions.Default;
        if (width is < 1 or > 65535 || height is < 1 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"JPEG dimensions must be 1..65535, not {width}x{height}");
        }
        if (components is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(components), "1 (greyscale) or 3 (RGB) components");
        }
        if (pixels.Length < (long)width * height * components)
        {
            throw new ArgumentException($"{pixels.Length} bytes for {width}x{height}x{components}", nameof(pixels));
        }
        if (options.Quality is < 1 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "quality must be 1..100");
        }
        var writer = new JpegBitWriter(output);
        try
        {
            var lumaQ = ScaledTable(JpegTables.LuminanceQuantisation, options.Quality);
            var chromaQ = ScaledTable(JpegTables.ChrominanceQuantisation, options.Quality);
            var sub = components == 3 && options.Subsampling == JpegSubsampling.Yuv420;
            WriteHeaders(writer, width, height, components, sub, lumaQ, chromaQ);
            var lumaDiv = Divisors(lumaQ);
            if (components == 1)
            {
                EncodeGrey(writer, pixels, width, height, lumaDiv);
            }
            else
            {
                EncodeColour(writer, pixels, width, height, sub, lumaDiv, Divisors(chromaQ));
            }
            writer.FlushBits();
            writer.WriteMarker(0xD9); // EOI
            writer.Flush();
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>IJG quality scaling (jcparam.c): q &lt; 50 → 5000/q %, else 200 − 2q %; entries clamped to 1..255 (baseline).</summary>
    internal static byte[] ScaledTable(ReadOnlySpan<byte> basic, int quality)
    {
        var scale = quality < 50 ? 5000 / quality : 200 - quality * 2;
        var t = new byte[64];
        for (var i = 0; i < 64; i++)
        {
            t[i] = (byte)Math.Clamp((basic[i] * scale + 50) / 100, 1, 255);
        }
        return t;
    }

    // AAN float DCT output is scaled by 8·s(u)·s(v) (jfdctflt.c); fold that into reciprocal divisors.
    private static float[] Divisors(byte[] q)
    {
        ReadOnlySpan<double> aan = [1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.541196100, 0.275899379];
        var d = new float[64];
        for (var r = 0; r < 8; r++)
        {
            for (var c = 0; c < 8; c++)
            {
                d[r * 8 + c] = (float)(1.0 / (q[r * 8 + c] * aan[r] * aan[c] * 8.0));
            }
        }
        return d;
    }

    private static void WriteHeaders(JpegBitWriter w, int width, int height, int components, bool sub, byte[] lumaQ, byte[] chromaQ)
    {
        w.WriteMarker(0xD8); // SOI
        // APP0 JFIF 1.01, no units, 1:1 aspect, no thumbnail.
        w.WriteMarker(0xE0);
        w.WriteBytes([0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
        // DQT: 8-bit precision, zig-zag order (T.81 §B.2.4.1).
        WriteDqt(w, 0, lumaQ);
        if (components == 3)
        {
            WriteDqt(w, 1, chromaQ);
        }
        // SOF0 (T.81 §B.2.2).
        w.WriteMarker(0xC0);
        Span<byte> sof = stackalloc byte[8 + 3 * 3];
        var len = 8 + 3 * components;
        BinaryPrimitives.WriteUInt16BigEndian(sof, (ushort)len);
        sof[2] = 8;
        BinaryPrimitives.WriteUInt16BigEndian(sof[3..], (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(sof[5..], (ushort)width);
        sof[7] = (byte)components;
        if (components == 1)
        {
            sof[8] = 1; sof[9] = 0x11; sof[10] = 0;
        }
        else
        {
            sof[8] = 1; sof[9] = sub ? (byte)0x22 : (byte)0x11; sof[10] = 0;
            sof[11] = 2; sof[12] = 0x11; sof[13] = 1;
            sof[14] = 3; sof[15] = 0x11; sof[16] = 1;
        }
        w.WriteBytes(sof[..len]);
        // DHT (T.81 §B.2.4.2): Annex K.3 tables.
        WriteDht(w, 0x00, JpegTables.DcLuminanceBits, JpegTables.DcLuminanceValues);
        WriteDht(w, 0x10, JpegTables.AcLuminanceBits, JpegTables.AcLuminanceValues);
        if (components == 3)
        {
            WriteDht(w, 0x01, JpegTables.DcChrominanceBits, JpegTables.DcChrominanceValues);
            WriteDht(w, 0x11, JpegTables.AcChrominanceBits, JpegTables.AcChrominanceValues);
        }
        // SOS (T.81 §B.2.3): all components interleaved, Ss=0, Se=63, Ah=Al=0.
        w.WriteMarker(0xDA);
        Span<byte> sos = stackalloc byte[6 + 2 * 3];
        var slen = 6 + 2 * components;
        BinaryPrimitives.WriteUInt16BigEndian(sos, (ushort)slen);
        sos[2] = (byte)components;
        var p = 3;
        for (var c = 0; c < components; c++)
        {
            sos[p++] = (byte)(c + 1);
            sos[p++] = c == 0 ? (byte)0x00 : (byte)0x11;
        }
        sos[p++] = 0;
        sos[p++] = 63;
        sos[p] = 0;
        w.WriteBytes(sos[..slen]);
    }

    private static void WriteDqt(JpegBitWriter w, int id, byte[] natural)
    {
        w.WriteMarker(0xDB);
        Span<byte> seg = stackalloc byte[67];
        BinaryPrimitives.WriteUInt16BigEndian(seg, 67);
        seg[2] = (byte)id;
        for (var k = 0; k < 64; k++)
        {
            seg[3 + k] = natural[JpegTables.ZigZag[k]];
        }
        w.WriteBytes(seg);
    }

    private static void WriteDht(JpegBitWriter w, byte classAndId, ReadOnlySpan<byte> bits, ReadOnlySpan<byte> values)
    {
        w.WriteMarker(0xC4);
        var len = 2 + 1 + 16 + values.Length;
        Span<byte> head = stackalloc byte[3];
        BinaryPrimitives.WriteUInt16BigEndian(head, (ushort)len);
        head[2] = classAndId;
        w.WriteBytes(head);
        w.WriteBytes(bits);
        w.WriteBytes(values);
    }

    private static void EncodeGrey(JpegBitWriter w, ReadOnlySpan<byte> pixels, int width, int height, float[] div)
    {
        Span<float> block = stackalloc float[64];
        Span<int> coef = stackalloc int[64];
        var dc = JpegTables.DcLuminance;
        var ac = JpegTables.AcLuminance;
        var pred = 0;
        var lastX = width - 1;
        var lastY = height - 1;
        for (var by = 0; by < height; by += 8)
        {
            for (var bx = 0; bx < width; bx += 8)
            {
                var fullX = bx + 8 <= width;
                for (var y = 0; y < 8; y++)
                {
                    var row = pixels.Slice(Math.Min(by + y, lastY) * width);
                    if (fullX)
                    {
                        var src = row.Slice(bx, 8);
                        for (var x = 0; x < 8; x++)
                        {
                            block[y * 8 + x] = src[x] - 128f;
                        }
                    }
                    else
                    {
                        for (var x = 0; x < 8; x++)
                        {
                            block[y * 8 + x] = row[Math.Min(bx + x, lastX)] - 128f;
                        }
                    }
                }
                pred = EncodeBlock(w, block, coef, div, pred, dc, ac);
            }
        }
    }

    private static void EncodeColour(JpegBitWriter w, ReadOnlySpan<byte> rgb, int width, int height, bool sub, float[] lumaDiv, float[] chromaDiv)
    {
        var mcu = sub ? 16 : 8;
        var pw = (width + mcu - 1) / mcu * mcu;
        var ph = (height + mcu - 1) / mcu * mcu;
        var size = pw * ph;
        var planes = ArrayPool<float>.Shared.Rent(size * 3);
        try
        {
            var yp = planes.AsSpan(0, size);
            var cbp = planes.AsSpan(size, size);
            var crp = planes.AsSpan(size * 2, size);
            // JFIF colour conversion (level-shifted by −128), edge pixels replicated into the padding.
            for (var y = 0; y < ph; y++)
            {
                var sy = Math.Min(y, height - 1) * width * 3;
                for (var x = 0; x < pw; x++)
                {
                    var s = sy + Math.Min(x, width - 1) * 3;
                    float r = rgb[s], g = rgb[s + 1], b = rgb[s + 2];
                    var i = y * pw + x;
                    yp[i] = 0.299f * r + 0.587f * g + 0.114f * b - 128f;
                    cbp[i] = -0.168735892f * r - 0.331264108f * g + 0.5f * b;
                    crp[i] = 0.5f * r - 0.418687589f * g - 0.081312411f * b;
                }
            }
            Span<float> block = stackalloc float[64];
            Span<int> coef = stackalloc int[64];
            int predY = 0, predCb = 0, predCr = 0;
            for (var my = 0; my < ph; my += mcu)
            {
                for (var mx = 0; mx < pw; mx += mcu)
                {
                    if (sub)
                    {
                        for (var k = 0; k < 4; k++)
                        {
                            Copy(yp, pw, mx + (k & 1) * 8, my + (k >> 1) * 8, block);
                            predY = EncodeBlock(w, block, coef, lumaDiv, predY, JpegTables.DcLuminance, JpegTables.AcLuminance);
                        }
                        Downsample(cbp, pw, mx, my, block);
                        predCb = EncodeBlock(w, block, coef, chromaDiv, predCb, JpegTables.DcChrominance, JpegTables.AcChrominance);
                        Downsample(crp, pw, mx, my, block);
                        predCr = EncodeBlock(w, block, coef, chromaDiv, predCr, JpegTables.DcChrominance, JpegTables.AcChrominance);
                    }
                    else
                    {
                        Copy(yp, pw, mx, my, block);
                        predY = EncodeBlock(w, block, coef, lumaDiv, predY, JpegTables.DcLuminance, JpegTables.AcLuminance);
                        Copy(cbp, pw, mx, my, block);
                        predCb = EncodeBlock(w, block, coef, chromaDiv, predCb, JpegTables.DcChrominance, JpegTables.AcChrominance);
                        Copy(crp, pw, mx, my, block);
                        predCr = EncodeBlock(w, block, coef, chromaDiv, predCr, JpegTables.DcChrominance, JpegTables.AcChrominance);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(planes);
        }
    }

    private static void Copy(ReadOnlySpan<float> plane, int stride, int x0, int y0, Span<float> block)
    {
        for (var y = 0; y < 8; y++)
        {
            plane.Slice((y0 + y) * stride + x0, 8).CopyTo(block.Slice(y * 8, 8));
        }
    }

    // 2×2 box average of a 16×16 area into one 8×8 block (the IJG h2v2 downsampler without its dither bias).
    private static void Downsample(ReadOnlySpan<float> plane, int stride, int x0, int y0, Span<float> block)
    {
        for (var y = 0; y < 8; y++)
        {
            var r0 = plane.Slice((y0 + 2 * y) * stride + x0, 16);
            var r1 = plane.Slice((y0 + 2 * y + 1) * stride + x0, 16);
            for (var x = 0; x < 8; x++)
            {
                block[y * 8 + x] = (r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1]) * 0.25f;
            }
        }
    }

    /// <summary>FDCT, quantisation and Huffman coding of one level-shifted 8×8 block; returns the new DC predictor.</summary>
    private static int EncodeBlock(JpegBitWriter w, Span<float> b, Span<int> coef, float[] div, int pred, HuffmanCode dcTable, HuffmanCode acTable)
    {
        ForwardDct(b);
        for (var i = 0; i < 64; i++)
        {
            // Round half away from zero, as IJG's float path does (within float precision).
            coef[i] = (int)MathF.Round(b[i] * div[i], MidpointRounding.AwayFromZero);
        }
        var dc = coef[0];
        var diff = dc - pred;
        EmitValue(w, dcTable, 0, diff);
        var run = 0;
        var zz = JpegTables.ZigZag;
        for (var k = 1; k < 64; k++)
        {
            var v = coef[zz[k]];
            if (v == 0)
            {
                run++;
                continue;
            }
            while (run > 15)
            {
                w.WriteBits(acTable.Codes[0xF0], acTable.Lengths[0xF0]); // ZRL
                run -= 16;
            }
            EmitValue(w, acTable, run << 4, v);
            run = 0;
        }
        if (run > 0)
        {
            w.WriteBits(acTable.Codes[0x00], acTable.Lengths[0x00]); // EOB
        }
        return dc;
    }

    // T.81 §F.1.2.1/F.1.2.2: category SSSS, Huffman code of (run << 4 | SSSS), then SSSS low bits of v (v − 1 when negative).
    private static void EmitValue(JpegBitWriter w, HuffmanCode table, int runShifted, int v)
    {
        var a = v < 0 ? -v : v;
        var size = a == 0 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)a);
        var symbol = runShifted | size;
        w.WriteBits(table.Codes[symbol], table.Lengths[symbol]);
        if (size > 0)
        {
            var bits = v < 0 ? v - 1 : v;
            w.WriteBits((uint)bits & ((1u << size) - 1), size);
        }
    }

    /// <summary>AAN float forward DCT (as IJG jfdctflt.c), in place; output scaled by 8·s(u)·s(v).</summary>
    private static void ForwardDct(Span<float> d)
    {
        for (var pass = 0; pass < 2; pass++)
        {
            var step = pass == 0 ? 1 : 8;   // along rows, then columns
            var next = pass == 0 ? 8 : 1;
            for (var line = 0; line < 8; line++)
            {
                var o = line * next;
                float d0 = d[o], d1 = d[o + step], d2 = d[o + 2 * step], d3 = d[o + 3 * step];
                float d4 = d[o + 4 * step], d5 = d[o + 5 * step], d6 = d[o + 6 * step], d7 = d[o + 7 * step];
                var tmp0 = d0 + d7;
                var tmp7 = d0 - d7;
                var tmp1 = d1 + d6;
                var tmp6 = d1 - d6;
                var tmp2 = d2 + d5;
                var tmp5 = d2 - d5;
                var tmp3 = d3 + d4;
                var tmp4 = d3 - d4;

                var tmp10 = tmp0 + tmp3;
                var tmp13 = tmp0 - tmp3;
                var tmp11 = tmp1 + tmp2;
                var tmp12 = tmp1 - tmp2;
                d[o] = tmp10 + tmp11;
                d[o + 4 * step] = tmp10 - tmp11;
                var z1 = (tmp12 + tmp13) * 0.707106781f;
                d[o + 2 * step] = tmp13 + z1;
                d[o + 6 * step] = tmp13 - z1;

                tmp10 = tmp4 + tmp5;
                tmp11 = tmp5 + tmp6;
                tmp12 = tmp6 + tmp7;
                var z5 = (tmp10 - tmp12) * 0.382683433f;
                var z2 = 0.541196100f * tmp10 + z5;
                var z4 = 1.306562965f * tmp12 + z5;
                var z3 = tmp11 * 0.707106781f;
                var z11 = tmp7 + z3;
                var z13 = tmp7 - z3;
                d[o + 5 * step] = z13 + z2;
                d[o + 3 * step] = z13 - z2;
                d[o + step] = z11 + z4;
                d[o + 7 * step] = z11 - z4;
            }
        }
    }
}

/// <summary>A Huffman table as code/length per symbol (T.81 Annex C).</summary>
internal sealed class HuffmanCode
{
    public uint[] Codes { get; } = new uint[256];
    public int[] Lengths { get; } = new int[256];

    /// <summary>Generates codes from BITS/HUFFVAL (T.81 §C.2, Figures C.1–C.3).</summary>
    public HuffmanCode(ReadOnlySpan<byte> bits, ReadOnlySpan<byte> values)
    {
        uint code = 0;
        var k = 0;
        for (var len = 1; len <= 16; len++)
        {
            for (var i = 0; i < bits[len - 1]; i++)
            {
                Codes[values[k]] = code;
                Lengths[values[k]] = len;
                code++;
                k++;
            }
            code <<= 1;
        }
    }
}

/// <summary>Entropy-coded output with 0xFF byte stuffing (T.81 §B.1.1.5, F.1.2.3), buffered to the stream.</summary>
internal sealed class JpegBitWriter : IDisposable
{
    private readonly Stream _out;
    private byte[] _buf = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private int _len;
    private ulong _acc;
    private int _bits;

    public JpegBitWriter(Stream output) => _out = output;

    public void WriteBits(uint value, int count)
    {
        _acc = (_acc << count) | value;
        _bits += count;
        while (_bits >= 8)
        {
            _bits -= 8;
            var b = (byte)(_acc >> _bits);
            Put(b);
            if (b == 0xFF)
            {
                Put(0x00);
            }
        }
    }

    /// <summary>Pads the last byte with 1-bits (T.81 §F.1.2.3).</summary>
    public void FlushBits()
    {
        if (_bits > 0)
        {
            WriteBits((1u << (8 - _bits)) - 1, 8 - _bits);
        }
        _acc = 0;
    }

    public void WriteMarker(byte marker)
    {
        Put(0xFF);
        Put(marker);
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            Put(b);
        }
    }

    private void Put(byte b)
    {
        if (_len == _buf.Length)
        {
            Flush();
        }
        _buf[_len++] = b;
    }

    public void Flush()
    {
        _out.Write(_buf, 0, _len);
        _len = 0;
    }

    public void Dispose()
    {
        if (_buf.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buf);
            _buf = [];
        }
    }
}

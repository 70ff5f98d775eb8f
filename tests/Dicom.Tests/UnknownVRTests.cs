using System.Buffers.Binary;
using System.Text.Json.Nodes;

namespace EventSourced.Dicom.Tests;

/// <summary>
/// Explicit VR UN values of standard tags (PS3.5 §6.2.2). pydicom re-interprets them with the dictionary
/// VR (our default); DCMTK keeps them UN (our option). Each mode is checked against its oracle.
/// </summary>
public class UnknownVRTests
{
    private static byte[] File()
    {
        var ds = new MemoryStream();
        void Short(ushort g, ushort e, string vr, byte[] v)
        {
            var h = new byte[8];
            BinaryPrimitives.WriteUInt16LittleEndian(h, g);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(2), e);
            h[4] = (byte)vr[0];
            h[5] = (byte)vr[1];
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(6), (ushort)v.Length);
            ds.Write(h);
            ds.Write(v);
        }
        void Long(MemoryStream s, ushort g, ushort e, string vr, byte[] v)
        {
            var h = new byte[12];
            BinaryPrimitives.WriteUInt16LittleEndian(h, g);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(2), e);
            h[4] = (byte)vr[0];
            h[5] = (byte)vr[1];
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(8), (uint)v.Length);
            s.Write(h);
            s.Write(v);
        }
        byte[] Implicit(ushort g, ushort e, byte[] v)
        {
            var b = new byte[8 + v.Length];
            BinaryPrimitives.WriteUInt16LittleEndian(b, g);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2), e);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), (uint)v.Length);
            v.CopyTo(b, 8);
            return b;
        }
        var item = Implicit(0x0008, 0x1150, "1.2.840.10008.5.1.4.1.1.2\0"u8.ToArray()).Concat(Implicit(0x0008, 0x1155, "1.2.3.4\0"u8.ToArray())).ToArray();
        var seq = new byte[8 + item.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(seq, 0xE000FFFE);
        BinaryPrimitives.WriteUInt32LittleEndian(seq.AsSpan(4), (uint)item.Length);
        item.CopyTo(seq, 8);
        Short(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7\0"u8.ToArray());
        Short(0x0008, 0x0018, "UI", "1.2.3.4.5\0"u8.ToArray());
        Long(ds, 0x0008, 0x1115, "UN", seq);
        Long(ds, 0x0010, 0x0010, "UN", "Doe^John"u8.ToArray());
        Long(ds, 0x0028, 0x0010, "UN", [0, 2]);
        var metaBody = new MemoryStream();
        Long(metaBody, 0x0002, 0x0001, "OB", [0, 1]);
        var ts = "1.2.840.10008.1.2.1\0"u8.ToArray();
        var tsEl = new byte[8 + ts.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(tsEl, 0x0002);
        BinaryPrimitives.WriteUInt16LittleEndian(tsEl.AsSpan(2), 0x0010);
        tsEl[4] = (byte)'U';
        tsEl[5] = (byte)'I';
        BinaryPrimitives.WriteUInt16LittleEndian(tsEl.AsSpan(6), (ushort)ts.Length);
        ts.CopyTo(tsEl, 8);
        metaBody.Write(tsEl);
        var gl = new byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(gl, 0x0002);
        gl[4] = (byte)'U';
        gl[5] = (byte)'L';
        BinaryPrimitives.WriteUInt16LittleEndian(gl.AsSpan(6), 4);
        BinaryPrimitives.WriteUInt32LittleEndian(gl.AsSpan(8), (uint)metaBody.Length);
        return [.. new byte[128], .. "DICM"u8.ToArray(), .. gl, .. metaBody.ToArray(), .. ds.ToArray()];
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void UN_of_standard_tags_matches_pydicom_when_reinterpreted_and_DCMTK_when_kept(bool reinterpret)
    {
        var path = Path.Combine(Path.GetTempPath(), $"es-dicom-un-{Guid.NewGuid():N}.dcm");
        System.IO.File.WriteAllBytes(path, File());
        try
        {
            var ours = JsonNode.Parse(DicomJsonWriter.Serialize(DicomReader.Read(File(), new DicomReadOptions { ReinterpretUN = reinterpret }).Dataset));
            var theirs = reinterpret ? Oracles.PydicomJson(path) : Oracles.Dcm2Json(path);
            var diffs = Oracles.Diff(ours, theirs);
            Assert.True(diffs.Count == 0, string.Join("\n", diffs));
            Assert.Equal(reinterpret ? "SQ" : "UN", ours!["00081115"]!["vr"]!.GetValue<string>());
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }
}

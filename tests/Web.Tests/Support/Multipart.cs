using System.Net.Http.Headers;
using System.Text;

namespace EventSourced.Web.Tests.Support;

/// <summary>multipart/related bodies built by hand, byte for byte, so tests can also build broken ones.</summary>
public static class Multipart
{
    public const string CorpusFolder = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

    public static byte[] Corpus(string name) => File.ReadAllBytes(Path.Combine(CorpusFolder, name));

    public static ByteArrayContent Related(IEnumerable<(byte[] Body, string? ContentType)> parts, string boundary = "esb-0123456789", bool close = true, string type = "application/dicom")
    {
        var body = new MemoryStream();
        void Text(string s) => body.Write(Encoding.ASCII.GetBytes(s));
        foreach (var (bytes, contentType) in parts)
        {
            Text($"--{boundary}\r\n");
            if (contentType is not null)
            {
                Text($"Content-Type: {contentType}\r\n");
            }

            Text("\r\n");
            body.Write(bytes);
            Text("\r\n");
        }

        if (close)
        {
            Text($"--{boundary}--\r\n");
        }

        var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/related; type=\"{type}\"; boundary={boundary}");
        return content;
    }

    public static ByteArrayContent Related(params byte[][] instances) =>
        Related(instances.Select(i => (i, (string?)"application/dicom")));
}

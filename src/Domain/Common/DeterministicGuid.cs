using System.Security.Cryptography;
using System.Text;

namespace EventSourced.Domain.Common;

/// <summary>
/// Name-based UUIDs (RFC 9562 §5.5, version 5, SHA-1). Streams whose natural key is a DICOM UID
/// (StudyInstanceUID, …) get a Guid derived from the tenant and the UID, so the store keeps one stream
/// identity type (Guid) and two tenants with the same UID can never share a stream. See
/// docs/architecture.md, "Stream identity".
/// </summary>
public static class DeterministicGuid
{
    public static Guid Create(Guid namespaceId, string name)
    {
        Span<byte> ns = stackalloc byte[16];
        if (!namespaceId.TryWriteBytes(ns, bigEndian: true, out _))
        {
            throw new InvalidOperationException("A Guid is 16 bytes.");
        }

        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[16 + nameBytes.Length];
        ns.CopyTo(input);
        nameBytes.CopyTo(input, 16);

        return FromName(input);
    }

    /// <summary>A stream id scoped to a tenant: the tenant id and the key are joined with a separator neither may contain.</summary>
    public static Guid ForTenant(Guid namespaceId, string tenantId, string key)
    {
        // Create(namespaceId, tenantId + "\n" + key), without building the name or its bytes on the heap: a retrieval
        // derives a study's stream id on every request.
        var length = 16 + Encoding.UTF8.GetByteCount(tenantId) + 1 + Encoding.UTF8.GetByteCount(key);
        if (length > 1024)
        {
            return Create(namespaceId, tenantId + "\n" + key);
        }

        Span<byte> input = stackalloc byte[length];
        if (!namespaceId.TryWriteBytes(input, bigEndian: true, out _))
        {
            throw new InvalidOperationException("A Guid is 16 bytes.");
        }

        var at = 16 + Encoding.UTF8.GetBytes(tenantId, input[16..]);
        input[at++] = (byte)'\n';
        Encoding.UTF8.GetBytes(key, input[at..]);
        return FromName(input);
    }

    private static Guid FromName(ReadOnlySpan<byte> input)
    {
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(input, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}

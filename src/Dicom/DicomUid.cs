using System.Numerics;
using System.Security.Cryptography;

namespace EventSourced.Dicom;

/// <summary>Unique identifiers (PS3.5 §9).</summary>
public static class DicomUid
{
    /// <summary>
    /// PS3.5 §9.1: at most 64 characters, digits and dots only, components non-empty and without a
    /// leading zero unless the component is the single digit 0.
    /// </summary>
    public static bool IsValid(string? uid)
    {
        if (string.IsNullOrEmpty(uid) || uid.Length > 64)
        {
            return false;
        }
        var start = 0;
        for (var i = 0; i <= uid.Length; i++)
        {
            if (i == uid.Length || uid[i] == '.')
            {
                var len = i - start;
                if (len == 0 || (len > 1 && uid[start] == '0'))
                {
                    return false;
                }
                start = i + 1;
            }
            else if (!char.IsAsciiDigit(uid[i]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>A UUID as a UID under the 2.25 arc (PS3.5 §B.2): the 128-bit value as an unsigned decimal.</summary>
    public static string FromGuid(Guid guid) =>
        "2.25." + new BigInteger(guid.ToByteArray(bigEndian: true), isUnsigned: true, isBigEndian: true).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// A new UID: under <paramref name="orgRoot"/> when given (root + "." + random decimal filling up to 64
    /// characters, PS3.5 §B.1), else 2.25 + a random (version 4) UUID.
    /// </summary>
    public static string Generate(string? orgRoot = null)
    {
        if (orgRoot is null)
        {
            return FromGuid(Guid.NewGuid());
        }
        if (!IsValid(orgRoot) || orgRoot.Length > 44)
        {
            throw new ArgumentException($"'{orgRoot}' is not a UID root with room for a suffix (valid UID, at most 44 characters)", nameof(orgRoot));
        }
        // 128 random bits need at most 39 digits; keep within 64 characters overall.
        var room = 64 - orgRoot.Length - 1;
        var value = new BigInteger(RandomNumberGenerator.GetBytes(16), isUnsigned: true);
        var digits = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (digits.Length > room)
        {
            digits = digits[..room];
        }
        digits = digits.TrimStart('0');
        return orgRoot + "." + (digits.Length == 0 ? "1" : digits);
    }
}

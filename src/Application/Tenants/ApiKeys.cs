using System.Security.Cryptography;
using System.Text;

namespace EventSourced.Application.Tenants;

/// <summary>
/// API keys: <c>esk_{keyId}_{secret}</c>, the secret 256 random bits. The key id lets the server find the
/// credential by primary key; only the SHA-256 of the whole key is stored. A slow password hash is not
/// needed for a 256-bit random secret: nothing about it can be guessed faster than brute force.
/// </summary>
public static class ApiKeys
{
    private const string Prefix = "esk_";

    public static (string KeyId, string Key) Generate()
    {
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        return (keyId, $"{Prefix}{keyId}_{secret}");
    }

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static bool TryGetKeyId(string key, out string keyId)
    {
        keyId = HasKeyId(key) ? KeyIdOf(key).ToString() : "";
        return keyId.Length > 0;
    }

    /// <summary>Whether <paramref name="key"/> has the shape <c>esk_{keyId}_…</c> (its id is then <see cref="KeyIdOf"/>).</summary>
    public static bool HasKeyId(string key) =>
        key.StartsWith(Prefix, StringComparison.Ordinal) && key.Length <= 128 && key.IndexOf('_', Prefix.Length) == Prefix.Length + KeyIdLength;

    /// <summary>The key id of a key that <see cref="HasKeyId"/>, without a copy.</summary>
    public static ReadOnlySpan<char> KeyIdOf(string key) => key.AsSpan(Prefix.Length, KeyIdLength);

    private const int KeyIdLength = 16;

    public static bool HashMatches(string key, string storedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(key)), Encoding.ASCII.GetBytes(storedHash));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EventSourced.Application.Tenants;

/// <summary>
/// Slow salted password hashes for X-USERNAME users (document d): PBKDF2-HMAC-SHA256, 600,000 iterations
/// (OWASP's 2023 figure), 16-byte random salt, 32-byte output, stored with its parameters as
/// <c>pbkdf2-sha256$600000${salt}${hash}</c> (base64) so the count can be raised later without
/// invalidating stored hashes. Comparison is constant-time.
/// </summary>
public static class Passwords
{
    public const int DefaultIterations = 600_000;
    private const string Algorithm = "pbkdf2-sha256";

    public static string Hash(string password, int iterations = DefaultIterations)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"{Algorithm}${iterations.ToString(CultureInfo.InvariantCulture)}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    public static bool Verify(string password, string stored)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != Algorithm
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < 1)
        {
            return false;
        }

        byte[] salt, expected;
        try
        {
            (salt, expected) = (Convert.FromBase64String(parts[2]), Convert.FromBase64String(parts[3]));
        }
        catch (FormatException)
        {
            return false;
        }

        if (expected.Length == 0)
        {
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>A generated password: 128 random bits, URL-safe.</summary>
    public static string Generate() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

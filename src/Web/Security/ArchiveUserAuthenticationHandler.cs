using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using EventSourced.Application.Tenants;
using EventSourced.Projections.Tenants;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace EventSourced.Web.Security;

public sealed class ArchiveLoginOptions
{
    public const string Section = "Auth:ArchiveUsers";

    /// <summary>Failures of one username within <see cref="FailureWindow"/> before it is throttled.</summary>
    public int MaxFailuresPerUser { get; set; } = 5;

    /// <summary>Failures from one client IP within <see cref="FailureWindow"/> before it is throttled (higher: a NAT hides many users).</summary>
    public int MaxFailuresPerAddress { get; set; } = 20;

    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a verified username/password pair is remembered, so PBKDF2 runs once per user per period, not per call.</summary>
    public TimeSpan VerifiedCacheFor { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Document d's <c>X-USERNAME</c>/<c>X-PASSWORD</c>. Users are global by name and carry their tenant and
/// permissions. Failed attempts are throttled per username and per client address (see
/// <see cref="LoginThrottle"/>, shared by every node through the database): while throttled the answer is 429 with Retry-After, and the password is
/// not even checked.
/// </summary>
public sealed class ArchiveUserAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IDocumentStore store,
    LoginThrottle throttle,
    VerifiedPasswordCache verified)
    : PrincipalAuthenticationHandler(options, logger, encoder)
{
    public const string SchemeName = "ArchiveUser";
    public const string UsernameHeader = "X-USERNAME";
    public const string PasswordHeader = "X-PASSWORD";
    private const string ThrottledItem = "auth.archive.retry-after";
    private static readonly Lazy<string> UnknownUserHash = new(() => Passwords.Hash(Passwords.Generate()));

    protected override string ChallengeDetail => "Valid X-USERNAME and X-PASSWORD headers are required.";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var username = Request.Headers[UsernameHeader];
        var password = Request.Headers[PasswordHeader];
        if (username.Count == 0 && password.Count == 0)
        {
            return AuthenticateResult.NoResult();
        }

        if (username.Count != 1 || password.Count != 1 || string.IsNullOrEmpty(username[0]) || string.IsNullOrEmpty(password[0]))
        {
            return AuthenticateResult.Fail("Both X-USERNAME and X-PASSWORD, once each, are required.");
        }

        var user = username[0]!;
        var address = Context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var recent = await throttle.CheckAsync(user, address, Context.RequestAborted);
        if (recent.RetryAfter is { } wait)
        {
            await throttle.RecordFailureAsync(recent, Context.RequestAborted);
            Context.Items[ThrottledItem] = wait;
            return AuthenticateResult.Fail("Too many failed attempts.");
        }

        await using var session = store.QuerySession();
        var credential = await session.LoadAsync<ArchiveUserCredential>(user, Context.RequestAborted);
        if (credential is null)
        {
            // The same slow hash as for a known user, so the answer's timing does not tell which usernames exist.
            Passwords.Verify(password[0]!, UnknownUserHash.Value);
            await throttle.RecordFailureAsync(recent, Context.RequestAborted);
            return AuthenticateResult.Fail("Unknown user or wrong password.");
        }

        if (!verified.Verify(user, password[0]!, credential.PasswordHash))
        {
            await throttle.RecordFailureAsync(recent, Context.RequestAborted);
            return AuthenticateResult.Fail("Unknown user or wrong password.");
        }

        await throttle.RecordSuccessAsync(recent, Context.RequestAborted);
        var principal = Principal.Create(SchemeName, credential.TenantId, credential.Id, credential.Permissions);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override async Task BeforeChallengeAsync()
    {
        if (Context.Items[ThrottledItem] is TimeSpan wait)
        {
            Response.Headers.RetryAfter = Math.Ceiling(Math.Max(1, wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            await WriteAsync(Context, StatusCodes.Status429TooManyRequests, ArchiveErrorsTooManyAttempts, null,
                "Too many failed sign-in attempts; try again after the time in Retry-After.");
        }
    }

    /// <summary>Our error_type for a throttled sign-in (document d names none); answered with 429.</summary>
    public const string ArchiveErrorsTooManyAttempts = "too_many_attempts";
}

/// <summary>
/// PBKDF2 at 600,000 iterations costs a few hundred milliseconds of CPU: run it once per user and period,
/// not on every call. A verified pair is remembered as an HMAC (per-process random key) of the password
/// and the stored hash, so the cache holds nothing that reveals the password, and a changed stored hash
/// misses.
/// </summary>
public sealed class VerifiedPasswordCache(IOptions<ArchiveLoginOptions> options, TimeProvider time)
{
    private readonly byte[] key = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, (byte[] Mac, DateTimeOffset Until)> verified = new();

    public bool Verify(string username, string password, string storedHash)
    {
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(password + "\n" + storedHash));
        var now = time.GetUtcNow();
        if (verified.TryGetValue(username, out var entry) && entry.Until > now && CryptographicOperations.FixedTimeEquals(entry.Mac, mac))
        {
            return true;
        }

        if (!Passwords.Verify(password, storedHash))
        {
            return false;
        }

        if (verified.Count > 10_000)
        {
            verified.Clear();
        }

        verified[username] = (mac, now + options.Value.VerifiedCacheFor);
        return true;
    }
}

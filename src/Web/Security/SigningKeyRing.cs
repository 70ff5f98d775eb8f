using System.Security.Cryptography;
using Marten;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace EventSourced.Web.Security;

/// <summary>
/// A signing key of the ring, stored as a Marten document in the default tenant (every process of the
/// deployment signs and validates with the same ring). The private key is PKCS#8 in the database:
/// whoever can read the <c>mt_doc_signingkeydocument</c> table can mint tokens (see docs/architecture.md,
/// "Access tokens: threat model"). <see cref="ToString"/> never shows it, so a log line cannot leak it.
/// </summary>
public sealed class SigningKeyDocument
{
    public string Id { get; set; } = "";
    public string Algorithm { get; set; } = SecurityAlgorithms.RsaSha256;
    public DateTimeOffset CreatedAt { get; set; }
    public string PrivateKeyPkcs8 { get; set; } = "";

    public override string ToString() => $"SigningKey {Id} ({Algorithm}, created {CreatedAt:O})";
}

/// <summary>
/// The key ring: new tokens are signed with the newest key; a key superseded by a newer one still
/// validates until every token it could have signed has expired (superseded + token lifetime + clock
/// skew), then it leaves the ring. Rotation is adding a key: no token is invalidated, no downtime. Each
/// process caches the ring for <see cref="CacheFor"/> and reloads at once when it meets an unknown key id
/// (another process rotated), at most once a second.
/// </summary>
public sealed class SigningKeyRing(IDocumentStore store, IOptions<AccessTokenOptions> options, TimeProvider time)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim gate = new(1, 1);
    private IReadOnlyList<(SigningKeyDocument Document, RsaSecurityKey Key, DateTimeOffset? SupersededAt)> ring = [];
    private DateTimeOffset loadedAt = DateTimeOffset.MinValue;

    public async Task<(string KeyId, SigningCredentials Credentials)> CurrentAsync(CancellationToken cancellation)
    {
        var keys = await LoadAsync(force: false, cancellation);
        if (keys.Count == 0)
        {
            await RotateAsync(cancellation);
            keys = await LoadAsync(force: true, cancellation);
        }

        var newest = keys[0];
        return (newest.Document.Id, new SigningCredentials(newest.Key, newest.Document.Algorithm));
    }

    /// <summary>The keys that validate now; reloads first when <paramref name="keyId"/> is not among them.</summary>
    public async Task<IReadOnlyList<SecurityKey>> ValidationKeysAsync(string? keyId, CancellationToken cancellation)
    {
        var keys = await LoadAsync(force: false, cancellation);
        if (keyId is not null && keys.All(k => k.Document.Id != keyId) && time.GetUtcNow() - loadedAt > TimeSpan.FromSeconds(1))
        {
            keys = await LoadAsync(force: true, cancellation);
        }

        var now = time.GetUtcNow();
        var grace = options.Value.Lifetime + options.Value.ClockSkew;
        return [.. keys.Where(k => k.SupersededAt is null || k.SupersededAt.Value + grace > now).Select(k => (SecurityKey)k.Key)];
    }

    /// <summary>The public halves of the validating keys, as a JWK Set (RFC 7517).</summary>
    public async Task<object> JwksAsync(CancellationToken cancellation)
    {
        var keys = await ValidationKeysAsync(null, cancellation);
        return new
        {
            keys = keys.OfType<RsaSecurityKey>().Select(key =>
            {
                var parameters = key.Rsa.ExportParameters(includePrivateParameters: false);
                return new Dictionary<string, string>
                {
                    ["kty"] = "RSA",
                    ["use"] = "sig",
                    ["alg"] = SecurityAlgorithms.RsaSha256,
                    ["kid"] = key.KeyId,
                    ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
                    ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
                };
            }).ToList(),
        };
    }

    /// <summary>Adds a new newest key; drops keys that no token can need any more. Returns the new key id.</summary>
    public async Task<string> RotateAsync(CancellationToken cancellation)
    {
        using var rsa = RSA.Create(2048);
        var now = time.GetUtcNow();
        var document = new SigningKeyDocument
        {
            Id = $"{now:yyyyMMddHHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}",
            CreatedAt = now,
            PrivateKeyPkcs8 = Convert.ToBase64String(rsa.ExportPkcs8PrivateKey()),
        };

        await using var session = store.LightweightSession();
        session.Store(document);
        var all = await session.Query<SigningKeyDocument>().OrderByDescending(k => k.CreatedAt).ToListAsync(cancellation);
        var grace = options.Value.Lifetime + options.Value.ClockSkew + TimeSpan.FromDays(1);
        for (var i = 1; i < all.Count; i++)
        {
            if (all[i - 1].CreatedAt + grace < now)
            {
                session.Delete(all[i]);
            }
        }

        await session.SaveChangesAsync(cancellation);
        await LoadAsync(force: true, cancellation);
        return document.Id;
    }

    private async Task<IReadOnlyList<(SigningKeyDocument Document, RsaSecurityKey Key, DateTimeOffset? SupersededAt)>> LoadAsync(bool force, CancellationToken cancellation)
    {
        if (!force && time.GetUtcNow() - loadedAt < CacheFor)
        {
            return ring;
        }

        await gate.WaitAsync(cancellation);
        try
        {
            if (!force && time.GetUtcNow() - loadedAt < CacheFor)
            {
                return ring;
            }

            await using var session = store.QuerySession();
            var documents = await session.Query<SigningKeyDocument>().OrderByDescending(k => k.CreatedAt).ToListAsync(cancellation);
            var loaded = new List<(SigningKeyDocument, RsaSecurityKey, DateTimeOffset?)>();
            for (var i = 0; i < documents.Count; i++)
            {
                var rsa = RSA.Create();
                rsa.ImportPkcs8PrivateKey(Convert.FromBase64String(documents[i].PrivateKeyPkcs8), out _);
                loaded.Add((documents[i], new RsaSecurityKey(rsa) { KeyId = documents[i].Id }, i == 0 ? null : documents[i - 1].CreatedAt));
            }

            ring = loaded;
            loadedAt = time.GetUtcNow();
            return ring;
        }
        finally
        {
            gate.Release();
        }
    }
}

using System.Security.Cryptography;
using System.Text;
using Marten;
using Microsoft.Extensions.Options;

namespace EventSourced.Web.Security;

/// <summary>Configuration section <c>Signing</c>: the server keys that sign presigned upload URLs and viewer tokens.</summary>
public sealed class SigningOptions
{
    public const string Section = "Signing";

    /// <summary>A new key signs from this age of the current one on; older keys still verify what they signed.</summary>
    public TimeSpan KeyRotation { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The longest lifetime of anything signed (upload URLs, viewer tokens): a retired key verifies for this long, then is deleted.</summary>
    public TimeSpan MaxSignedLifetime { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>One HMAC-SHA256 key of the ring, persisted in PostgreSQL (Marten document, global: keys are not per tenant).</summary>
public sealed record HmacSigningKey
{
    public required string Id { get; init; }
    public required byte[] Secret { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>
/// A rotating ring of HMAC-SHA256 keys, shared by every node through the database. The newest key younger
/// than <see cref="SigningOptions.KeyRotation"/> signs; any key of the ring younger than rotation plus
/// <see cref="SigningOptions.MaxSignedLifetime"/> verifies, so a rotation never invalidates a URL or token
/// before its own expiry. Each use names a purpose that is part of the signed text, so an upload URL's
/// signature can never pass for a viewer token's and the other way round.
/// </summary>
public sealed class HmacKeyRing(IDocumentStore store, IOptions<SigningOptions> options, TimeProvider clock)
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private volatile IReadOnlyList<HmacSigningKey> cached = [];
    private DateTimeOffset cachedAt = DateTimeOffset.MinValue;

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    /// <summary>Signs with the current key; <paramref name="textFor"/> gets the key id, which the signed text should contain.</summary>
    public async Task<(string KeyId, byte[] Signature)> SignAsync(string purpose, Func<string, string> textFor, CancellationToken cancellation)
    {
        var key = await CurrentAsync(cancellation);
        return (key.Id, Mac(key, purpose, textFor(key.Id)));
    }

    /// <summary>True when <paramref name="keyId"/> names a key still accepted and the signature is its MAC of the text (constant-time compare).</summary>
    public async Task<bool> VerifyAsync(string purpose, string keyId, string text, byte[] signature, CancellationToken cancellation)
    {
        var key = await FindAsync(keyId, cancellation);
        return key is not null
            && clock.GetUtcNow() < key.CreatedAt + options.Value.KeyRotation + options.Value.MaxSignedLifetime
            && CryptographicOperations.FixedTimeEquals(Mac(key, purpose, text), signature);
    }

    private static byte[] Mac(HmacSigningKey key, string purpose, string text) =>
        HMACSHA256.HashData(key.Secret, Encoding.UTF8.GetBytes(purpose + "\n" + text));

    private async Task<HmacSigningKey> CurrentAsync(CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var current = Newest(cached, now);
        if (current is not null && now - cachedAt < CacheFor)
        {
            return current;
        }

        await gate.WaitAsync(cancellation);
        try
        {
            var keys = await LoadAsync(cancellation);
            current = Newest(keys, now);
            if (current is not null)
            {
                return current;
            }

            // Rotate: a new key, and the ring drops keys nothing they signed can still be valid under.
            // Two nodes rotating at once each add a key; both verify, so the race is harmless.
            var created = new HmacSigningKey
            {
                Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
                Secret = RandomNumberGenerator.GetBytes(32),
                CreatedAt = now,
            };
            await using var session = store.LightweightSession();
            session.Store(created);
            var horizon = now - options.Value.KeyRotation - options.Value.MaxSignedLifetime;
            session.DeleteWhere<HmacSigningKey>(k => k.CreatedAt < horizon);
            await session.SaveChangesAsync(cancellation);
            await LoadAsync(cancellation);
            return created;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<HmacSigningKey?> FindAsync(string keyId, CancellationToken cancellation)
    {
        if (cached.FirstOrDefault(k => k.Id == keyId) is { } known)
        {
            return known;
        }

        // A key made by another node since the cache was filled (or an unknown id: one query, then no).
        var keys = await LoadAsync(cancellation);
        return keys.FirstOrDefault(k => k.Id == keyId);
    }

    private async Task<IReadOnlyList<HmacSigningKey>> LoadAsync(CancellationToken cancellation)
    {
        await using var session = store.QuerySession();
        var keys = await session.Query<HmacSigningKey>().ToListAsync(cancellation);
        cached = [.. keys];
        cachedAt = clock.GetUtcNow();
        return cached;
    }

    private HmacSigningKey? Newest(IReadOnlyList<HmacSigningKey> keys, DateTimeOffset now) =>
        keys.Where(k => now - k.CreatedAt < options.Value.KeyRotation && k.CreatedAt <= now + TimeSpan.FromMinutes(5))
            .OrderByDescending(k => k.CreatedAt)
            .FirstOrDefault();
}

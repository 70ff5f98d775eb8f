using EventSourced.Application.Tenants;
using EventSourced.Domain.Common;
using EventSourced.Domain.Tenants;
using Marten;

namespace EventSourced.Web.Cli;

/// <summary>
/// The bootstrap command: <c>EventSourced.Web tenants ensure|issue-key|revoke-key …</c>. Keys are printed
/// once, on issue; only their hash is stored.
/// </summary>
public static class TenantCommands
{
    private const string Usage = """
        usage:
          tenants ensure <tenantId> [--name <display name>] [--subject <subject>] [--scopes a,b]
              registers the tenant if it does not exist and then issues its first API key (printed once)
          tenants issue-key <tenantId> [--subject <subject>] [--scopes a,b]
          tenants revoke-key <tenantId> <keyId>
        scopes: {0} (default: all)
        """;

    public static async Task<int> RunAsync(IServiceProvider services, string[] args)
    {
        var store = services.GetRequiredService<IDocumentStore>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var by = new Actor(Environment.UserName, "cli");
        var positional = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || !args[i - 1].StartsWith("--", StringComparison.Ordinal))).ToList();
        string? Option(string name) => args.SkipWhile(a => a != "--" + name).Skip(1).FirstOrDefault();
        IReadOnlyList<string> ScopesOption() =>
            Option("scopes")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [.. Scopes.All.Order()];

        if (positional.Count < 2)
        {
            await Console.Error.WriteLineAsync(string.Format(Usage, string.Join(", ", Scopes.All.Order())));
            return 2;
        }

        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        var tenantId = positional[1];
        switch (positional[0])
        {
            case "ensure":
            {
                var (registered, rejected) = await TenantAdministration.RegisterTenantAsync(
                    store, tenantId, Option("name") ?? tenantId, by, now, CancellationToken.None);
                if (rejected is not null)
                {
                    return Fail(rejected);
                }

                if (!registered)
                {
                    Console.WriteLine($"Tenant '{tenantId}' already exists; its keys are stored hashed and cannot be shown again. Issue a new one with: tenants issue-key {tenantId}");
                    return 0;
                }

                Console.WriteLine($"Registered tenant '{tenantId}'.");
                return await Issue(store, tenantId, Option("subject") ?? $"{tenantId}-admin", ScopesOption(), by, now);
            }

            case "issue-key":
                return await Issue(store, tenantId, Option("subject") ?? $"{tenantId}-key", ScopesOption(), by, now);

            case "revoke-key" when positional.Count >= 3:
                var revokeRejected = await TenantAdministration.RevokeApiKeyAsync(store, tenantId, positional[2], by, now, CancellationToken.None);
                if (revokeRejected is not null)
                {
                    return Fail(revokeRejected);
                }

                Console.WriteLine($"Revoked key '{positional[2]}' of tenant '{tenantId}'.");
                return 0;

            default:
                await Console.Error.WriteLineAsync(string.Format(Usage, string.Join(", ", Scopes.All.Order())));
                return 2;
        }
    }

    private static async Task<int> Issue(IDocumentStore store, string tenantId, string subject, IReadOnlyList<string> scopes, Actor by, DateTimeOffset now)
    {
        var (issued, rejected) = await TenantAdministration.IssueApiKeyAsync(store, tenantId, subject, scopes, by, now, CancellationToken.None);
        if (issued is null)
        {
            return Fail(rejected!);
        }

        Console.WriteLine($"API key for tenant '{issued.TenantId}' (subject '{issued.Subject}', scopes {string.Join(",", issued.Scopes)}), shown only this once:");
        Console.WriteLine($"  Authorization: {issued.Key}");
        return 0;
    }

    private static int Fail(Rejection rejection)
    {
        Console.Error.WriteLine(rejection.Detail);
        return 1;
    }
}

using EventSourced.Application.Tenants;
using EventSourced.Domain.Common;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
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
          tenants add-client <tenantId> [--scopes a,b]
              registers an OAuth2 client (client credentials); its secret is printed once
          tenants revoke-client <tenantId> <clientId>
          tenants add-user <tenantId> <username> [--scopes a,b] [--password p]
              registers an X-USERNAME/X-PASSWORD user (document d); a generated password is printed once
          tenants rotate-signing-key -
              adds a new newest access-token signing key (older keys keep validating until their tokens expire)
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

        await SchemaUpgrades.ApplyAsync(store, services.GetRequiredService<Npgsql.NpgsqlDataSource>(), store.Options.DatabaseSchemaName,
            services.GetRequiredService<ILoggerFactory>(), CancellationToken.None);
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
                    Console.WriteLine($"Tenant '{tenantId}' already exists; its credentials are stored hashed and cannot be shown again. New ones: "
                        + $"eng/tenants.sh issue-key {tenantId} | add-client {tenantId} | add-user {tenantId} <username>");
                    return 0;
                }

                Console.WriteLine($"Registered tenant '{tenantId}'.");
                var issuedKey = await Issue(store, tenantId, Option("subject") ?? $"{tenantId}-admin", ScopesOption(), by, now);
                if (issuedKey != 0)
                {
                    return issuedKey;
                }

                var addedClient = await AddClient(store, tenantId, ScopesOption(), by, now);
                return addedClient != 0 ? addedClient : await AddUser(store, tenantId, $"{tenantId}-admin", null, ScopesOption(), by, now);
            }

            case "add-client":
                return await AddClient(store, tenantId, ScopesOption(), by, now);

            case "revoke-client" when positional.Count >= 3:
                var clientRejected = await ClientsAndUsers.RevokeClientAsync(store, tenantId, positional[2], by, now, CancellationToken.None);
                if (clientRejected is not null)
                {
                    return Fail(clientRejected);
                }

                Console.WriteLine($"Revoked client '{positional[2]}' of tenant '{tenantId}'.");
                return 0;

            case "add-user" when positional.Count >= 3:
                return await AddUser(store, tenantId, positional[2], Option("password"), ScopesOption(), by, now);

            case "rotate-signing-key":
                var keyId = await services.GetRequiredService<EventSourced.Web.Security.SigningKeyRing>().RotateAsync(CancellationToken.None);
                Console.WriteLine($"New access-token signing key '{keyId}'; tokens signed by older keys stay valid until they expire.");
                return 0;

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

    private static async Task<int> AddClient(IDocumentStore store, string tenantId, IReadOnlyList<string> scopes, Actor by, DateTimeOffset now)
    {
        var (registered, rejected) = await ClientsAndUsers.RegisterClientAsync(store, tenantId, scopes, by, now, CancellationToken.None);
        if (registered is null)
        {
            return Fail(rejected!);
        }

        Console.WriteLine($"OAuth2 client for tenant '{registered.TenantId}' (POST /oauth2/token, grant_type=client_credentials), secret shown only this once:");
        Console.WriteLine($"  client_id:     {registered.ClientId}");
        Console.WriteLine($"  client_secret: {registered.ClientSecret}");
        return 0;
    }

    private static async Task<int> AddUser(IDocumentStore store, string tenantId, string username, string? password, IReadOnlyList<string> scopes, Actor by, DateTimeOffset now)
    {
        var (registered, rejected) = await ClientsAndUsers.RegisterUserAsync(store, tenantId, username, password, scopes, by, now, CancellationToken.None);
        if (registered is null)
        {
            return Fail(rejected!);
        }

        Console.WriteLine($"X-USERNAME user for tenant '{registered.TenantId}' (/api/v1), password shown only this once:");
        Console.WriteLine($"  X-USERNAME: {registered.Username}");
        Console.WriteLine($"  X-PASSWORD: {registered.Password}");
        return 0;
    }

    private static int Fail(Rejection rejection)
    {
        Console.Error.WriteLine(rejection.Detail);
        return 1;
    }
}

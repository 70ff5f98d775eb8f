using System.Net.Http.Headers;
using System.Text;
using Carter;
using EventSourced.Application.Tenants;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Tenants;
using EventSourced.Web.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EventSourced.Web.Security;

/// <summary>
/// The OAuth2 token endpoint of documents a and b (RFC 6749 §4.4, client credentials), the JWK Set its
/// tokens verify against, and key rotation. Errors are RFC 6749 §5.2's JSON, not problem details: that is
/// what an OAuth2 client library parses.
/// </summary>
public sealed class OAuth2Module : ICarterModule
{
    public const string TokenPath = "/oauth2/token";
    public const string JwksPath = "/.well-known/jwks.json";

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapPost(TokenPath, PostToken).AllowAnonymous().DisableAntiforgery().WithTags("OAuth2").WithName("OAuth2Token");
        app.MapGet(TokenPath, GetToken).AllowAnonymous().WithTags("OAuth2").WithName("OAuth2TokenGet");
        app.MapGet(JwksPath, async (SigningKeyRing keys, HttpResponse response, CancellationToken cancellation) =>
            {
                response.Headers.CacheControl = "public, max-age=300";
                return TypedResults.Json(await keys.JwksAsync(cancellation), contentType: "application/jwk-set+json");
            })
            .AllowAnonymous().WithTags("OAuth2").WithName("Jwks");
        app.MapPost("/admin/signing-keys/rotate", async (SigningKeyRing keys, CancellationToken cancellation) =>
                TypedResults.Ok(new { kid = await keys.RotateAsync(cancellation) }))
            .RequireAuthorization(Scopes.Admin).WithTags("OAuth2").WithName("RotateSigningKey");
    }

    private static async Task<IResult> PostToken(HttpRequest request, IDocumentStore store, AccessTokens tokens, CancellationToken cancellation)
    {
        if (!request.HasFormContentType)
        {
            return Error("invalid_request", "The body must be application/x-www-form-urlencoded.");
        }

        var (form, invalid) = await FormBody.ReadAsync(request, cancellation);
        if (form is null)
        {
            return Error("invalid_request", invalid!);
        }

        return await IssueAsync(request, name => form[name], store, tokens, cancellation);
    }

    /// <summary>
    /// The documents' <c>GET &lt;oauth2_endpoint&gt;/token</c>: the same parameters as the POST, in the query
    /// string (grant_type defaults to client_credentials here, since the documents show none); the
    /// client authenticates with HTTP Basic, or client_id/client_secret in the query.
    /// </summary>
    private static Task<IResult> GetToken(HttpRequest request, IDocumentStore store, AccessTokens tokens, CancellationToken cancellation) =>
        IssueAsync(request, name => name == "grant_type" && !request.Query.ContainsKey(name) ? "client_credentials" : request.Query[name], store, tokens, cancellation);

    private static async Task<IResult> IssueAsync(
        HttpRequest request, Func<string, Microsoft.Extensions.Primitives.StringValues> parameter, IDocumentStore store, AccessTokens tokens, CancellationToken cancellation)
    {
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        request.HttpContext.Response.Headers.Pragma = "no-cache";
        foreach (var name in new[] { "grant_type", "client_id", "client_secret", "scope" })
        {
            if (parameter(name).Count > 1)
            {
                return Error("invalid_request", $"The parameter '{name}' is repeated.");
            }
        }

        var grantType = parameter("grant_type").ToString();
        if (grantType.Length == 0)
        {
            return Error("invalid_request", "grant_type is required.");
        }

        // Client authentication (RFC 6749 §2.3.1): Basic, or the body's parameters; not both.
        var (clientId, secret, usedBasic) = ("", "", false);
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.Length > 0)
        {
            if (!AuthenticationHeaderValue.TryParse(authorization, out var header) || !header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)
                || !TryDecodeBasic(header.Parameter, out clientId, out secret))
            {
                return InvalidClient(basic: true, "The Authorization header is not valid HTTP Basic client authentication.");
            }

            usedBasic = true;
            if (parameter("client_secret").Count > 0)
            {
                return Error("invalid_request", "Use one client authentication method: HTTP Basic or client_secret, not both.");
            }
        }
        else
        {
            clientId = parameter("client_id").ToString();
            secret = parameter("client_secret").ToString();
            if (clientId.Length == 0)
            {
                return InvalidClient(basic: false, "Client authentication is required (HTTP Basic, or client_id and client_secret).");
            }
        }

        await using var session = store.QuerySession();
        var client = await session.LoadAsync<OAuthClientCredential>(clientId, cancellation);
        if (client is null || client.Revoked || secret.Length == 0 || !ApiKeys.HashMatches(secret, client.SecretHash))
        {
            return InvalidClient(usedBasic, "Unknown client or wrong secret.");
        }

        if (grantType != "client_credentials")
        {
            return Error("unsupported_grant_type", "Only grant_type=client_credentials is supported.");
        }

        var requested = parameter("scope").ToString();
        IReadOnlyCollection<string> granted = client.Scopes;
        if (requested.Length > 0)
        {
            if (!ScopeAliases.TryExpand(requested, out var expanded, out var unknown))
            {
                return Error("invalid_scope", $"Unknown scope: {unknown}.");
            }

            var notAllowed = expanded.Where(s => !client.Scopes.Contains(s)).ToList();
            if (notAllowed.Count > 0)
            {
                return Error("invalid_scope", $"The client may not request: {string.Join(' ', notAllowed)}.");
            }

            granted = expanded;
        }

        var (token, expiresAt, _) = await tokens.IssueAsync(client.TenantId, client.Id, granted, cancellation);
        return TypedResults.Json(new TokenResponse(token, "Bearer", (int)tokens.Options.Lifetime.TotalSeconds, string.Join(' ', granted)));
    }

    private static bool TryDecodeBasic(string? parameter, out string clientId, out string secret)
    {
        (clientId, secret) = ("", "");
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(parameter ?? ""));
            var colon = decoded.IndexOf(':');
            if (colon <= 0)
            {
                return false;
            }

            // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
            clientId = Uri.UnescapeDataString(decoded[..colon].Replace('+', ' '));
            secret = Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' '));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static IResult InvalidClient(bool basic, string description)
    {
        // RFC 6749 §5.2: 401 with WWW-Authenticate when the client tried Basic; 400 otherwise is allowed,
        // but 401 is what most client libraries expect either way.
        return new InvalidClientResult(basic, new TokenError("invalid_client", description));
    }

    private static JsonHttpResult<TokenError> Error(string error, string description) =>
        TypedResults.Json(new TokenError(error, description), statusCode: StatusCodes.Status400BadRequest);

    private sealed class InvalidClientResult(bool basic, TokenError error) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            if (basic)
            {
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"oauth2\", charset=\"UTF-8\"";
            }

            return TypedResults.Json(error, statusCode: StatusCodes.Status401Unauthorized).ExecuteAsync(context);
        }
    }
}

public sealed record TokenResponse(
    [property: System.Text.Json.Serialization.JsonPropertyName("access_token")] string AccessToken,
    [property: System.Text.Json.Serialization.JsonPropertyName("token_type")] string TokenType,
    [property: System.Text.Json.Serialization.JsonPropertyName("expires_in")] int ExpiresIn,
    [property: System.Text.Json.Serialization.JsonPropertyName("scope")] string Scope);

public sealed record TokenError(
    [property: System.Text.Json.Serialization.JsonPropertyName("error")] string Error,
    [property: System.Text.Json.Serialization.JsonPropertyName("error_description")] string ErrorDescription);

/// <summary>
/// The short scope names of documents a and b ("status, reports, ingest, metadata, worklist, admin") accepted in a
/// token request's <c>scope</c> beside the internal names, each expanding to internal scopes.
/// </summary>
public static class ScopeAliases
{
    public static readonly IReadOnlyDictionary<string, string[]> Aliases = new Dictionary<string, string[]>
    {
        ["status"] = [Scopes.OrdersRead],
        ["metadata"] = [Scopes.OrdersWrite],
        ["ingest"] = [Scopes.StudiesWrite],
        ["reports"] = [Scopes.ReportsRead],
        ["worklist"] = [Scopes.WorklistRead, Scopes.WorklistWrite],
        ["admin"] = [Scopes.Admin],
    };

    public static bool TryExpand(string scope, out IReadOnlyCollection<string> expanded, out string? unknown)
    {
        var result = new SortedSet<string>(StringComparer.Ordinal);
        unknown = null;
        foreach (var name in scope.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (Scopes.All.Contains(name))
            {
                result.Add(name);
            }
            else if (Aliases.TryGetValue(name, out var internalNames))
            {
                result.UnionWith(internalNames);
            }
            else
            {
                unknown = name;
                expanded = [];
                return false;
            }
        }

        expanded = result;
        return true;
    }
}

using System.Security.Claims;
using EventSourced.Domain.Common;
using EventSourced.Web.Security;
using Marten;
using Wolverine;

namespace EventSourced.Web.Infrastructure;

public static class RequestExtensions
{
    /// <summary>Generous: a create under contention on a 2-core machine can queue behind its siblings.</summary>
    private static readonly TimeSpan InvokeTimeout = TimeSpan.FromSeconds(30);

    public static Actor Actor(this ClaimsPrincipal user, string via) => new(user.Subject(), via);

    /// <summary>Runs a command for the caller's tenant: the handler's Marten session is that tenant's.</summary>
    public static Task<T> InvokeForCallerAsync<T>(this IMessageBus bus, ClaimsPrincipal user, object command, CancellationToken cancellation) =>
        bus.InvokeForTenantAsync<T>(user.TenantId(), command, cancellation, InvokeTimeout);

    /// <summary>Runs a command that answers nothing for the caller's tenant.</summary>
    public static Task InvokeForCallerAsync(this IMessageBus bus, ClaimsPrincipal user, object command, CancellationToken cancellation) =>
        bus.InvokeForTenantAsync(user.TenantId(), command, cancellation, InvokeTimeout);

    public static IQuerySession QuerySessionForCaller(this IDocumentStore store, ClaimsPrincipal user) =>
        store.QuerySession(user.TenantId());

    /// <summary>A query session whose commands give up after <paramref name="commandTimeout"/> (then 503, UnhandledExceptionHandler).</summary>
    public static IQuerySession QuerySessionForCaller(this IDocumentStore store, ClaimsPrincipal user, TimeSpan commandTimeout) =>
        store.QuerySession(new Marten.Services.SessionOptions { TenantId = user.TenantId(), Timeout = Math.Max(1, (int)Math.Ceiling(commandTimeout.TotalSeconds)) });
}

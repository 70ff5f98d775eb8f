using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Readiness held back until <see cref="StartupWarmUp"/> has run the retrieval endpoints once the web host started
/// (or at once when the warm-up is switched off): a load balancer or a benchmark that waits for <c>/health/ready</c>
/// sends its first requests to compiled code.
/// </summary>
public sealed class WarmUpGate : IHealthCheck
{
    private volatile bool open;

    public bool IsOpen => open;

    public void Open() => open = true;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(open ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("Warming up."));
}

using EventSourced.Web.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventSourced.Web.Tests.Hosting;

/// <summary>
/// The service's web host (<see cref="WebSetup.CreateBuilder"/>): the full builder's defaults less IIS and QUIC, and its
/// PostgreSQL connections without the GSS probe unless asked for (docs/architecture.md, "Start-up footprint: the web
/// host without IIS and QUIC").
/// </summary>
public sealed class WebHostTests
{
    /// <summary>The assemblies the full builder registers services from and the service's builder leaves out.</summary>
    private static readonly string[] LeftOut =
        ["Microsoft.AspNetCore.Server.IIS", "Microsoft.AspNetCore.Server.IISIntegration", "Microsoft.AspNetCore.Server.Kestrel.Transport.Quic"];

    [Fact]
    public void The_service_registers_what_the_full_builder_does_but_IIS_and_QUIC()
    {
        var full = Registrations(WebApplication.CreateBuilder([]).Services);
        var ours = Registrations(WebSetup.CreateBuilder([]).Services);

        var missing = full.Except(ours).ToList();
        Assert.NotEmpty(missing);
        Assert.True(missing.All(r => LeftOut.Contains(r.Assembly)), "Missing: " + string.Join("\n", missing.Where(r => !LeftOut.Contains(r.Assembly))));
        Assert.True(!ours.Except(full).Any(), "Added: " + string.Join("\n", ours.Except(full)));
        // Nothing registered twice where the full builder registers it once (a startup filter twice is middleware twice).
        var counted = full.Where(r => !LeftOut.Contains(r.Assembly)).CountBy(r => r).ToDictionary();
        Assert.All(ours.CountBy(r => r), c => Assert.Equal((c.Key, counted[c.Key]), (c.Key, c.Value)));
    }

    [Fact]
    public void The_regex_route_constraint_and_the_configured_console_formatter_are_kept()
    {
        var builder = WebSetup.CreateBuilder([]);
        builder.Configuration["Logging:Console:FormatterName"] = "json";
        using var services = builder.Services.BuildServiceProvider();

        Assert.True(services.GetRequiredService<IOptions<RouteOptions>>().Value.ConstraintMap.ContainsKey("regex"));
        Assert.Equal("json", services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
        Assert.Equal(
            ["ConsoleLoggerProvider", "DebugLoggerProvider", "EventSourceLoggerProvider"],
            services.GetServices<ILoggerProvider>().Select(p => p.GetType().Name).Order());
    }

    [Theory]
    [InlineData("Host=db;Username=u;Password=p", GssEncryptionMode.Disable)]
    [InlineData("Host=db;Username=u;Password=p;GSS Encryption Mode=Prefer", GssEncryptionMode.Prefer)]
    [InlineData("Host=db;gssencryptionmode=Require", GssEncryptionMode.Require)]
    [InlineData("Host=db;gss encryption mode=disable", GssEncryptionMode.Disable)]
    public void GSS_encryption_is_off_unless_the_connection_string_names_it(string connectionString, GssEncryptionMode expected)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString).WithoutGssProbe(connectionString);

        Assert.Equal(expected, builder.ConnectionStringBuilder.GssEncryptionMode);
        Assert.Equal("db", builder.ConnectionStringBuilder.Host);
    }

    /// <summary>
    /// Each registration as the assembly that made it, its service and its implementation type (a factory as "factory":
    /// the two builders register some of the same services from lambdas of different host-builder classes).
    /// </summary>
    private static List<(string Assembly, string Service, string Implementation)> Registrations(IServiceCollection services) =>
        [.. services.Select(d =>
        {
            var factory = d.IsKeyedService ? d.KeyedImplementationFactory?.Method : d.ImplementationFactory?.Method;
            var implementation = d.IsKeyedService
                ? d.KeyedImplementationType ?? d.KeyedImplementationInstance?.GetType()
                : d.ImplementationType ?? d.ImplementationInstance?.GetType();
            // Options of a left-out assembly's types are that assembly's registrations.
            var owner = d.ServiceType.GenericTypeArguments.Select(t => t.Assembly).FirstOrDefault(a => LeftOut.Contains(a.GetName().Name))
                        ?? (implementation ?? factory?.DeclaringType ?? d.ServiceType).Assembly;
            return (owner.GetName().Name!, d.ServiceType.FullName!, implementation?.FullName ?? "factory");
        })];
}

using EventSourced.Web.Cli;
using EventSourced.Web.Infrastructure;
using JasperFx;

var builder = WebApplication.CreateBuilder(args);
builder.AddEventStore();
builder.AddWebServices();

var app = builder.Build();
app.UseWebPipeline();

if (args is ["tenants", ..])
{
    return await TenantCommands.RunAsync(app.Services, args[1..]);
}

if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
{
    await app.RunAsync();
    return 0;
}

// JasperFx's commands: projections rebuild, db-apply, db-patch, describe, …
return await app.RunJasperFxCommands(args);

/// <summary>Entry point; public for WebApplicationFactory in the tests.</summary>
public partial class Program;

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

// No arguments: serve. Otherwise JasperFx's commands (projections rebuild, db-apply, codegen, …).
return await app.RunJasperFxCommands(args);

/// <summary>Entry point; public for WebApplicationFactory in the tests.</summary>
public partial class Program;

using EventSourced.Web.Archive;
using EventSourced.Web.Cli;
using EventSourced.Web.DicomService;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Ingestion;
using EventSourced.Web.Pacs;
using EventSourced.Web.Reports;
using JasperFx;

var builder = WebSetup.CreateBuilder(args);
builder.AddEventStore();
builder.AddWebServices();

// Each dialect's services; its routes are its Carter modules (docs/architecture.md, "The map of src/Web").
builder.AddReports();      // document a
builder.AddIngestion();    // document b
builder.AddDicomService(); // document c
builder.AddArchive();      // document d
builder.AddPacs();         // document e

var app = builder.Build();
app.UseWebPipeline();

if (args is ["tenants", ..])
{
    return await TenantCommands.RunAsync(app.Services, args[1..]);
}

if (args is ["projections", "verify", ..])
{
    return await ProjectionCommands.VerifyAsync(app.Services, args[2..]);
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

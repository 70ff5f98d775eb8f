using EventSourced.Application.Archive.SubmittingForms;

namespace EventSourced.Web.Archive;

/// <summary>Document d's services: the archive options (reporting forms).</summary>
public static class ArchiveSetup
{
    public static WebApplicationBuilder AddArchive(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<ArchiveOptions>(builder.Configuration.GetSection(ArchiveOptions.Section));
        return builder;
    }
}

using EventSourced.Application.Archive.SubmittingForms;

namespace EventSourced.Web.Archive;

/// <summary>Document d's services: the archive options (reporting forms) and the deletion options (restore window).</summary>
public static class ArchiveSetup
{
    public static WebApplicationBuilder AddArchive(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<ArchiveOptions>(builder.Configuration.GetSection(ArchiveOptions.Section));
        builder.Services.Configure<Application.Archive.DeletingContent.DeletionOptions>(
            builder.Configuration.GetSection(Application.Archive.DeletingContent.DeletionOptions.Section));
        return builder;
    }
}

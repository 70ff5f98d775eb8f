using EventSourced.Web.Ingestion.Presigned;

namespace EventSourced.Web.Ingestion;

/// <summary>Document b's services: presigned upload URLs (their options and issuer).</summary>
public static class IngestionSetup
{
    public static WebApplicationBuilder AddIngestion(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<PresignedUploadOptions>(builder.Configuration.GetSection(PresignedUploadOptions.Section));
        builder.Services.AddSingleton<IUploadUrlIssuer, LocalUploadUrlIssuer>();
        return builder;
    }
}

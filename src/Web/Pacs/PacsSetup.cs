using EventSourced.Application.Nodes;
using EventSourced.Application.Pathology.StoringSlides;

namespace EventSourced.Web.Pacs;

/// <summary>Document e's services: the configured DICOM nodes and the digital pathology storage.</summary>
public static class PacsSetup
{
    public static WebApplicationBuilder AddPacs(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<NodeOptions>(builder.Configuration.GetSection(NodeOptions.Section));
        builder.Services.AddSingleton<SlideFileReceiver>();
        builder.Services.AddSingleton<SlideStorage>();
        return builder;
    }
}

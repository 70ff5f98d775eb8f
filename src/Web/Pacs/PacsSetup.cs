using EventSourced.Application.Nodes;
using EventSourced.Application.Pathology.StoringSlides;
using EventSourced.Web.Pacs.Forwarding;

namespace EventSourced.Web.Pacs;

/// <summary>Document e's services: the configured DICOM nodes, the digital pathology storage and forwarding.</summary>
public static class PacsSetup
{
    public static WebApplicationBuilder AddPacs(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<NodeOptions>(builder.Configuration.GetSection(NodeOptions.Section));
        builder.Services.AddSingleton<SlideFileReceiver>();
        builder.Services.AddSingleton<SlideStorage>();
        builder.AddForwarding();
        return builder;
    }
}

using EventSourced.Web.DicomService.Callbacks;
using Wolverine;

namespace EventSourced.Web.DicomService;

/// <summary>Document c's services: the new-exam callback forwarding (its endpoints, HTTP client and durable queue).</summary>
public static class DicomServiceSetup
{
    public static WebApplicationBuilder AddDicomService(this WebApplicationBuilder builder)
    {
        var callbacks = CallbackOptions.From(builder.Configuration);
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(callbacks));
        builder.Services.AddSingleton(new Application.Callbacks.NewExamCallbackTargets(callbacks.UrlList));
        builder.Services.AddHttpClient(ForwardNewExamCallbackHandler.HttpClientName);
        // Applied by Wolverine when it starts, after the host's own Wolverine configuration.
        builder.Services.ConfigureWolverine(options => options.AddCallbackForwarding(callbacks));
        return builder;
    }
}

using EventSourced.Application.Forwarding;
using EventSourced.Application.Forwarding.SendingForward;
using Wolverine;

namespace EventSourced.Web.Pacs.Forwarding;

/// <summary>Document e's series/forward: the jobs' configuration, the sender, and the durable queue the attempts run on.</summary>
public static class ForwardingSetup
{
    public const string QueueName = "forwarding";

    public static WebApplicationBuilder AddForwarding(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<ForwardingOptions>(builder.Configuration.GetSection(ForwardingOptions.Section));
        builder.Services.AddHttpClient(ForwardSender.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddScoped<IForwardSender, ForwardSender>();

        // Attempts wait in the envelope tables (a restart loses none, a retry is a persisted scheduled
        // envelope); two at a time, so a large series does not hold up every other forward.
        builder.Services.ConfigureWolverine(options =>
            options.PublishMessage<SendForward>().ToLocalQueue(QueueName).UseDurableInbox().MaximumParallelMessages(2));
        return builder;
    }
}

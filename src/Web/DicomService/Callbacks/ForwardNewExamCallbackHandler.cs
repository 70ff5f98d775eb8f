using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourced.Application.Callbacks;
using Microsoft.Extensions.Options;
using Wolverine;
using Wolverine.ErrorHandling;

namespace EventSourced.Web.DicomService.Callbacks;

/// <summary>A delivery the endpoint did not accept (no answer, or not 2xx): retried on the schedule, then dead-lettered.</summary>
public sealed class CallbackDeliveryException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// POSTs one received callback to one endpoint: the document's JSON body, signed. Headers:
/// <c>X-Callback-Id</c> (the callback, the same on every retry: receivers deduplicate on it),
/// <c>X-Callback-Timestamp</c> (Unix seconds of this attempt) and
/// <c>X-Callback-Signature: sha256=</c>hex HMAC-SHA256 with the shared secret of <c>{timestamp}.{body}</c>.
/// </summary>
public static class ForwardNewExamCallbackHandler
{
    public const string HttpClientName = "callbacks";
    public const string IdHeader = "X-Callback-Id";
    public const string TimestampHeader = "X-Callback-Timestamp";
    public const string SignatureHeader = "X-Callback-Signature";

    public static async Task Handle(
        ForwardNewExamCallback message, IHttpClientFactory clients, IOptions<CallbackOptions> options, TimeProvider clock, CancellationToken cancellation)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(message.Notification);
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, message.Url)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.Add(IdHeader, message.CallbackId.ToString());
        request.Headers.Add(TimestampHeader, timestamp);
        request.Headers.Add(SignatureHeader, Sign(options.Value.SigningSecret ?? "", timestamp, body));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(options.Value.Timeout);
        HttpResponseMessage response;
        try
        {
            response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellation.IsCancellationRequested))
        {
            throw new CallbackDeliveryException($"Delivery of callback {message.CallbackId} to {message.Url} failed: {e.Message}", e);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new CallbackDeliveryException($"Delivery of callback {message.CallbackId} to {message.Url} was answered {(int)response.StatusCode}.");
            }
        }
    }

    /// <summary>How a receiver verifies: the same computation with its copy of the secret, compared in constant time.</summary>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var signed = new byte[Encoding.UTF8.GetByteCount(timestamp) + 1 + body.Length];
        var at = Encoding.UTF8.GetBytes(timestamp, signed);
        signed[at] = (byte)'.';
        body.CopyTo(signed.AsSpan(at + 1));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }
}

public static class CallbackMessaging
{
    public const string QueueName = "callbacks";

    /// <summary>
    /// Deliveries go to their own durable local queue (persisted in the envelope tables, so a restart loses
    /// none); a failed attempt is rescheduled with backoff (<c>ScheduleRetry</c>: the wait is a persisted
    /// scheduled envelope, not a sleeping thread), and after the last attempt the message is moved to
    /// Wolverine's dead-letter storage, listed by <c>GET /admin/callbacks/dead-letters</c>.
    /// </summary>
    public static WolverineOptions AddCallbackForwarding(this WolverineOptions options, CallbackOptions callbacks)
    {
        options.PublishMessage<ForwardNewExamCallback>().ToLocalQueue(QueueName).UseDurableInbox();
        var delays = callbacks.RetryDelays();
        var policy = options.OnException<CallbackDeliveryException>();
        if (delays.Length > 0)
        {
            policy.ScheduleRetry(delays).Then.MoveToErrorQueue();
        }
        else
        {
            policy.MoveToErrorQueue();
        }

        return options;
    }
}

namespace EventSourced.Application.Ingestion.ReceivingInstances;

/// <summary>The upload's own stream failed (malformed framing, body ended early, too large): the client's fault, not the server's.</summary>
public sealed class UploadStreamException(Exception inner) : IOException($"The upload could not be read: {inner.Message}", inner);

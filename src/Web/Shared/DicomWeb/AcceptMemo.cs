using System.Collections.Concurrent;

namespace EventSourced.Web.Shared.DicomWeb;

/// <summary>
/// A decision that depends on nothing but a request's Accept header (content negotiation), kept per distinct
/// header value: a client sends the same Accept with every request, and parsing it builds a list of media
/// types on each. Requests with no Accept header, or with more than one, are decided afresh every time.
/// Bounded: past <see cref="MaxValues"/> distinct values, new ones are decided without being kept.
/// </summary>
public sealed class AcceptMemo<T>(Func<HttpRequest, T> decide)
{
    public const int MaxValues = 256;

    private readonly ConcurrentDictionary<string, T> decided = new(StringComparer.Ordinal);

    public T Of(HttpRequest request)
    {
        var accept = request.Headers.Accept;
        if (accept.Count != 1 || accept[0] is not { } value)
        {
            return decide(request);
        }

        if (decided.TryGetValue(value, out var known))
        {
            return known;
        }

        var decision = decide(request);
        if (decided.Count < MaxValues)
        {
            decided.TryAdd(value, decision);
        }

        return decision;
    }
}

using EventSourced.Domain.Common;

namespace EventSourced.Domain.Tests.Common;

public sealed class DeterministicGuidTests
{
    private static readonly Guid DnsNamespace = new("6ba7b810-9dad-11d1-80b4-00c04fd430c8");

    [Theory]
    // Version 5 UUIDs as Python's uuid.uuid5(uuid.NAMESPACE_DNS, name) computes them (an outside oracle).
    [InlineData("python.org", "886313e1-3b8a-5372-9b90-0c9aee199e5d")]
    [InlineData("www.example.com", "2ed6657d-e927-568b-95e1-2665a8aea6a2")]
    public void Matches_RFC_9562_version_5(string name, string expected)
    {
        Assert.Equal(new Guid(expected), DeterministicGuid.Create(DnsNamespace, name));
    }
}

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

    [Theory]
    // uuid.uuid5(uuid.NAMESPACE_DNS, tenant + "\n" + key) in Python: the name built on the stack (short, non-ASCII)
    // and on the heap (longer than the stack buffer) gives the same id.
    [InlineData("bench", "1.2.840.113619.2.55.3", 1, "74e2d50c-6633-527b-bdde-ad767e825f35")]
    [InlineData("Zürich-😀", "1.2.3", 1, "3cdb60de-03fa-5d1f-a671-c70857b7dd0b")]
    [InlineData("t", "9", 1100, "048553cb-0d6b-5115-ba9f-ec16f84048c6")]
    public void A_tenant_scoped_id_is_version_5_of_tenant_newline_key(string tenant, string key, int repeat, string expected)
    {
        var name = string.Concat(Enumerable.Repeat(key, repeat));
        Assert.Equal(new Guid(expected), DeterministicGuid.ForTenant(DnsNamespace, tenant, name));
        Assert.Equal(DeterministicGuid.Create(DnsNamespace, tenant + "\n" + name), DeterministicGuid.ForTenant(DnsNamespace, tenant, name));
    }
}

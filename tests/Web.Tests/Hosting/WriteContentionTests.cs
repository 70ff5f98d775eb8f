using System.Net;
using EventSourced.Web.Tests.Qido;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Hosting;

public sealed class WriteContentionTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    /// <summary>
    /// Many first studies of one new patient at once: they all race on the patient's stream. Each STOW is
    /// stored, or answered 503 with Retry-After (contention that outlived the retries), never a 500; what
    /// was acknowledged is there.
    /// </summary>
    [Fact]
    public async Task Concurrent_first_studies_of_one_patient_are_stored_or_503_with_Retry_After_never_a_500()
    {
        using var client = await fixture.App.ClientForTenantAsync("contention", "studies.read", "studies.write");
        var instances = Enumerable.Range(0, 24).Select(_ => SyntheticInstances.Create()).ToArray();

        var responses = await Task.WhenAll(instances.Select(async i =>
        {
            using var response = await client.PostAsync("/dicomweb/studies", Multipart.Related(i.Bytes));
            await response.Content.ReadAsByteArrayAsync();
            return (i.Study, response.StatusCode, RetryAfter: response.Headers.RetryAfter?.Delta);
        }));

        Assert.All(responses, r => Assert.True(
            r.StatusCode == HttpStatusCode.OK || r is { StatusCode: HttpStatusCode.ServiceUnavailable, RetryAfter.TotalSeconds: >= 1 },
            $"{r.StatusCode} Retry-After {r.RetryAfter}"));
        var stored = responses.Where(r => r.StatusCode == HttpStatusCode.OK).ToArray();
        Assert.NotEmpty(stored);
        foreach (var (study, _, _) in stored)
        {
            var (response, matches) = await client.QidoAsync($"/dicomweb/studies?StudyInstanceUID={study}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(1, matches.GetArrayLength());
        }
    }
}

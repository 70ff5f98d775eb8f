using System.Globalization;
using EventSourced.Web.Infrastructure;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventSourced.Web.Cli;

/// <summary>
/// <c>EventSourced.Web projections verify [--wait seconds]</c>: rebuilds every projection from the event log
/// into a scratch schema and compares it with the live read models (<see cref="ProjectionVerifier"/>).
/// Prints each difference; exit code 1 on any, 0 on none. Other <c>projections …</c> verbs are JasperFx's.
/// </summary>
public static class ProjectionCommands
{
    public static async Task<int> VerifyAsync(IServiceProvider services, string[] args)
    {
        var wait = args.SkipWhile(a => a != "--wait").Skip(1).FirstOrDefault();
        var catchUp = TimeSpan.FromSeconds(wait is null ? 30 : double.Parse(wait, CultureInfo.InvariantCulture));
        var result = await ProjectionVerifier.VerifyAsync(
            services.GetRequiredService<NpgsqlDataSource>(),
            services.GetRequiredService<IOptions<EventStoreOptions>>().Value,
            catchUp,
            CancellationToken.None);

        foreach (var difference in result.Differences)
        {
            Console.WriteLine(difference);
        }

        Console.WriteLine(
            $"{result.Differences.Count} difference(s) in {result.Tables.Count} read-model tables ({result.RebuiltRows.Values.Sum()} rows) rebuilt from {result.Events} events, {result.Elapsed.TotalSeconds:F1} s.");
        return result.Differences.Count == 0 ? 0 : 1;
    }
}

using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// AllocTrace <file.nettrace> summary
//   one line: bytes allocated (sum of the allocation ticks), gen0/gen1/gen2 collections, time the runtime was
//   suspended for them, and the span between the first and the last tick (what eng/bench/alloc.sh reads);
// AllocTrace <file.nettrace> types|stacks|frames [type filter or *] [stack depth]
//   the ticks' bytes by allocated type, by type and allocating stack, or by every frame on the stacks (inclusive).
var etlx = args[0].EndsWith(".etlx", StringComparison.Ordinal) ? args[0] : TraceLog.CreateFromEventPipeDataFile(args[0]);
using var log = new TraceLog(etlx);
var mode = args[1];
var filter = args.Length > 2 ? args[2] : "*";
var depth = args.Length > 3 ? int.Parse(args[3]) : 8;

if (mode == "summary")
{
    long bytes = 0;
    var collections = new int[3];
    double first = -1, last = 0, pauseMs = 0;
    double? suspended = null;
    foreach (var e in log.Events)
    {
        switch (e)
        {
            case GCAllocationTickTraceData tick:
                bytes += tick.AllocationAmount64;
                first = first < 0 ? e.TimeStampRelativeMSec : first;
                last = e.TimeStampRelativeMSec;
                break;
            case GCStartTraceData start when start.Depth <= 2:
                collections[start.Depth]++;
                break;
            case GCSuspendEETraceData:
                suspended = e.TimeStampRelativeMSec;
                break;
            default:
                if (e.EventName == "GC/RestartEEStop" && suspended is { } at)
                {
                    pauseMs += e.TimeStampRelativeMSec - at;
                    suspended = null;
                }

                break;
        }
    }

    Console.WriteLine($"alloc_bytes {bytes} gen0 {collections[0]} gen1 {collections[1]} gen2 {collections[2]} pause_ms {pauseMs:F1} span_ms {last - first:F0}");
    return;
}

var totals = new Dictionary<string, long>();
long total = 0;
foreach (var e in log.Events.Select(e => e as GCAllocationTickTraceData).OfType<GCAllocationTickTraceData>())
{
    var type = e.TypeName ?? "?";
    if (filter != "*" && !type.Contains(filter, StringComparison.Ordinal))
    {
        continue;
    }

    total += e.AllocationAmount64;
    if (mode == "types")
    {
        totals[type] = totals.GetValueOrDefault(type) + e.AllocationAmount64;
        continue;
    }

    var frames = new List<string>();
    for (var stack = e.CallStack(); stack is not null && frames.Count < 60; stack = stack.Caller)
    {
        if (stack.CodeAddress.FullMethodName is { Length: > 0 } method)
        {
            frames.Add(method.Length > 120 ? method[..120] : method);
        }
    }

    foreach (var key in mode == "frames" ? frames.Distinct() : [type + " :: " + string.Join("\n      <- ", frames.Take(depth))])
    {
        totals[key] = totals.GetValueOrDefault(key) + e.AllocationAmount64;
    }
}

Console.WriteLine($"total {total / 1e6:F1} MB");
foreach (var (key, bytes) in totals.OrderByDescending(t => t.Value).Take(mode == "frames" ? 150 : 40))
{
    Console.WriteLine($"{bytes / 1e6,7:F2} MB {100.0 * bytes / total,5:F1}%  {key}\n");
}

using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Federation.Cli.Bench;

/// <summary>
/// Where a benchmark's allocations go, by type, from the runtime's own sampling (<c>GCAllocationTick</c>: one event
/// per ~100 KB allocated, naming the type that crossed the mark). A developer's tool: <c>fed bench ingest-run</c>
/// turns it on over the measured window when <c>FED_BENCH_ALLOC_TRACE</c> is set and prints the table on stderr.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    private readonly ConcurrentDictionary<string, long> _bytesByType = new();
    private volatile bool _sampling;

    public static AllocationSampler? StartIfRequested() =>
        Environment.GetEnvironmentVariable("FED_BENCH_ALLOC_TRACE") is null ? null : new AllocationSampler { _sampling = true };

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == RuntimeSource)
        {
            EnableEvents(source, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_sampling || e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.PayloadNames is not { } names)
        {
            return;
        }

        var type = names.IndexOf("TypeName") is var t and >= 0 ? e.Payload![t]?.ToString() ?? "?" : "?";
        var bytes = names.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload![a], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        _bytesByType.AddOrUpdate(type, bytes, (_, sum) => sum + bytes);
    }

    /// <summary>Stops sampling and writes the types that took the most, in bytes per <paramref name="unit"/>.</summary>
    public void StopAndReport(long units, string unit, TextWriter output)
    {
        _sampling = false;
        foreach (var (type, bytes) in _bytesByType.OrderByDescending(p => p.Value).Take(40))
        {
            output.WriteLine(FormattableString.Invariant($"{(double)bytes / Math.Max(1, units),8:F0} B/{unit}  {type}"));
        }

        Dispose();
    }
}

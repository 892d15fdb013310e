using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Federation.Cli.Bench;

/// <summary>
/// What a benchmark's measured window spends outside its own work, from the runtime's events. A developer's tool that
/// <c>fed bench ingest-run</c> turns on over the measured window and reports on stderr:
/// <c>FED_BENCH_ALLOC_TRACE</c> — allocations by type (<c>GCAllocationTick</c>: one event per ~100 KB allocated, naming
/// the type that crossed the mark); <c>FED_BENCH_JIT_TRACE</c> — the methods the JIT compiled (<c>MethodLoadVerbose</c>),
/// to see why a warm-up did not reach the steady state.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const EventKeywords JitKeyword = (EventKeywords)0x10;

    private readonly ConcurrentDictionary<string, long> _bytesByType = new();
    private readonly ConcurrentDictionary<string, long> _compiled = new();
    private EventKeywords _keywords;
    private volatile bool _sampling;

    /// <summary>Whether events count now (the measured windows only; the runtime delivers them a little late).</summary>
    public bool Sampling
    {
        get => _sampling;
        set => _sampling = value;
    }

    public static AllocationSampler? StartIfRequested()
    {
        var keywords = (Environment.GetEnvironmentVariable("FED_BENCH_ALLOC_TRACE") is null ? 0 : GcKeyword)
            | (Environment.GetEnvironmentVariable("FED_BENCH_JIT_TRACE") is null ? 0 : JitKeyword);
        if (keywords == 0)
        {
            return null;
        }

        var sampler = new AllocationSampler { _keywords = keywords };
        // The runtime's source was seen by the base constructor, before the keywords were known.
        foreach (var source in EventSource.GetSources())
        {
            sampler.OnEventSourceCreated(source);
        }

        sampler._sampling = true;
        return sampler;
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == RuntimeSource && _keywords != 0)
        {
            EnableEvents(source, EventLevel.Verbose, _keywords);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_sampling || e.EventName is not { } name || e.PayloadNames is not { } names)
        {
            return;
        }

        if (name.StartsWith("GCAllocationTick", StringComparison.Ordinal))
        {
            var type = names.IndexOf("TypeName") is var t and >= 0 ? e.Payload![t]?.ToString() ?? "?" : "?";
            var bytes = names.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload![a], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
            _bytesByType.AddOrUpdate(type, bytes, (_, sum) => sum + bytes);
        }
        else if (name.StartsWith("MethodLoadVerbose", StringComparison.Ordinal))
        {
            var ns = names.IndexOf("MethodNamespace") is var n and >= 0 ? e.Payload![n]?.ToString() : "?";
            var method = names.IndexOf("MethodName") is var m and >= 0 ? e.Payload![m]?.ToString() : "?";
            // MethodFlags bits 7 and up: the runtime's optimization tier (3 quick, 4 tier 1, 7 instrumented, …).
            var tier = names.IndexOf("MethodFlags") is var f and >= 0 ? (Convert.ToInt64(e.Payload![f], System.Globalization.CultureInfo.InvariantCulture) >> 7) & 0xF : -1;
            _compiled.AddOrUpdate($"{ns}::{method} [tier {tier}]", 1, (_, count) => count + 1);
        }
    }

    /// <summary>Stops sampling and writes the types that took the most, in bytes per <paramref name="unit"/>, and the methods compiled.</summary>
    public void StopAndReport(long units, string unit, TextWriter output)
    {
        _sampling = false;
        foreach (var (type, bytes) in _bytesByType.OrderByDescending(p => p.Value).Take(40))
        {
            output.WriteLine(FormattableString.Invariant($"{(double)bytes / Math.Max(1, units),8:F0} B/{unit}  {type}"));
        }

        if (_compiled.Count > 0)
        {
            output.WriteLine(FormattableString.Invariant($"{_compiled.Values.Sum()} methods compiled:"));
            foreach (var (method, count) in _compiled.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                output.WriteLine(FormattableString.Invariant($"{count,4}  {method}"));
            }
        }

        Dispose();
    }
}

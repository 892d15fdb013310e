using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Federation.Hosting.Telemetry;

/// <summary>
/// The host's instruments, one set per host instance (no static state): the meter and activity source named
/// <see cref="Name"/>, per-method aggregates for the dashboard, and activation counts by grain type.
/// </summary>
internal sealed class GrainTelemetry : IDisposable
{
    /// <summary>The name of the meter and the activity source (matched by "Federation.*").</summary>
    public const string Name = "Federation.Grains";

    private readonly Meter _meter;
    private readonly Counter<long> _calls;
    private readonly Counter<long> _errors;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _activationsCreated;
    private readonly Counter<long> _activationsCollected;
    private readonly ConcurrentDictionary<(string, string), MethodStatistics> _methods = new();
    private readonly ConcurrentDictionary<string, StrongBox> _activeByType = new(StringComparer.Ordinal);
    private long _created;
    private long _collected;

    public GrainTelemetry(TimeProvider timeProvider)
    {
        TimeProvider = timeProvider;
        _meter = new Meter(Name, "1.0");
        ActivitySource = new ActivitySource(Name, "1.0");
        _calls = _meter.CreateCounter<long>("federation.grains.calls", "{call}", "Grain calls completed, by grain type and method");
        _errors = _meter.CreateCounter<long>("federation.grains.errors", "{call}", "Grain calls that failed, by grain type and method");
        _duration = _meter.CreateHistogram<double>("federation.grains.call.duration", "s", "Grain call latency from send to completion");
        _activationsCreated = _meter.CreateCounter<long>("federation.grains.activations.created", "{activation}", "Activations created, by grain type");
        _activationsCollected = _meter.CreateCounter<long>("federation.grains.activations.collected", "{activation}", "Activations ended gracefully, by grain type");
        _meter.CreateObservableGauge("federation.grains.activations", ObserveActivations, "{activation}", "Live activations by grain type");
    }

    public TimeProvider TimeProvider { get; }

    public ActivitySource ActivitySource { get; }

    public MethodStatistics ForMethod(string grainType, string method) => _methods.GetOrAdd((grainType, method), static key => new MethodStatistics(key.Item1, key.Item2));

    public void CallCompleted(MethodStatistics statistics, TimeSpan elapsed, bool failed)
    {
        statistics.Record(elapsed.Ticks / (double)TimeSpan.TicksPerMicrosecond, failed);
        if (_calls.Enabled || _duration.Enabled || _errors.Enabled)
        {
            var tags = new TagList { { "grain.type", statistics.GrainType }, { "grain.method", statistics.Method } };
            _calls.Add(1, tags);
            _duration.Record(elapsed.TotalSeconds, tags);
            if (failed)
            {
                _errors.Add(1, tags);
            }
        }
    }

    public void ActivationCreated(string grainType)
    {
        Interlocked.Increment(ref _created);
        Interlocked.Increment(ref _activeByType.GetOrAdd(grainType, static _ => new StrongBox()).Value);
        if (_activationsCreated.Enabled)
        {
            _activationsCreated.Add(1, new KeyValuePair<string, object?>("grain.type", grainType));
        }
    }

    public void ActivationCollected(string grainType)
    {
        Interlocked.Increment(ref _collected);
        Interlocked.Decrement(ref _activeByType.GetOrAdd(grainType, static _ => new StrongBox()).Value);
        if (_activationsCollected.Enabled)
        {
            _activationsCollected.Add(1, new KeyValuePair<string, object?>("grain.type", grainType));
        }
    }

    /// <summary>A killed activation leaves the live count without a graceful collection.</summary>
    public void ActivationAbandoned(string grainType) => Interlocked.Decrement(ref _activeByType.GetOrAdd(grainType, static _ => new StrongBox()).Value);

    public GrainStatisticsSnapshot Snapshot() => new(
        TimeProvider.GetUtcNow(),
        [.. _methods.Values.Select(m => m.Snapshot()).OrderBy(m => m.GrainType, StringComparer.Ordinal).ThenBy(m => m.Method, StringComparer.Ordinal)],
        _activeByType.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => (int)Volatile.Read(ref p.Value.Value), StringComparer.Ordinal),
        Volatile.Read(ref _created),
        Volatile.Read(ref _collected));

    private IEnumerable<Measurement<int>> ObserveActivations() =>
        [.. _activeByType.Select(p => new Measurement<int>((int)Volatile.Read(ref p.Value.Value), new KeyValuePair<string, object?>("grain.type", p.Key)))];

    public void Dispose()
    {
        _meter.Dispose();
        ActivitySource.Dispose();
    }

    private sealed class StrongBox
    {
        public long Value;
    }
}

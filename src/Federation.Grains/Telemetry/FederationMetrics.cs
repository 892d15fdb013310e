using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Federation.Core.Crypto;
using Federation.Core.Membership;

namespace Federation.Grains.Telemetry;

/// <summary>
/// SPEC A's metrics for latency, vote distribution and node health, under the meter <see cref="MeterName"/>
/// (exported with the runtime's own when OTLP is configured):
/// <list type="bullet">
/// <item><c>federation.epoch.latency</c> (s): from an epoch's close to its commit (or failure), tagged by outcome;</item>
/// <item><c>federation.epoch.votes</c>: every consensus message a validator sent, by phase and validator;</item>
/// <item><c>federation.epoch.view_changes</c>: view changes each epoch needed;</item>
/// <item><c>federation.nodes</c>: the nodes this silo hosts, by status (an active node not seen for the inactivity
/// timeout counts as <c>inactive</c>), and <c>federation.nodes.last_seen_age</c> (s): the longest silence among them.</item>
/// </list>
/// The node table is a per-silo cache of what the node grains it hosts last reported; losing it loses nothing.
/// </summary>
public sealed class FederationMetrics : IDisposable
{
    public const string MeterName = "Federation.Coordinator";

    private readonly Meter _meter;
    private readonly TimeProvider _time;
    private readonly Histogram<double> _epochLatency;
    private readonly Counter<long> _votes;
    private readonly Counter<long> _viewChanges;
    private readonly ConcurrentDictionary<(string Federation, KeyFingerprint Node), NodeHealth> _nodes = new();

    public FederationMetrics(IMeterFactory meters, TimeProvider time)
    {
        _meter = meters.Create(MeterName);
        _time = time;
        _epochLatency = _meter.CreateHistogram<double>("federation.epoch.latency", "s", "time from an epoch's close to its commit or failure");
        _votes = _meter.CreateCounter<long>("federation.epoch.votes", "{message}", "consensus messages sent by validators, by phase and validator");
        _viewChanges = _meter.CreateCounter<long>("federation.epoch.view_changes", "{view change}", "view changes an epoch needed");
        _meter.CreateObservableGauge("federation.nodes", ObserveNodes, "{node}", "nodes hosted here, by federation and status");
        _meter.CreateObservableGauge("federation.nodes.last_seen_age", ObserveSilence, "s", "the longest silence of an active node, by federation");
    }

    public Meter Meter => _meter;

    public void EpochEnded(string federationId, bool committed, TimeSpan sinceClose, long viewChanges)
    {
        var federation = KeyValuePair.Create<string, object?>("federation", federationId);
        _epochLatency.Record(sinceClose.TotalSeconds, federation, KeyValuePair.Create<string, object?>("outcome", committed ? "committed" : "failed"));
        _viewChanges.Add(viewChanges, federation);
    }

    /// <summary>Counts consensus messages (signed votes, view changes, new views) by phase and sender.</summary>
    public void VotesSent(string federationId, IEnumerable<byte[]> messages)
    {
        foreach (var message in messages)
        {
            var payload = Core.Signing.SignedEnvelope.Parse(message).Payload;
            var phase = (payload["phase"] ?? payload["type"])?.GetValue<string>() ?? "unknown";
            var validator = payload["validator"]?.GetValue<string>() ?? "unknown";
            _votes.Add(1, KeyValuePair.Create<string, object?>("federation", federationId), KeyValuePair.Create<string, object?>("phase", phase), KeyValuePair.Create<string, object?>("validator", validator));
        }
    }

    /// <summary>A node grain activated here: the entry it keeps current (no lookup on its hot path).</summary>
    public NodeHealth Track(string federationId, KeyFingerprint node, TimeSpan inactivityTimeout) =>
        _nodes[(federationId, node)] = new NodeHealth(inactivityTimeout);

    /// <summary>The node's grain left this silo: it is counted where it activates next.</summary>
    public void NodeLeft(string federationId, KeyFingerprint node) => _nodes.TryRemove((federationId, node), out _);

    private IEnumerable<Measurement<long>> ObserveNodes()
    {
        var now = _time.GetUtcNow();
        return _nodes
            .GroupBy(n => (n.Key.Federation, Status: StatusName(n.Value, now)))
            .Select(g => new Measurement<long>(g.Count(), KeyValuePair.Create<string, object?>("federation", g.Key.Federation), KeyValuePair.Create<string, object?>("status", g.Key.Status)));
    }

    private IEnumerable<Measurement<double>> ObserveSilence()
    {
        var now = _time.GetUtcNow();
        return _nodes
            .Where(n => n.Value is { Status: NodeStatus.Active, LastSeen: not null })
            .GroupBy(n => n.Key.Federation)
            .Select(g => new Measurement<double>(g.Max(n => (now - n.Value.LastSeen!.Value).TotalSeconds), KeyValuePair.Create<string, object?>("federation", g.Key)));
    }

    private static string StatusName(NodeHealth health, DateTimeOffset now) =>
        health.Status == NodeStatus.Active && (health.LastSeen is null || now - health.LastSeen > health.InactivityTimeout)
            ? "inactive"
            : health.Status.ToString().ToLowerInvariant();

    public void Dispose() => _meter.Dispose();
}

/// <summary>What one node grain last reported of its node: written by the grain, read when the gauges are observed.</summary>
public sealed class NodeHealth(TimeSpan inactivityTimeout)
{
    private long _lastSeenTicks = long.MinValue;
    private volatile int _status = (int)NodeStatus.Pending;

    public TimeSpan InactivityTimeout => inactivityTimeout;

    public NodeStatus Status
    {
        get => (NodeStatus)_status;
        set => _status = (int)value;
    }

    public DateTimeOffset? LastSeen
    {
        get => Volatile.Read(ref _lastSeenTicks) is var ticks && ticks == long.MinValue ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        set => Volatile.Write(ref _lastSeenTicks, value?.UtcTicks ?? long.MinValue);
    }
}

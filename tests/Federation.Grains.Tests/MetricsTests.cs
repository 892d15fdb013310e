using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Federation.Grains.Telemetry;
using static Federation.Grains.Tests.FederationFixture;

namespace Federation.Grains.Tests;

/// <summary>SPEC A's metrics (latency, vote distribution, node health) as a committed epoch records them.</summary>
public sealed class MetricsTests : IAsyncLifetime
{
    private readonly FederationFixture _fx = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _fx.DisposeAsync().AsTask();

    [Fact]
    public async Task A_committed_epoch_records_its_latency_votes_by_phase_and_validator_and_the_nodes_by_status()
    {
        await _fx.StartAsync();
        var metrics = (FederationMetrics)_fx.Services.GetService(typeof(FederationMetrics))!;
        var recorded = new ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => recorded.Enqueue((i.Name, v, Tags(tags))));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => recorded.Enqueue((i.Name, v, Tags(tags))));
        listener.Start();

        for (var i = 1; i <= 4; i++)
        {
            var block = await _fx.JoinAsync(Fed1, _fx.Node(i));
            Assert.True((await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, _fx.Node(i), block, 1, seed: 1 + (i * 0.001)))).Acknowledged);
        }

        var report = await _fx.RunEpochAsync(Fed1);
        Assert.Equal(EpochState.Committed, report.State);
        listener.RecordObservableInstruments();

        var latency = Assert.Single(recorded, r => r.Instrument == "federation.epoch.latency");
        Assert.Equal("committed", latency.Tags["outcome"]);
        Assert.True(latency.Value >= 0);
        var votes = recorded.Where(r => r.Instrument == "federation.epoch.votes").ToList();
        Assert.Equal(4, votes.Where(v => (string?)v.Tags["phase"] == "commit").Select(v => v.Tags["validator"]).Distinct().Count());
        Assert.Equal(1, votes.Count(v => (string?)v.Tags["phase"] == "pre-prepare"));
        Assert.Equal(0, recorded.Where(r => r.Instrument == "federation.epoch.view_changes").Sum(r => r.Value));
        var active = Assert.Single(recorded, r => r.Instrument == "federation.nodes" && (string?)r.Tags["status"] == "active" && (string?)r.Tags["federation"] == Fed1);
        Assert.Equal(4, active.Value);
        Assert.Contains(recorded, r => r.Instrument == "federation.nodes.last_seen_age" && (string?)r.Tags["federation"] == Fed1);
    }

    private static Dictionary<string, object?> Tags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            result[tag.Key] = tag.Value;
        }

        return result;
    }
}

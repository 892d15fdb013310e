using Federation.Core.Scrolls;
using Federation.Grains.Services;
using static Federation.Grains.Tests.FederationFixture;

namespace Federation.Grains.Tests;

/// <summary>
/// Two silos serving one federation: the silo that holds the update scroll's grain is killed in the middle of a burst of
/// updates. Every update acknowledged before, during or after the kill is in the scroll as acknowledged (seq and leaf
/// hash), the refused ones say so, and the epoch then commits on the silo that is left.
/// </summary>
public sealed class FailoverTests : IAsyncLifetime
{
    private const int Nodes = 24;

    private readonly FederationFixture _fx = new()
    {
        SiloCount = 2,
        Epochs = new EpochOptions { QuorumFraction = 0.9, Grace = TimeSpan.FromSeconds(5), Deadline = TimeSpan.FromMinutes(2), CheckInterval = TimeSpan.FromSeconds(1) },
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _fx.DisposeAsync().AsTask();

    [Fact]
    public async Task A_silo_killed_during_a_burst_of_updates_loses_no_acknowledged_update_and_the_epoch_commits_on_the_other()
    {
        await _fx.StartAsync();
        var nodes = new List<(Core.Crypto.Ed25519PrivateKey Key, string Block)>();
        for (var i = 1; i <= Nodes; i++)
        {
            nodes.Add((_fx.Node(i), await _fx.JoinAsync(Fed1, _fx.Node(i))));
        }

        var messages = new List<byte[]>();
        foreach (var (key, block) in nodes)
        {
            messages.Add(await _fx.UpdateAsync(Fed1, key, block, 1));
        }

        var updates = _fx.Scroll(FederationScrolls.Updates(Fed1));
        var gateway = _fx.Gateway;
        var first = await Task.WhenAll(messages.Take(Nodes / 3).Select(m => gateway.SubmitAsync(Fed1, m)));
        Assert.All(first, a => Assert.True(a.Acknowledged, a.Message));

        // The burst: the rest in flight while the silo holding the update scroll dies.
        var burst = messages.Skip(Nodes / 3).Select(async m =>
        {
            try
            {
                return await gateway.SubmitAsync(Fed1, m);
            }
            catch (Exception ex)
            {
                return new UpdateAck(Core.Ingest.Disposition.Refused, "unavailable", ex.GetType().Name);
            }
        }).ToList();
        var killed = await _fx.KillSiloHostingAsync(updates);
        var during = await Task.WhenAll(burst);
        Assert.Equal(1, _fx.LiveSilos);

        // A node that was not answered sends again (as agents do): acknowledged now, or a duplicate of what was sealed.
        var resent = new List<UpdateAck>();
        for (var i = Nodes / 3; i < Nodes; i++)
        {
            if (!during[i - (Nodes / 3)].Acknowledged)
            {
                resent.Add(await gateway.SubmitAsync(Fed1, messages[i]));
            }
        }

        Assert.All(resent, a => Assert.True(a.Acknowledged, $"{a.Code}: {a.Message}"));
        var acknowledged = first.Concat(during).Concat(resent).Where(a => a.Acknowledged).ToList();
        var head = await updates.HeadAsync();
        foreach (var ack in acknowledged)
        {
            Assert.True(ack.Seq < head.Size, $"{ack.ReceiptId} acknowledged, but the scroll on the surviving silo has {head.Size} receipts (silo {killed} killed)");
            var receipt = Receipt.Parse((await updates.ReadAsync(ack.Seq!.Value, ack.Seq.Value + 1))[0]);
            Assert.Equal(ack.ReceiptId, receipt.Id);
        }

        // Every node's update is in the scroll exactly once.
        Assert.Equal(Nodes, acknowledged.Select(a => a.ReceiptId).Distinct().Count());
        var report = await _fx.RunEpochAsync(Fed1);
        Assert.True(report.State == EpochState.Committed, report.Reason);
        Assert.Equal(Nodes, report.Included);
    }

    [Fact]
    public async Task The_epoch_deadline_reminder_registered_before_its_silo_is_killed_closes_the_epoch_on_the_other()
    {
        await _fx.StartAsync();
        var node = _fx.Node(1);
        var block = await _fx.JoinAsync(Fed1, node);
        await _fx.JoinAsync(Fed1, _fx.Node(2)); // a second active node that never submits: no quorum, only the deadline closes
        var epochs = _fx.Grains.GetGrain<IEpochGrain>(Fed1);
        await epochs.StartAsync();
        Assert.True((await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, node, block, 1))).Acknowledged);

        await _fx.KillSiloHostingAsync(epochs);
        Assert.Equal(1, _fx.LiveSilos);
        IReadOnlyList<EpochReport> history = [];
        for (var i = 0; i < 600 && history.Count == 0; i++)
        {
            _fx.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
            history = await epochs.HistoryAsync();
        }

        var report = Assert.Single(history);
        Assert.True(report.State == EpochState.Committed, report.Reason);
        Assert.Equal(1, report.Included);
    }
}

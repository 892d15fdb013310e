using Federation.Core.Hashing;
using Federation.Core.Ingest;
using static Federation.Grains.Tests.FederationFixture;

namespace Federation.Grains.Tests;

/// <summary>
/// Each node sends one update per epoch: after an epoch changes, the nodes of a silo start from what the update scroll
/// last answered on that silo (EpochHints) instead of each asking it again — and a silo whose hint is stale is put right
/// by the scroll, never refused on it.
/// </summary>
public sealed class EpochHintTests : IAsyncLifetime
{
    private const int Nodes = 10;
    private int _asked;
    private readonly FederationFixture _fx;

    public EpochHintTests() => _fx = new FederationFixture
    {
        SiloCount = 2,
        Silo = silo => silo.AddIncomingGrainCallFilter(context =>
        {
            if (context.MethodName == nameof(IScrollGrain.EpochAsync))
            {
                Interlocked.Increment(ref _asked);
            }

            return context.Invoke();
        }),
    };

    public Task InitializeAsync() => _fx.StartAsync();

    public Task DisposeAsync() => _fx.DisposeAsync().AsTask();

    [Fact]
    public async Task After_an_epoch_opens_at_most_one_node_per_silo_asks_the_update_scroll_for_it()
    {
        var nodes = Enumerable.Range(1, Nodes).Select(_fx.Node).ToList();
        var blocks = new List<string>();
        foreach (var node in nodes)
        {
            blocks.Add(await _fx.JoinAsync(Fed1, node));
        }

        for (var i = 0; i < Nodes; i++)
        {
            Assert.Equal(Disposition.Accepted, (await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, nodes[i], blocks[i], 1))).Disposition);
        }

        // A silo's first node asks (and the scroll's own silo heard it as the scroll activated): one or two questions, not ten.
        Assert.InRange(Volatile.Read(ref _asked), 1, _fx.SiloCount);

        var state2 = Sha256Digest.Of("state-2"u8);
        await _fx.Grains.GetGrain<IFederationGrain>(Fed1).OpenNextEpochAsync(state2);
        var before = Volatile.Read(ref _asked);
        for (var i = 0; i < Nodes; i++)
        {
            var ack = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, nodes[i], blocks[i], 2, baseState: state2));
            Assert.Equal(Disposition.Accepted, ack.Disposition);
        }

        // The scroll's silo heard the new epoch as it was published; the other silo's first node decides under its stale
        // hint (future epoch), asks, and the silo's other nodes start from that answer.
        Assert.InRange(Volatile.Read(ref _asked) - before, 0, _fx.SiloCount - 1);
        Assert.Equal(2 * Nodes, (await _fx.LinesAsync(Core.Scrolls.FederationScrolls.Updates(Fed1))).Count);
    }
}

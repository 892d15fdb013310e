using Federation.Core.Ingest;
using static Federation.Grains.Tests.FederationFixture;

namespace Federation.Grains.Tests;

/// <summary>
/// A silo's node grains hand their seals to the silo's <c>SealBatcher</c>, which carries the seals asked for while a
/// call is in flight to the update scroll in one call: a burst of updates costs far fewer grain calls than updates,
/// and every update is still answered with its own receipt.
/// </summary>
public sealed class SealBatchingTests : IAsyncLifetime
{
    private const int Nodes = 200;
    private int _calls;
    private int _seals;
    private readonly FederationFixture _fx;

    public SealBatchingTests() => _fx = new FederationFixture
    {
        Silo = silo => silo.AddIncomingGrainCallFilter(context =>
        {
            if (context.MethodName == nameof(IScrollGrain.AppendUpdatesAsync))
            {
                Interlocked.Increment(ref _calls);
                Interlocked.Add(ref _seals, ((IReadOnlyList<UpdateSeal>)context.Request.GetArgument(0)!).Count);
            }

            return context.Invoke();
        }),
    };

    public Task InitializeAsync() => _fx.StartAsync();

    public Task DisposeAsync() => _fx.DisposeAsync().AsTask();

    [Fact]
    public async Task A_burst_of_updates_is_sealed_in_few_calls_each_update_with_its_own_receipt()
    {
        var nodes = Enumerable.Range(1, Nodes).Select(_fx.Node).ToList();
        var blocks = await Task.WhenAll(nodes.Select(n => _fx.JoinAsync(Fed1, n)));
        var updates = await Task.WhenAll(nodes.Select((n, i) => _fx.UpdateAsync(Fed1, n, blocks[i], 1, seed: i)));

        var acks = await Task.WhenAll(updates.Select(u => Task.Run(() => _fx.Gateway.SubmitAsync(Fed1, u))));

        Assert.All(acks, a => Assert.Equal(Disposition.Accepted, a.Disposition));
        Assert.Equal(Nodes, acks.Select(a => a.Seq).Distinct().Count());
        Assert.Equal(Nodes, Volatile.Read(ref _seals));
        var calls = Volatile.Read(ref _calls);
        Assert.True(calls <= Nodes / 2, $"{calls} calls carried {Nodes} seals");
        Assert.Equal(Nodes, (await _fx.LinesAsync(Core.Scrolls.FederationScrolls.Updates(Fed1))).Count);
    }
}

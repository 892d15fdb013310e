using Federation.Core.Scrolls;
using static Federation.Grains.Tests.FederationFixture;

namespace Federation.Grains.Tests;

/// <summary>
/// Idle activations are collected and come back on the same silo: the scroll grain closes its ledger when it
/// deactivates, so the next activation on that silo opens the scroll again and goes on from what was sealed.
/// </summary>
public sealed class ReactivationTests : IAsyncLifetime
{
    private readonly FederationFixture _fx = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _fx.DisposeAsync().AsTask();

    [Fact]
    public async Task A_scroll_collected_while_idle_reopens_on_the_same_silo_and_takes_the_next_update()
    {
        await _fx.StartAsync();
        var first = _fx.Node(1);
        var second = _fx.Node(2);
        var firstBlock = await _fx.JoinAsync(Fed1, first);
        var secondBlock = await _fx.JoinAsync(Fed1, second);
        var before = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, first, firstBlock, 1));
        Assert.True(before.Acknowledged, before.Message);

        var management = _fx.Grains.GetGrain<IManagementGrain>(0);
        var activeBefore = await management.GetTotalActivationCount();
        await management.ForceActivationCollection(TimeSpan.Zero);
        Assert.True(await management.GetTotalActivationCount() < activeBefore);

        var after = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, second, secondBlock, 1));
        Assert.True(after.Acknowledged, after.Message);
        Assert.Equal(before.Seq + 1, after.Seq);
        Assert.Equal(2, await _fx.Scroll(FederationScrolls.Updates(Fed1)).SubmittedAsync(1));
    }
}

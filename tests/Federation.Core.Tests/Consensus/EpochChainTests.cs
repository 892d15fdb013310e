using Federation.Core.Consensus;
using Federation.Core.Hashing;

namespace Federation.Core.Tests.Consensus;

public sealed class EpochChainTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_new_chain_opens_epoch_one_on_the_genesis_state()
    {
        var chain = EpochChainState.Genesis("fed1", Start);

        Assert.Equal(1, chain.OpenEpoch);
        Assert.Null(chain.ClosingEpoch);
        Assert.Equal(EpochProposal.Genesis("fed1").ToString(), chain.BaseStates[1]);
        Assert.True(chain.Admits(1));
        Assert.False(chain.Admits(2));
    }

    [Fact]
    public void Closing_refuses_the_closing_epoch_and_a_second_close_changes_nothing()
    {
        var chain = EpochChainState.Genesis("fed1", Start);

        Assert.True(chain.Close());
        Assert.False(chain.Close());
        Assert.Equal(1, chain.ClosingEpoch);
        Assert.False(chain.Admits(1));
    }

    [Fact]
    public void Applying_opens_the_next_epoch_on_the_committed_state_with_its_streaks_and_late_updates_are_admitted()
    {
        var chain = EpochChainState.Genesis("fed1", Start);
        var next = Sha256Digest.Of("state 2"u8.ToArray());
        chain.Close();

        chain.Apply(1, next, new Dictionary<string, int> { ["node-a"] = 2 }, Start.AddMinutes(1));

        Assert.Equal(2, chain.OpenEpoch);
        Assert.Null(chain.ClosingEpoch);
        Assert.Equal(next.ToString(), chain.BaseStates[2]);
        Assert.Equal(2, chain.Streaks["node-a"]);
        Assert.Equal(Start.AddMinutes(1), chain.OpenedAt);
        Assert.True(chain.Admits(1)); // late
    }

    [Fact]
    public void Only_the_closing_epoch_can_be_applied()
    {
        var chain = EpochChainState.Genesis("fed1", Start);

        var error = Assert.Throws<InvalidOperationException>(() => chain.Apply(1, Sha256Digest.Of([]), new Dictionary<string, int>(), Start));

        Assert.Contains("epoch 1 is not the closing epoch (none)", error.Message);
        Assert.Equal(1, chain.OpenEpoch);
    }
}

public sealed class EpochClosingTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    [InlineData(10, 7)]
    public void The_quorum_is_two_thirds_of_the_active_nodes_rounded_up_and_at_least_one(int active, int quorum) =>
        Assert.Equal(quorum, new EpochClosing(2.0 / 3.0, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(2)).Quorum(active));

    [Fact]
    public void A_quorum_closes_the_epoch_only_after_the_grace_period_counted_from_when_it_was_first_seen()
    {
        var closing = new EpochClosing(2.0 / 3.0, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(2));

        Assert.False(closing.OnCheck(false, 7, 10, Start));
        Assert.False(closing.OnCheck(false, 8, 10, Start.AddSeconds(4)));
        Assert.True(closing.OnCheck(false, 8, 10, Start.AddSeconds(5)));
    }

    [Fact]
    public void Losing_the_quorum_or_an_epoch_already_closing_restarts_the_grace_period()
    {
        var closing = new EpochClosing(2.0 / 3.0, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(2));

        Assert.False(closing.OnCheck(false, 7, 10, Start));
        Assert.False(closing.OnCheck(false, 7, 11, Start.AddSeconds(3))); // a node joined: 7 of 11 is short of 8
        Assert.False(closing.OnCheck(false, 8, 11, Start.AddSeconds(6)));
        Assert.False(closing.OnCheck(true, 8, 11, Start.AddSeconds(12)));
        Assert.False(closing.OnCheck(false, 8, 11, Start.AddSeconds(13)));
        Assert.True(closing.OnCheck(false, 8, 11, Start.AddSeconds(18)));
    }

    [Fact]
    public void The_deadline_closes_an_epoch_open_for_its_whole_deadline()
    {
        var closing = new EpochClosing(2.0 / 3.0, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(2));

        Assert.False(closing.OnDeadline(Start, Start.AddSeconds(119)));
        Assert.True(closing.OnDeadline(Start, Start.AddMinutes(2)));
    }
}

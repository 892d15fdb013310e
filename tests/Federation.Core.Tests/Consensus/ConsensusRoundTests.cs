using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Signing;

namespace Federation.Core.Tests.Consensus;

/// <summary>The relay between an epoch's validators, driven the way the epoch grain and the simulator drive it.</summary>
public sealed class ConsensusRoundTests : IDisposable
{
    private static readonly Sha256Digest Proposal = Sha256Digest.Of("epoch 3 proposal"u8.ToArray());

    private readonly List<Ed25519PrivateKey> _keys = Enumerable.Range(0, 4).Select(i => Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)(40 + i), 32).ToArray())).ToList();
    private readonly ValidatorSet _set;

    public ConsensusRoundTests() => _set = new ValidatorSet(_keys.Select((k, i) => ($"v{i}", k.PublicKey)).ToList());

    public void Dispose() => _keys.ForEach(k => k.Dispose());

    private static ReplicaReport ReportOf(PbftReplica replica, PbftOutput output, bool silent) =>
        new(silent ? [] : output.Broadcast.Select(m => m.ToCanonicalJson()).ToList(), replica.CommittedDigest, replica.View, output.Evidence.Select(e => Federation.Core.Canonical.CanonicalJson.Write(e.ToJson())).ToList());

    /// <summary>Runs a round to its end as a caller would; returns the result, the deliveries made and the views expired.</summary>
    private (ConsensusResult Result, List<(int To, byte[] Message)> Deliveries, int Expired) Run(ISet<int> silent, int maxViewChanges = 3)
    {
        var replicas = Enumerable.Range(0, 4).Select(i => new PbftReplica(_set, $"v{i}", new Ed25519Signer(_keys[i]), 3)).ToList();
        var round = new ConsensusRound(_set, TimeSpan.FromSeconds(1), maxViewChanges);
        var deliveries = new List<(int, byte[])>();
        var expired = 0;
        for (var i = 0; i < 4; i++)
        {
            round.Report(i, ReportOf(replicas[i], replicas[i].SetLocalProposal(Proposal), silent.Contains(i)));
        }

        while (true)
        {
            while (round.TryNextDelivery(out var to, out var message))
            {
                deliveries.Add((to, message));
                round.Report(to, ReportOf(replicas[to], replicas[to].Receive(SignedEnvelope.Parse(message)), silent.Contains(to)));
            }

            if (round.IsDecided)
            {
                return (round.Result(), deliveries, expired);
            }

            expired++;
            foreach (var i in round.ExpireView())
            {
                round.Report(i, ReportOf(replicas[i], replicas[i].OnTimeout(), silent.Contains(i)));
            }
        }
    }

    [Fact]
    public void Honest_validators_commit_the_proposal_in_view_zero_without_a_timeout()
    {
        var (result, _, expired) = Run(new HashSet<int>());

        Assert.True(result.Committed);
        Assert.Equal(Proposal, result.Digest);
        Assert.Equal(0, result.View);
        Assert.Equal(0, expired);
    }

    [Fact]
    public void Every_message_goes_to_every_other_validator_once_and_never_back_to_its_sender()
    {
        var (_, deliveries, _) = Run(new HashSet<int>());

        foreach (var group in deliveries.GroupBy(d => Convert.ToBase64String(d.Message)))
        {
            var sender = _set.Ids.ToList().IndexOf(SignedEnvelope.Parse(group.First().Message).Payload["validator"]!.GetValue<string>());
            Assert.Equal([.. Enumerable.Range(0, 4).Where(i => i != sender)], group.Select(d => d.To).Order().ToList());
        }
    }

    [Fact]
    public void A_silent_primary_costs_one_view_change_and_the_others_commit_in_view_one()
    {
        var (result, _, expired) = Run(new HashSet<int> { 0 });

        Assert.True(result.Committed);
        Assert.Equal(1, expired);
        Assert.Equal(1, result.View);
    }

    [Fact]
    public void More_than_f_silent_validators_fail_after_the_bound_on_view_changes_and_say_why()
    {
        var (result, _, expired) = Run(new HashSet<int> { 1, 2 }, maxViewChanges: 2);

        Assert.False(result.Committed);
        Assert.Null(result.Digest);
        Assert.Equal(2, expired);
        Assert.Contains("no 2f + 1 = 3 validators committed after 2 view changes", result.Failure);
        Assert.Contains("v1@view", result.Failure);
    }

    [Fact]
    public void The_view_timer_doubles_with_each_expiry()
    {
        var round = new ConsensusRound(_set, TimeSpan.FromSeconds(2), 5);
        for (var i = 0; i < 4; i++)
        {
            round.Report(i, new ReplicaReport([], null, 0, []));
        }

        var timeouts = new List<TimeSpan>();
        for (var i = 0; i < 3; i++)
        {
            timeouts.Add(round.NextTimeout);
            Assert.Equal(4, round.ExpireView().Count);
        }

        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8)], timeouts);
    }

    [Fact]
    public void Two_committed_digests_are_a_failure_never_an_outcome()
    {
        var round = new ConsensusRound(_set, TimeSpan.FromSeconds(1), 0);
        var other = Sha256Digest.Of("other"u8.ToArray());
        round.Report(0, new ReplicaReport([], Proposal, 0, []));
        round.Report(1, new ReplicaReport([], Proposal, 0, []));
        round.Report(2, new ReplicaReport([], other, 0, []));

        var result = round.Result();

        Assert.False(result.Committed);
        Assert.Contains("2 different digests", result.Failure);
    }

    [Fact]
    public void A_round_that_is_not_decided_has_no_result_and_a_busy_network_no_expiry()
    {
        var round = new ConsensusRound(_set, TimeSpan.FromSeconds(1), 3);
        round.Report(0, new ReplicaReport([[1, 2, 3]], null, 0, []));

        Assert.False(round.IsDecided);
        Assert.Throws<InvalidOperationException>(() => round.Result());
        Assert.Throws<InvalidOperationException>(() => round.ExpireView());
    }
}

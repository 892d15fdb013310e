using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Signing;
using Federation.Core.Merkle;

namespace Federation.Core.Tests.Consensus;

/// <summary>A crafted network of replicas: seeded delivery order, drops, silent or lying validators, timeouts.</summary>
internal sealed class PbftNetwork : IDisposable
{
    private readonly List<Ed25519PrivateKey> _keys;
    private readonly List<(string To, SignedEnvelope Message)> _queue = [];
    private readonly Random _random;

    public PbftNetwork(int n, int seed, long epoch = 7)
    {
        _random = new Random(seed);
        _keys = Enumerable.Range(0, n).Select(i => Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)(i + 1), 32).ToArray())).ToList();
        Validators = new ValidatorSet(_keys.Select((k, i) => ($"v{i}", k.PublicKey)).ToList());
        Replicas = Validators.Ids.Select((id, i) => new PbftReplica(Validators, id, new Ed25519Signer(_keys[i]), epoch)).ToList();
    }

    public ValidatorSet Validators { get; }

    public List<PbftReplica> Replicas { get; }

    public HashSet<string> Silent { get; } = [];

    public double DropRate { get; set; }

    public List<VoteEquivocation> Evidence { get; } = [];

    public List<string> Refusals { get; } = [];

    public ISigner SignerOf(int i) => new Ed25519Signer(_keys[i]);

    public IEnumerable<PbftReplica> Honest => Replicas.Where(r => !Silent.Contains(r.Self));

    public void Broadcast(string from, PbftOutput output)
    {
        Evidence.AddRange(output.Evidence);
        Refusals.AddRange(output.Refused);
        if (Silent.Contains(from))
        {
            return;
        }

        foreach (var message in output.Broadcast)
        {
            Send(from, message);
        }
    }

    public void Send(string from, SignedEnvelope message, IEnumerable<string>? to = null)
    {
        foreach (var replica in to ?? Validators.Ids)
        {
            if (replica != from)
            {
                _queue.Add((replica, message));
            }
        }
    }

    public void ProposeEverywhere(Sha256Digest digest)
    {
        foreach (var replica in Replicas.Where(r => !Silent.Contains(r.Self)))
        {
            Broadcast(replica.Self, replica.SetLocalProposal(digest));
        }
    }

    /// <summary>Delivers messages in a seeded random order; when the network is quiet, honest replicas time out.</summary>
    public void Run(int maxTimeouts = 8)
    {
        for (var round = 0; round <= maxTimeouts; round++)
        {
            while (_queue.Count > 0)
            {
                var index = _random.Next(_queue.Count);
                var (to, message) = _queue[index];
                _queue.RemoveAt(index);
                if (Silent.Contains(to) || _random.NextDouble() < DropRate)
                {
                    continue;
                }

                var replica = Replicas.Single(r => r.Self == to);
                Broadcast(to, replica.Receive(message));
            }

            if (Honest.All(r => r.CommittedDigest is not null))
            {
                return;
            }

            foreach (var replica in Honest.Where(r => r.CommittedDigest is null))
            {
                Broadcast(replica.Self, replica.OnTimeout());
            }
        }
    }

    public void Dispose() => _keys.ForEach(k => k.Dispose());
}

public class PbftTests
{
    private static readonly Sha256Digest Proposal = Sha256Digest.Of("epoch-7-proposal"u8);
    private static readonly Sha256Digest Other = Sha256Digest.Of("a-different-proposal"u8);

    private static void AssertAllHonestCommitted(PbftNetwork network, Sha256Digest digest)
    {
        foreach (var replica in network.Honest)
        {
            Assert.True(replica.CommittedDigest == digest, $"{replica.Self} committed {replica.CommittedDigest?.ToString() ?? "nothing"} in view {replica.View}");
            Assert.Empty(CommitCertificate.Verify(replica.CommitCertificate, network.Validators, 7, digest));
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(10)]
    public void With_every_validator_honest_all_commit_in_view_0(int n)
    {
        using var network = new PbftNetwork(n, seed: n);
        network.ProposeEverywhere(Proposal);
        network.Run();
        AssertAllHonestCommitted(network, Proposal);
        Assert.All(network.Replicas, r => Assert.Equal(0, r.View));
    }

    [Fact]
    public void A_silent_primary_is_replaced_by_a_view_change_with_doubling_timeouts_counted()
    {
        using var network = new PbftNetwork(4, seed: 1);
        network.Silent.Add("v0");
        network.ProposeEverywhere(Proposal);
        network.Run();
        AssertAllHonestCommitted(network, Proposal);
        Assert.All(network.Honest, r => Assert.Equal(1, r.View));
        Assert.All(network.Honest, r => Assert.Equal(1, r.ViewChangesStarted));
    }

    [Fact]
    public void A_primary_whose_proposal_does_not_match_the_recomputation_is_voted_out()
    {
        using var network = new PbftNetwork(4, seed: 2);
        network.Silent.Add("v0"); // v0 sends only what the test sends for it
        foreach (var replica in network.Honest)
        {
            network.Broadcast(replica.Self, replica.SetLocalProposal(Proposal));
        }

        network.Send("v0", Vote.Create(VotePhase.PrePrepare, 7, 0, Other, "v0", network.SignerOf(0)).Signed);
        network.Run();
        AssertAllHonestCommitted(network, Proposal);
        Assert.Contains(network.Refusals, r => r.Contains("recomputed proposal"));
    }

    [Fact]
    public void An_equivocating_primary_leaves_evidence_and_cannot_split_the_honest_validators()
    {
        using var network = new PbftNetwork(7, seed: 3);
        network.Silent.Add("v0");
        foreach (var replica in network.Honest)
        {
            network.Broadcast(replica.Self, replica.SetLocalProposal(Proposal));
        }

        network.Send("v0", Vote.Create(VotePhase.PrePrepare, 7, 0, Proposal, "v0", network.SignerOf(0)).Signed, ["v1", "v2", "v3"]);
        network.Send("v0", Vote.Create(VotePhase.PrePrepare, 7, 0, Other, "v0", network.SignerOf(0)).Signed, ["v4", "v5", "v6"]);
        // The replicas that saw one pre-prepare later see the other (forwarded in a view change, or gossip).
        network.Send("v0", Vote.Create(VotePhase.PrePrepare, 7, 0, Other, "v0", network.SignerOf(0)).Signed, ["v1"]);
        network.Run();

        AssertAllHonestCommitted(network, Proposal);
        var evidence = network.Evidence.First(e => e.First.Validator == "v0");
        Assert.Empty(evidence.Verify(network.Validators));
    }

    [Fact]
    public void A_validator_voting_two_digests_in_one_phase_leaves_verifiable_evidence()
    {
        using var network = new PbftNetwork(4, seed: 4);
        network.Silent.Add("v3");
        network.ProposeEverywhere(Proposal);
        network.Send("v3", Vote.Create(VotePhase.Prepare, 7, 0, Proposal, "v3", network.SignerOf(3)).Signed);
        network.Send("v3", Vote.Create(VotePhase.Prepare, 7, 0, Other, "v3", network.SignerOf(3)).Signed);
        network.Run();
        AssertAllHonestCommitted(network, Proposal);
        Assert.Contains(network.Evidence, e => e.First.Validator == "v3" && e.Verify(network.Validators).Count == 0);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    public void Lost_and_reordered_messages_delay_but_never_split_the_decision(int seed)
    {
        using var network = new PbftNetwork(7, seed) { DropRate = 0.25 };
        network.Silent.Add("v" + (seed % 7));
        network.ProposeEverywhere(Proposal);
        network.Run(maxTimeouts: 30);
        var committed = network.Honest.Where(r => r.CommittedDigest is not null).ToList();
        Assert.NotEmpty(committed);
        Assert.All(committed, r => Assert.Equal(Proposal, r.CommittedDigest));
    }

    [Fact]
    public void A_value_committed_by_one_replica_before_a_view_change_is_the_value_of_the_next_view()
    {
        using var network = new PbftNetwork(4, seed: 5);
        // View 0: everyone prepares the proposal, but only v1 sees 2f + 1 commits; the other commits are lost.
        network.Silent.Add("v0");
        network.Silent.Add("v1");
        network.Silent.Add("v2");
        network.Silent.Add("v3");
        var outputs = network.Replicas.Select(r => (r.Self, Output: r.SetLocalProposal(Proposal))).ToList();
        var prePrepare = outputs.Single(o => o.Self == "v0").Output.Broadcast.Single();
        var prepares = new List<SignedEnvelope>();
        foreach (var replica in network.Replicas.Skip(1))
        {
            prepares.AddRange(replica.Receive(prePrepare).Broadcast);
        }

        var commits = new List<SignedEnvelope>();
        foreach (var replica in network.Replicas)
        {
            foreach (var prepare in prepares)
            {
                commits.AddRange(replica.Receive(prepare).Broadcast);
            }
        }

        var v1 = network.Replicas[1];
        foreach (var commit in commits)
        {
            v1.Receive(commit);
        }

        Assert.Equal(Proposal, v1.CommittedDigest);
        Assert.All(network.Replicas.Where(r => r.Self != "v1"), r => Assert.Null(r.CommittedDigest));

        // The network heals; the others change view and the new primary must re-propose the prepared value,
        // even though its own fresh recomputation would now differ.
        network.Silent.Clear();
        network.Replicas[2].SetLocalProposal(Other);
        network.Run();
        AssertAllHonestCommitted(network, Proposal);
    }

    [Fact]
    public void With_more_than_f_silent_validators_nothing_commits_and_nothing_conflicts()
    {
        using var network = new PbftNetwork(4, seed: 6);
        network.Silent.Add("v1");
        network.Silent.Add("v2");
        network.ProposeEverywhere(Proposal);
        network.Run(maxTimeouts: 6);
        Assert.All(network.Honest, r => Assert.Null(r.CommittedDigest));
        Assert.All(network.Honest, r => Assert.True(r.ViewChangesStarted >= 1));
    }

    [Fact]
    public void Votes_from_strangers_or_for_other_epochs_are_refused()
    {
        using var network = new PbftNetwork(4, seed: 7);
        using var stranger = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)99, 32).ToArray());
        var replica = network.Replicas[1];
        var forged = Vote.Create(VotePhase.Prepare, 7, 0, Proposal, "v2", new Ed25519Signer(stranger));
        Assert.Contains(replica.Receive(forged.Signed).Refused, r => r.Contains("does not verify"));
        var otherEpoch = Vote.Create(VotePhase.Prepare, 8, 0, Proposal, "v2", network.SignerOf(2));
        Assert.Contains(replica.Receive(otherEpoch.Signed).Refused, r => r.Contains("epoch 8"));
        var notPrimary = Vote.Create(VotePhase.PrePrepare, 7, 0, Proposal, "v3", network.SignerOf(3));
        Assert.Contains(replica.Receive(notPrimary.Signed).Refused, r => r.Contains("not the primary"));
    }

    [Fact]
    public void A_commit_certificate_needs_2f_plus_1_distinct_valid_commits_for_the_digest()
    {
        using var network = new PbftNetwork(4, seed: 8);
        network.ProposeEverywhere(Proposal);
        network.Run();
        var certificate = network.Replicas[0].CommitCertificate;
        Assert.Empty(CommitCertificate.Verify(certificate, network.Validators, 7, Proposal));
        Assert.NotEmpty(CommitCertificate.Verify(certificate.Take(2).ToList(), network.Validators, 7, Proposal));
        Assert.NotEmpty(CommitCertificate.Verify([.. certificate.Take(2), certificate[0]], network.Validators, 7, Proposal));
        Assert.NotEmpty(CommitCertificate.Verify(certificate, network.Validators, 7, Other));
        Assert.NotEmpty(CommitCertificate.Verify(certificate, network.Validators, 8, Proposal));
    }

    [Fact]
    public void The_signed_vote_is_exactly_the_five_members_in_rfc8785_form()
    {
        using var network = new PbftNetwork(4, seed: 9);
        var vote = Vote.Create(VotePhase.Commit, 7, 2, Proposal, "v1", network.SignerOf(1));
        Assert.Equal($$"""{"digest":"{{Proposal}}","epoch":7,"phase":"commit","validator":"v1","view":2}""", System.Text.Encoding.UTF8.GetString(vote.Signed.SignedBytes));
    }
}

public class AlignmentTests
{
    private static KeyFingerprint Node(int i) => KeyFingerprint.Parse("ed25519:" + new string((char)('a' + i), 64));

    [Fact]
    public void Alignment_orders_by_ledger_position_drops_duplicates_and_excludes_with_reasons()
    {
        var baseState = Sha256Digest.Of("base"u8);
        var stale = Sha256Digest.Of("old"u8);
        var h = Enumerable.Range(0, 6).Select(i => Sha256Digest.Of([(byte)i])).ToArray();
        var updates = new List<EpochUpdate>
        {
            new(40, Node(3), h[3], baseState),
            new(10, Node(0), h[0], baseState),
            new(12, Node(1), h[1], baseState),
            new(13, Node(0), h[0], baseState),   // exact duplicate of seq 10
            new(20, Node(2), h[2], stale),       // stale base state
            new(21, Node(4), h[4], baseState),   // conflicting with seq 22
            new(22, Node(4), h[5], baseState),
            new(30, Node(5), h[5], baseState),   // not active at start
        };
        var active = new HashSet<KeyFingerprint> { Node(0), Node(1), Node(2), Node(3), Node(4) };

        var result = DynamicNodeAlignment.Align(updates, baseState, active);
        Assert.Equal([10L, 12L, 40L], result.Included.Select(i => i.Seq));
        Assert.Equal(
            [(13L, DynamicNodeAlignment.Duplicate), (20L, DynamicNodeAlignment.StaleBaseState), (21L, DynamicNodeAlignment.ConflictingHashes), (22L, DynamicNodeAlignment.ConflictingHashes), (30L, DynamicNodeAlignment.InactiveNode)],
            result.Excluded.Select(e => (e.Seq, e.Reason)).ToArray());

        foreach (var aligned in result.Included)
        {
            Assert.True(AlignmentResult.VerifyProof(result.AlignmentHash, result.Included.Count, aligned).IsValid);
        }

        var forged = result.Included[1] with { UpdateHash = h[4] };
        Assert.False(AlignmentResult.VerifyProof(result.AlignmentHash, result.Included.Count, forged).IsValid);

        // The same updates in any input order give the same alignment hash.
        var shuffled = updates.OrderByDescending(u => u.UpdateHash.ToHex()).ToList();
        Assert.Equal(result.AlignmentHash, DynamicNodeAlignment.Align(shuffled, baseState, active).AlignmentHash);
    }
}

public class DivergenceAndProposalTests
{
    private static KeyFingerprint Node(int i) => KeyFingerprint.Parse("ed25519:" + new string((char)('a' + i), 64));

    [Fact]
    public void Quarantine_needs_the_configured_number_of_consecutive_epochs_above_the_threshold()
    {
        var tracker = new DivergenceTracker(new DivergencePolicy(DivergenceMetric.Distance, 1.0, 2, 0.2).Validate());
        var first = tracker.Assess(new Dictionary<KeyFingerprint, double> { [Node(0)] = 5, [Node(1)] = 0.5, [Node(2)] = 0.1 });
        Assert.Equal([DivergenceVerdict.Watch, DivergenceVerdict.Flagged, DivergenceVerdict.Normal], first.Select(a => a.Verdict));

        // Node 0 is absent (slow) in epoch 2: its streak waits, it is not reset or punished.
        tracker.Assess(new Dictionary<KeyFingerprint, double> { [Node(1)] = 0.1 });
        var third = tracker.Assess(new Dictionary<KeyFingerprint, double> { [Node(0)] = 3, [Node(1)] = 4 });
        Assert.Equal([DivergenceVerdict.Quarantine, DivergenceVerdict.Watch], third.Select(a => a.Verdict));

        // A streak resumes from the persisted state.
        var restored = new DivergenceTracker(new DivergencePolicy(DivergenceMetric.Distance, 1.0, 2, 0.2), tracker.Streaks);
        Assert.Equal(DivergenceVerdict.Quarantine, restored.Assess(new Dictionary<KeyFingerprint, double> { [Node(1)] = 9 }).Single().Verdict);
        Assert.Throws<ArgumentException>(() => new DivergencePolicy(DivergenceMetric.Drift, 0.01, 1, 0.05).Validate());
    }

    [Fact]
    public void The_proposal_digest_covers_every_field_and_the_state_is_a_hash_chain()
    {
        var genesis = EpochProposal.Genesis("fed1");
        var proposal = new EpochProposal(1, genesis, Sha256Digest.Of([1]), [Node(0), Node(1)], [new ExcludedUpdate(5, Node(2), "stale_base_state", "d")], [], Sha256Digest.Of([2]));
        var digest = proposal.Digest();
        Assert.NotEqual(digest, (proposal with { Included = [Node(0)] }).Digest());
        Assert.NotEqual(digest, (proposal with { AggregateHash = Sha256Digest.Of([3]) }).Digest());
        Assert.NotEqual(digest, (proposal with { Quarantined = [new QuarantineEntry(Node(2), "equivocation", Sha256Digest.Of([4]))] }).Digest());
        Assert.Equal(EpochProposal.NextState(genesis, 1, Sha256Digest.Of([2])), proposal.NewStateHash);
        Assert.NotEqual(genesis, EpochProposal.Genesis("fed2"));
    }
}

public class EpochComputationTests
{
    private static (byte[] Signed, KeyFingerprint Node) Update(Ed25519PrivateKey key, long epoch, Sha256Digest baseState, Federation.Core.Ingest.UpdateDelta delta)
    {
        var (payload, hash) = delta.Encode();
        var update = Federation.Core.Protocol.MetaUpdate.Create("fed1", epoch, key.Fingerprint, hash, "fed1.membership:0", baseState, payload);
        return (SignedEnvelope.Sign(update, new Ed25519Signer(key)).ToCanonicalJson(), key.Fingerprint);
    }

    [Fact]
    public void Every_validator_computes_the_same_proposal_and_an_outlier_is_quarantined_after_its_streak()
    {
        var keys = Enumerable.Range(1, 7).Select(i => Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)(40 + i), 32).ToArray())).ToList();
        try
        {
            var policy = new Federation.Core.Membership.FederationPolicy("fed1", Federation.Core.Membership.AggregationKind.Vector, [], VectorDimension: 3);
            var aggregation = AggregationPolicy.DefaultVector with { Divergence = new DivergencePolicy(DivergenceMetric.Distance, 1.0, 2, 0.3) };
            var baseState = EpochProposal.Genesis("fed1");
            var active = keys.Select(k => k.Fingerprint).ToHashSet();
            List<ScrollUpdate> Epoch(long epoch) => keys.Select((k, i) => Update(k, epoch, baseState, Federation.Core.Ingest.UpdateDelta.Vector(i == 6 ? [9.0, 9.0, 9.0] : [1.0 + i * 0.01, 2.0, 3.0])))
                .Select((u, i) => new ScrollUpdate(10 + i, u.Signed)).ToList();

            var first = EpochComputation.Compute(1, baseState, Epoch(1), active, policy, aggregation, new Dictionary<KeyFingerprint, int>(), []);
            var again = EpochComputation.Compute(1, baseState, Epoch(1).AsEnumerable().Reverse().ToList(), active, policy, aggregation, new Dictionary<KeyFingerprint, int>(), []);
            Assert.Equal(first.Proposal.Digest(), again.Proposal.Digest());
            Assert.Empty(first.Proposal.Quarantined); // one epoch above the threshold is a watch, not a quarantine
            Assert.Contains(first.Assessments, a => a.Node == keys[6].Fingerprint && a.Verdict == DivergenceVerdict.Watch);

            var second = EpochComputation.Compute(1, baseState, Epoch(1), active, policy, aggregation, first.Streaks, []);
            var quarantined = Assert.Single(second.Proposal.Quarantined);
            Assert.Equal(keys[6].Fingerprint, quarantined.Node);
            Assert.Equal(second.DivergenceEvidence.Single().Hash(), quarantined.EvidenceHash);
            Assert.Equal(7, second.Proposal.Included.Count);
        }
        finally
        {
            keys.ForEach(k => k.Dispose());
        }
    }
}

public class EpochComputationExclusionTests
{
    [Fact]
    public void A_sealed_update_whose_signature_no_longer_verifies_is_excluded_as_bad_signature()
    {
        using var a = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)61, 32).ToArray());
        using var b = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)62, 32).ToArray());
        var policy = new Federation.Core.Membership.FederationPolicy("fed1", Federation.Core.Membership.AggregationKind.Vector, [], VectorDimension: 2);
        var baseState = EpochProposal.Genesis("fed1");
        byte[] Signed(Ed25519PrivateKey key, double v)
        {
            var (payload, hash) = Federation.Core.Ingest.UpdateDelta.Vector([v, v]).Encode();
            return SignedEnvelope.Sign(Federation.Core.Protocol.MetaUpdate.Create("fed1", 1, key.Fingerprint, hash, "fed1.membership:0", baseState, payload), new Ed25519Signer(key)).ToCanonicalJson();
        }

        var forged = System.Text.Encoding.UTF8.GetString(Signed(b, 2)).Replace("fed1.membership:0", "fed1.membership:1");
        var outcome = EpochComputation.Compute(1, baseState, [new ScrollUpdate(1, Signed(a, 1)), new ScrollUpdate(2, System.Text.Encoding.UTF8.GetBytes(forged))],
            new HashSet<KeyFingerprint> { a.Fingerprint, b.Fingerprint }, policy, AggregationPolicy.DefaultVector, new Dictionary<KeyFingerprint, int>(), []);
        Assert.Equal([a.Fingerprint], outcome.Proposal.Included);
        var excluded = Assert.Single(outcome.Proposal.Excluded);
        Assert.Equal(("bad_signature", b.Fingerprint), (excluded.Reason, excluded.Node));
    }

    [Fact]
    public void Canon_federations_aggregate_by_majority_and_report_drift()
    {
        var keys = Enumerable.Range(0, 4).Select(i => Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)(70 + i), 32).ToArray())).ToList();
        try
        {
            var policy = new Federation.Core.Membership.FederationPolicy("fed1", Federation.Core.Membership.AggregationKind.Canon, []);
            var baseState = EpochProposal.Genesis("fed1");
            var updates = keys.Select((key, i) =>
            {
                var entries = new Dictionary<string, Federation.Core.Ingest.CanonEntry> { ["sig-1"] = new(i == 3 ? 1 : 2, 0.9, "p") };
                var (payload, hash) = Federation.Core.Ingest.UpdateDelta.Canon(entries).Encode();
                var signed = SignedEnvelope.Sign(Federation.Core.Protocol.MetaUpdate.Create("fed1", 1, key.Fingerprint, hash, "fed1.membership:0", baseState, payload), new Ed25519Signer(key)).ToCanonicalJson();
                return new ScrollUpdate(i, signed);
            }).ToList();
            var outcome = EpochComputation.Compute(1, baseState, updates, keys.Select(k => k.Fingerprint).ToHashSet(), policy, AggregationPolicy.DefaultCanon, new Dictionary<KeyFingerprint, int>(), []);
            Assert.Equal(2, outcome.Aggregate["entries"]!["sig-1"]!["revision"]!.GetValue<long>());
            var drift = Assert.Single(outcome.Drift);
            Assert.Equal((keys[3].Fingerprint.ToString(), Federation.Core.Aggregation.DriftType.VersionSkew), (drift.Node, drift.Type));
            Assert.Contains(outcome.Assessments, a => a.Node == keys[3].Fingerprint && a.Verdict == DivergenceVerdict.Watch);
        }
        finally
        {
            keys.ForEach(k => k.Dispose());
        }
    }
}

using System.Text;
using Federation.Core.Consensus;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Grains.Services;
using Federation.Storage.Governance;
using static Federation.Grains.Tests.FederationFixture;

namespace Federation.Grains.Tests;

public sealed class EpochTests : IAsyncLifetime
{
    private readonly FederationFixture _fx = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _fx.DisposeAsync().AsTask();

    private async Task<List<(Core.Crypto.Ed25519PrivateKey Key, string Block)>> JoinAsync(int count)
    {
        var nodes = new List<(Core.Crypto.Ed25519PrivateKey, string)>();
        for (var i = 1; i <= count; i++)
        {
            nodes.Add((_fx.Node(i), await _fx.JoinAsync(Fed1, _fx.Node(i))));
        }

        return nodes;
    }

    private async Task SubmitAllAsync(List<(Core.Crypto.Ed25519PrivateKey Key, string Block)> nodes, long epoch, int outlier = -1)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            var ack = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, nodes[i].Key, nodes[i].Block, epoch, seed: i == outlier ? 50 : 1 + i * 0.001));
            Assert.True(ack.Acknowledged, ack.Message);
        }
    }

    private async Task<Receipt> GovernanceReceiptAsync(string id)
    {
        var seq = int.Parse(id.Split(':')[1]);
        return Receipt.Parse(Encoding.UTF8.GetBytes((await _fx.LinesAsync(FederationScrolls.Governance(Fed1)))[seq]));
    }

    [Fact]
    public async Task An_epoch_commits_with_a_verifiable_certificate_and_alignment_proofs_and_advances_the_state()
    {
        await _fx.StartAsync();
        var nodes = await JoinAsync(5);
        await SubmitAllAsync(nodes, 1);

        var report = await _fx.RunEpochAsync(Fed1);
        Assert.True(report.State == EpochState.Committed, report.Reason);
        Assert.Equal(5, report.Included);

        var decision = await GovernanceReceiptAsync(report.CommitReceipt!);
        var certificate = decision.Body["commit_certificate"]!.AsArray().Select(v => SignedEnvelope.Parse(v!.ToJsonString())).ToList();
        Assert.Empty(CommitCertificate.Verify(certificate, ValidatorSetOf(4), 1, report.Digest!.Value));
        var proposal = decision.Body["proposal"]!.AsObject();
        var alignmentHash = Sha256Digest.Parse(proposal["alignment_hash"]!.GetValue<string>());
        var leaves = new List<AlignedUpdate>();
        foreach (var chunkId in decision.Body["alignment_receipts"]!.AsArray())
        {
            foreach (var u in (await GovernanceReceiptAsync(chunkId!.GetValue<string>())).Body["updates"]!.AsArray())
            {
                leaves.Add(new AlignedUpdate((int)u!["index"]!.GetValue<double>(), (long)u["seq"]!.GetValue<double>(), Core.Crypto.KeyFingerprint.Parse(u["node"]!.GetValue<string>()), Sha256Digest.Parse(u["update_hash"]!.GetValue<string>()), default, []));
            }
        }

        // Rebuild the alignment tree from the sealed leaves: its root is the committed alignment hash, and every proof verifies.
        var tree = new Core.Merkle.MerkleTree();
        leaves.ForEach(l => tree.AppendData(AlignmentResult.LeafData(l.Seq, l.Node, l.UpdateHash)));
        Assert.Equal(alignmentHash, tree.Root());
        foreach (var leaf in leaves)
        {
            var aligned = leaf with { LeafHash = tree.LeafHash(leaf.Index), Proof = tree.InclusionProof(leaf.Index, tree.Size) };
            Assert.True(AlignmentResult.VerifyProof(alignmentHash, leaves.Count, aligned).IsValid);
        }

        var log = new GovernanceLog(_fx.GovernanceLogPath).Entries();
        Assert.Contains((GovernanceLog.Apply, report.CommitReceipt!), log);

        var info = await _fx.Grains.GetGrain<IFederationGrain>(Fed1).GetEpochAsync();
        Assert.Equal(2, info.OpenEpoch);
        Assert.Equal(Sha256Digest.Parse(proposal["new_state_hash"]!.GetValue<string>()), info.OpenStateHash);
        // Epoch 2 builds on the committed state.
        await SubmitAllAsync(nodes, 2);
        Assert.Equal(EpochState.Committed, (await _fx.RunEpochAsync(Fed1)).State);
    }

    [Fact]
    public async Task A_node_diverging_for_two_consecutive_epochs_is_quarantined_with_statistical_evidence_and_logged()
    {
        await _fx.StartAsync();
        var nodes = await JoinAsync(6);
        await SubmitAllAsync(nodes, 1, outlier: 5);
        var first = await _fx.RunEpochAsync(Fed1);
        Assert.Empty(first.Quarantined);

        await SubmitAllAsync(nodes, 2, outlier: 5);
        var second = await _fx.RunEpochAsync(Fed1);
        Assert.Equal(EpochState.Committed, second.State);
        Assert.Equal([nodes[5].Key.Fingerprint.ToString()], second.Quarantined);

        var view = await _fx.Grains.GetGrain<INodeGrain>(NodeKey.For(Fed1, nodes[5].Key.Fingerprint)).GetAsync();
        Assert.Equal(NodeStatus.Quarantined, view!.Record.Status);
        var evidence = await GovernanceReceiptAsync(view.QuarantineEvidence!);
        Assert.Equal(DivergenceEvidence.Type, evidence.Type);
        Assert.True(evidence.Body["evidence"]!["value"]!.GetValue<double>() > evidence.Body["evidence"]!["threshold"]!.GetValue<double>());
        Assert.Contains((GovernanceLog.Quarantine, view.QuarantineEvidence!), new GovernanceLog(_fx.GovernanceLogPath).Entries());

        var refused = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, nodes[5].Key, nodes[5].Block, 3));
        Assert.Equal("quarantined_node", refused.Code);
    }

    [Fact]
    public async Task An_equivocating_node_is_in_the_epochs_quarantine_list_and_its_updates_are_excluded()
    {
        await _fx.StartAsync();
        var nodes = await JoinAsync(5);
        await SubmitAllAsync(nodes, 1);
        var second = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, nodes[0].Key, nodes[0].Block, 1, seed: 7));
        Assert.Equal("equivocation", second.Code);

        var report = await _fx.RunEpochAsync(Fed1);
        Assert.Equal(EpochState.Committed, report.State);
        Assert.Contains(nodes[0].Key.Fingerprint.ToString(), report.Quarantined);
        Assert.Equal(4, report.Included);
        Assert.Contains((GovernanceLog.Quarantine, second.EvidenceReceipt!), new GovernanceLog(_fx.GovernanceLogPath).Entries());
    }

    [Fact]
    public async Task A_silent_primary_is_replaced_by_a_view_change_and_the_epoch_commits()
    {
        _fx.Behaviours["v0"] = ValidatorBehaviour.Silent;
        await _fx.StartAsync();
        await SubmitAllAsync(await JoinAsync(4), 1);
        var report = await _fx.RunEpochAsync(Fed1);
        Assert.True(report.State == EpochState.Committed, report.Reason);
        Assert.True(report.View >= 1);
    }

    [Fact]
    public async Task With_more_than_f_faulty_validators_the_epoch_halts_safely_and_says_why()
    {
        _fx.Behaviours["v1"] = ValidatorBehaviour.Silent;
        _fx.Behaviours["v2"] = ValidatorBehaviour.Silent;
        await _fx.StartAsync();
        await SubmitAllAsync(await JoinAsync(4), 1);
        var report = await _fx.RunEpochAsync(Fed1);
        Assert.Equal(EpochState.Failed, report.State);
        Assert.Contains("halted safely, nothing applied", report.Reason);
        Assert.Equal(1, (await _fx.Grains.GetGrain<IFederationGrain>(Fed1).GetEpochAsync()).ClosingEpoch);
        Assert.DoesNotContain(new GovernanceLog(_fx.GovernanceLogPath).Entries(), e => e.Action == GovernanceLog.Apply);
    }

    [Fact]
    public async Task A_coordinator_whose_update_scroll_no_longer_verifies_halts_new_epochs_and_says_so()
    {
        await _fx.StartAsync();
        var nodes = await JoinAsync(4);
        await SubmitAllAsync(nodes, 1);
        await _fx.Scroll(FederationScrolls.Updates(Fed1)).CheckpointAsync();
        await _fx.KillAsync();
        var file = _fx.ScrollFile(FederationScrolls.Updates(Fed1));
        var lines = File.ReadAllLines(file);
        lines[1] = lines[1].Replace("\"federated_epoch\":1", "\"federated_epoch\":2");
        File.WriteAllLines(file, lines);
        await _fx.RestartAfterKillAsync();

        var report = await _fx.RunEpochAsync(Fed1);
        Assert.Equal(EpochState.Failed, report.State);
        Assert.StartsWith("halted:", report.Reason);
        Assert.Contains("fed1.updates", report.Reason);
        Assert.DoesNotContain(new GovernanceLog(_fx.GovernanceLogPath).Entries(), e => e.Action == GovernanceLog.Apply);
    }

    [Fact]
    public async Task A_validator_signing_conflicting_votes_is_flagged_with_its_two_votes_and_the_epoch_still_commits()
    {
        _fx.Behaviours["v3"] = ValidatorBehaviour.ConflictingVotes;
        await _fx.StartAsync();
        await SubmitAllAsync(await JoinAsync(4), 1);
        var report = await _fx.RunEpochAsync(Fed1);
        Assert.Equal(EpochState.Committed, report.State);
        var flagged = await GovernanceReceiptAsync(Assert.Single(report.Evidence));
        Assert.Equal("v3", flagged.Body["validator"]!.GetValue<string>());
        var votes = flagged.Body["evidence"]!;
        var evidence = new VoteEquivocation(
            Vote.Open(SignedEnvelope.Parse(votes["first"]!.ToJsonString()), ValidatorSetOf(4)),
            Vote.Open(SignedEnvelope.Parse(votes["second"]!.ToJsonString()), ValidatorSetOf(4)));
        Assert.Empty(evidence.Verify(ValidatorSetOf(4)));
        Assert.Contains(new GovernanceLog(_fx.GovernanceLogPath).Entries(), e => e.Action == GovernanceLog.ValidatorFlagged);
    }
}

public sealed class EpochScheduleTests : IAsyncLifetime
{
    private readonly FederationFixture _fx = new()
    {
        Epochs = new EpochOptions { QuorumFraction = 0.6, Grace = TimeSpan.FromSeconds(5), Deadline = TimeSpan.FromMinutes(2), CheckInterval = TimeSpan.FromSeconds(1) },
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _fx.DisposeAsync().AsTask();

    private async Task<IReadOnlyList<EpochReport>> AdvanceUntilAsync(TimeSpan limit, Func<IReadOnlyList<EpochReport>, bool> done)
    {
        var epochs = _fx.Grains.GetGrain<IEpochGrain>(Fed1);
        for (var elapsed = TimeSpan.Zero; elapsed < limit; elapsed += TimeSpan.FromMilliseconds(500))
        {
            _fx.Time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(2);
            var history = await epochs.HistoryAsync();
            if (done(history))
            {
                return history;
            }
        }

        return await epochs.HistoryAsync();
    }

    [Fact]
    public async Task A_quorum_of_active_nodes_plus_the_grace_period_closes_the_epoch_without_waiting_for_slow_nodes()
    {
        await _fx.StartAsync();
        var nodes = new List<(Core.Crypto.Ed25519PrivateKey Key, string Block)>();
        for (var i = 1; i <= 5; i++)
        {
            nodes.Add((_fx.Node(i), await _fx.JoinAsync(Fed1, _fx.Node(i))));
        }

        await _fx.Grains.GetGrain<IEpochGrain>(Fed1).StartAsync();
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, nodes[i].Key, nodes[i].Block, 1))).Acknowledged);
        }

        // 3 of 5 = 0.6: quorum; the epoch closes after the 5 s grace, long before the 2 min deadline.
        var history = await AdvanceUntilAsync(TimeSpan.FromSeconds(30), h => h.Count > 0);
        var report = Assert.Single(history);
        Assert.Equal(EpochState.Committed, report.State);
        Assert.Equal(3, report.Included);

        // The slow nodes are not punished: their late updates are recorded as late.
        var late = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, nodes[4].Key, nodes[4].Block, 1));
        Assert.Equal(Disposition.Late, late.Disposition);
        Assert.Equal(NodeStatus.Active, (await _fx.Grains.GetGrain<INodeGrain>(NodeKey.For(Fed1, nodes[4].Key.Fingerprint)).GetAsync())!.Record.Status);
    }

    [Fact]
    public async Task Without_a_quorum_the_durable_deadline_closes_the_epoch()
    {
        await _fx.StartAsync();
        var nodes = new List<(Core.Crypto.Ed25519PrivateKey Key, string Block)>();
        for (var i = 1; i <= 5; i++)
        {
            nodes.Add((_fx.Node(i), await _fx.JoinAsync(Fed1, _fx.Node(i))));
        }

        await _fx.Grains.GetGrain<IEpochGrain>(Fed1).StartAsync();
        Assert.True((await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, nodes[0].Key, nodes[0].Block, 1))).Acknowledged);

        var early = await AdvanceUntilAsync(TimeSpan.FromSeconds(60), h => h.Count > 0);
        Assert.Empty(early);
        var history = await AdvanceUntilAsync(TimeSpan.FromSeconds(120), h => h.Count > 0);
        var report = Assert.Single(history);
        Assert.Equal(EpochState.Committed, report.State);
        Assert.Equal(1, report.Included);
    }
}

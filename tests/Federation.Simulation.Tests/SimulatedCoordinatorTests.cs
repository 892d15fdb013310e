using Federation.Core.Consensus;
using Federation.Core.Governance;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Scrolls;
using Federation.Simulation.Checking;

namespace Federation.Simulation.Tests;

/// <summary>The simulator's composition decides as the Core state machines do, case by case.</summary>
public sealed class SimulatedCoordinatorTests
{
    [Fact]
    public async Task An_equivocating_node_is_quarantined_at_once_with_an_evidence_receipt_and_the_epoch_decision_lists_it()
    {
        await using var harness = new CoordinatorHarness(nodes: 5);
        await harness.JoinAllAsync();
        for (var node = 0; node < 5; node++)
        {
            Assert.Equal(Disposition.Accepted, (await harness.Coordinator.SubmitAsync(harness.Update(node, 1))).Disposition);
        }

        var second = await harness.Coordinator.SubmitAsync(harness.Update(4, 1, shift: 0.5));

        Assert.Equal(Disposition.Refused, second.Disposition);
        Assert.Equal("equivocation", second.Code);
        var evidence = await harness.ReceiptAsync(second.EvidenceReceipt!);
        Assert.Equal(EquivocationEvidence.Type, evidence.Type);
        Assert.Equal(harness.Nodes[4].Fingerprint.ToString(), evidence.Node);
        Assert.Equal(EquivocationEvidence.FromJson(evidence.Body["evidence"]!.AsObject()).Hash().ToString(), evidence.Body["evidence_hash"]!.GetValue<string>());
        var standing = await harness.Coordinator.NodeRecordAsync(harness.Nodes[4].Fingerprint);
        Assert.Equal(NodeStatus.Quarantined, standing!.Status);
        Assert.Contains(second.EvidenceReceipt!, standing.StatusReason);
        var refusal = await harness.ReceiptAsync(FederationScrolls.Verification(CoordinatorHarness.Federation) + ":0");
        Assert.Equal((VerificationReceipts.UpdateRefusedType, "equivocation"), (refusal.Type, refusal.Body["code"]!.GetValue<string>()));

        var expected = await harness.ComputeDirectlyAsync(1);
        var report = await harness.Coordinator.RunEpochAsync();

        Assert.Equal(RunEpochState.Committed, report.State);
        Assert.Equal(expected.Proposal.Digest(), report.Digest);
        Assert.Equal([harness.Nodes[4].Fingerprint.ToString()], report.Quarantined);
        var decision = await harness.ReceiptAsync(report.CommitReceipt!);
        Assert.Equal(EpochReceipts.CommittedType, decision.Type);
        Assert.Equal("equivocation", decision.Body["proposal"]!["quarantined"]![0]!["reason"]!.GetValue<string>());
        Assert.Contains($"node {harness.Nodes[4].Fingerprint} (epoch 1)", harness.GovernanceLogText);
        Assert.Contains($"- receipt: `{second.EvidenceReceipt}`", harness.GovernanceLogText);
    }

    [Fact]
    public async Task A_silent_primary_forces_a_view_change_on_the_virtual_clock_and_the_epoch_still_commits_the_computed_digest()
    {
        await using var harness = new CoordinatorHarness(nodes: 4, ValidatorBehaviour.Silent);
        await harness.JoinAllAsync();
        for (var node = 0; node < 4; node++)
        {
            await harness.Coordinator.SubmitAsync(harness.Update(node, 1));
        }

        var expected = await harness.ComputeDirectlyAsync(1);
        var before = harness.Clock.GetUtcNow();
        var report = await harness.Coordinator.RunEpochAsync();

        Assert.Equal(RunEpochState.Committed, report.State);
        Assert.Equal(1, report.View);
        Assert.Equal(TimeSpan.FromSeconds(1), harness.Clock.GetUtcNow() - before); // one view timer of 1 s, nothing else
        Assert.Equal(expected.Proposal.Digest(), report.Digest);
        // Silent mutes only what v0 sends (ValidatorBehaviour.Silent): it still hears the view change, v1's pre-prepare,
        // the prepares and the commits, so its own replica commits the same digest in view 1.
        Assert.All(Enumerable.Range(0, 4), v => Assert.Equal(report.Digest, harness.Coordinator.CommittedBy(v, 1)));
        var decision = await harness.ReceiptAsync(report.CommitReceipt!);
        var certificate = decision.Body["commit_certificate"]!.AsArray().Select(c => Core.Signing.SignedEnvelope.Parse(c!.ToJsonString())).ToList();
        Assert.Empty(CommitCertificate.Verify(certificate, harness.Coordinator.ValidatorSet, 1, report.Digest!.Value));
        var votes = certificate.Select(c => Vote.Open(c, harness.Coordinator.ValidatorSet)).ToList();
        Assert.All(votes, vote => Assert.Equal((VotePhase.Commit, 1L, report.Digest!.Value), (vote.Phase, vote.View, vote.Digest)));
        // The decision carries the first committed validator's certificate (ConsensusRound.Result): v0's, which holds
        // its own signed commit (never sent) and the two it held on reaching the quorum, v1's and v3's, in id order.
        Assert.Equal(["v0", "v1", "v3"], votes.Select(vote => vote.Validator));
    }

    [Fact]
    public async Task An_equivocating_primary_is_flagged_with_its_two_votes_and_the_honest_digest_commits()
    {
        await using var harness = new CoordinatorHarness(nodes: 4, ValidatorBehaviour.EquivocatingPrimary);
        await harness.JoinAllAsync();
        for (var node = 0; node < 4; node++)
        {
            await harness.Coordinator.SubmitAsync(harness.Update(node, 1));
        }

        var expected = await harness.ComputeDirectlyAsync(1);
        var report = await harness.Coordinator.RunEpochAsync();

        Assert.Equal(RunEpochState.Committed, report.State);
        Assert.Equal(expected.Proposal.Digest(), report.Digest);
        var flag = Assert.Single(report.ValidatorEvidence);
        var receipt = await harness.ReceiptAsync(flag);
        Assert.Equal((VoteEquivocation.Type, "v0"), (receipt.Type, receipt.Body["validator"]!.GetValue<string>()));
        Assert.Contains("## VALIDATOR_FLAGGED — t1 — validator v0", harness.GovernanceLogText);
    }

    [Fact]
    public async Task A_validator_signing_conflicting_votes_is_flagged_and_the_honest_digest_still_commits()
    {
        await using var harness = new CoordinatorHarness(nodes: 4, ValidatorBehaviour.Honest, ValidatorBehaviour.Honest, ValidatorBehaviour.ConflictingVotes);
        await harness.JoinAllAsync();
        for (var node = 0; node < 4; node++)
        {
            await harness.Coordinator.SubmitAsync(harness.Update(node, 1));
        }

        var expected = await harness.ComputeDirectlyAsync(1);
        var report = await harness.Coordinator.RunEpochAsync();

        Assert.Equal((RunEpochState.Committed, 0L, expected.Proposal.Digest()), (report.State, report.View, report.Digest!.Value));
        Assert.NotEmpty(report.ValidatorEvidence);
        foreach (var flag in report.ValidatorEvidence)
        {
            var receipt = await harness.ReceiptAsync(flag);
            Assert.Equal((VoteEquivocation.Type, "v2"), (receipt.Type, receipt.Body["validator"]!.GetValue<string>()));
        }

        Assert.All(new[] { 0, 1, 3 }, v => Assert.Equal(report.Digest, harness.Coordinator.CommittedBy(v, 1)));
    }

    [Fact]
    public async Task More_than_f_silent_validators_fail_the_epoch_after_the_view_change_bound_and_nothing_is_applied()
    {
        await using var harness = new CoordinatorHarness(nodes: 5, ValidatorBehaviour.Silent, ValidatorBehaviour.Silent);
        await harness.JoinAllAsync();
        for (var node = 0; node < 4; node++)
        {
            await harness.Coordinator.SubmitAsync(harness.Update(node, 1));
        }

        var governanceBefore = (await harness.ScrollAsync(FederationScrolls.Governance(CoordinatorHarness.Federation))).Size;
        var before = harness.Clock.GetUtcNow();
        var report = await harness.Coordinator.RunEpochAsync();

        Assert.Equal(RunEpochState.Failed, report.State);
        Assert.Contains("halted safely, nothing applied", report.Reason);
        Assert.Null(report.CommitReceipt);
        Assert.Equal(TimeSpan.FromSeconds(1 + 2 + 4 + 8 + 16 + 32), harness.Clock.GetUtcNow() - before); // six doubling view timers
        Assert.All(Enumerable.Range(0, 4), v => Assert.Null(harness.Coordinator.CommittedBy(v, 1)));
        Assert.Equal(governanceBefore, (await harness.ScrollAsync(FederationScrolls.Governance(CoordinatorHarness.Federation))).Size);
        Assert.Equal((1L, 1L), (harness.Coordinator.Epoch.OpenEpoch, harness.Coordinator.Epoch.ClosingEpoch));
        Assert.DoesNotContain(GovernanceLogEntries.Apply, harness.GovernanceLogText);

        // The epoch stays closed, across a restart too: node 4, late to it, is told so, and nothing is sealed for it.
        await harness.CrashAndRestartAsync();
        var refused = await harness.Coordinator.SubmitAsync(harness.Update(4, 1));
        Assert.Equal((Disposition.Refused, "epoch_closed"), (refused.Disposition, refused.Code));
        Assert.Equal(4, (await harness.ScrollAsync(FederationScrolls.Updates(CoordinatorHarness.Federation))).Size);
    }

    [Fact]
    public async Task A_coordinator_crash_loses_no_acknowledged_update_and_the_restarted_one_decides_from_the_stores()
    {
        await using var harness = new CoordinatorHarness(nodes: 5);
        await harness.JoinAllAsync();
        var acknowledged = new List<string>();
        for (var node = 0; node < 3; node++)
        {
            acknowledged.Add((await harness.Coordinator.SubmitAsync(harness.Update(node, 1))).ReceiptId!);
        }

        await harness.CrashAndRestartAsync();

        // The update index and the node's standing come back from the scrolls and the persisted state.
        var duplicate = await harness.Coordinator.SubmitAsync(harness.Update(0, 1));
        Assert.Equal((Disposition.Duplicate, acknowledged[0]), (duplicate.Disposition, duplicate.ReceiptId));
        var equivocation = await harness.Coordinator.SubmitAsync(harness.Update(1, 1, shift: 0.25));
        Assert.Equal("equivocation", equivocation.Code);
        for (var node = 3; node < 5; node++)
        {
            acknowledged.Add((await harness.Coordinator.SubmitAsync(harness.Update(node, 1))).ReceiptId!);
        }

        await harness.CrashAndRestartAsync();
        Assert.Equal(NodeStatus.Quarantined, (await harness.Coordinator.NodeRecordAsync(harness.Nodes[1].Fingerprint))!.Status);
        var expected = await harness.ComputeDirectlyAsync(1);
        var report = await harness.Coordinator.RunEpochAsync();

        Assert.Equal(RunEpochState.Committed, report.State);
        Assert.Equal(expected.Proposal.Digest(), report.Digest);
        var updates = await harness.ScrollAsync(FederationScrolls.Updates(CoordinatorHarness.Federation));
        Assert.Equal(5, updates.Size);
        var decision = await harness.ReceiptAsync(report.CommitReceipt!);
        var aligned = await harness.ReceiptAsync(decision.Body["alignment_receipts"]![0]!.GetValue<string>());
        var alignedSeqs = aligned.Body["updates"]!.AsArray().Select(u => FederationScrolls.Updates(CoordinatorHarness.Federation) + ":" + u!["seq"]!.GetValue<double>()).ToList();
        // Every acknowledged update is sealed; the quarantined node's is excluded as inactive, the others are aligned.
        Assert.Equal(acknowledged.Where((_, i) => i != 1).Order(StringComparer.Ordinal), alignedSeqs.Order(StringComparer.Ordinal));
        var excluded = decision.Body["proposal"]!["excluded"]!.AsArray().Single()!;
        Assert.Equal((acknowledged[1], "inactive_node"), (FederationScrolls.Updates(CoordinatorHarness.Federation) + ":" + excluded["seq"]!.GetValue<double>(), excluded["reason"]!.GetValue<string>()));
        Assert.Equal([harness.Nodes[1].Fingerprint.ToString()], report.Quarantined);
        Assert.Equal(2, harness.Coordinator.Epoch.OpenEpoch);
    }

    [Fact]
    public async Task The_same_seed_and_steps_give_the_same_stores_and_a_different_seed_different_ones()
    {
        async Task<string> RunAsync(long seed)
        {
            await using var harness = new CoordinatorHarness(seed, nodes: 4, ValidatorBehaviour.Silent);
            await harness.JoinAllAsync();
            for (var node = 0; node < 4; node++)
            {
                await harness.Coordinator.SubmitAsync(harness.Update(node, 1));
            }

            await harness.Coordinator.SubmitAsync(harness.Update(3, 1, shift: 0.5));
            await harness.Coordinator.RunEpochAsync();
            return await harness.StoredStateAsync();
        }

        var first = await RunAsync(1);
        Assert.Equal(first, await RunAsync(1));
        Assert.NotEqual(first, await RunAsync(2));
        Assert.Contains(GovernanceLogEntries.Quarantine, first);
    }
}

using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Simulation.Checking;

namespace Federation.Simulation.Tests;

/// <summary>The simulator's coordinator joins, admits and refuses as SPEC A's handshake and ingest rules say, and logs every refusal.</summary>
public sealed class SimulatedCoordinatorIngestTests
{
    private static readonly string Verification = FederationScrolls.Verification(CoordinatorHarness.Federation);
    private static readonly string Updates = FederationScrolls.Updates(CoordinatorHarness.Federation);

    [Fact]
    public async Task Joining_seals_the_session_in_the_membership_scroll_and_activates_the_node_with_that_receipt_as_its_ledger_block()
    {
        await using var harness = new CoordinatorHarness(nodes: 2);
        Assert.Equal(NodeStatus.Pending, (await harness.Coordinator.NodeRecordAsync(harness.Nodes[0].Fingerprint))!.Status);

        await harness.JoinAllAsync();

        var sessions = await harness.ReceiptsAsync(FederationScrolls.Membership(CoordinatorHarness.Federation));
        Assert.Equal([MembershipReceipts.SessionRecordedType, MembershipReceipts.SessionRecordedType], sessions.Select(r => r.Type));
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(harness.Nodes[i].Fingerprint.ToString(), sessions[i].Node);
            Assert.Equal(sessions[i].Id, harness.Blocks[i]);
            var record = await harness.Coordinator.NodeRecordAsync(harness.Nodes[i].Fingerprint);
            Assert.Equal((NodeStatus.Active, harness.Blocks[i]), (record!.Status, record.LedgerBlockId));
        }

        Assert.Empty(await harness.ReceiptsAsync(Verification));
    }

    [Fact]
    public async Task A_hello_the_coordinator_may_not_accept_is_refused_with_its_code_and_logged_in_the_verification_scroll()
    {
        await using var harness = new CoordinatorHarness(nodes: 1);

        var stranger = await harness.Coordinator.HelloAsync(CoordinatorHarness.Hello(harness.Stranger()));
        var elsewhere = await harness.Coordinator.HelloAsync(CoordinatorHarness.Hello(harness.Nodes[0], federation: "other"));
        var garbage = await harness.Coordinator.HelloAsync("{ not a hello"u8.ToArray());

        Assert.Equal((false, "unknown_node"), (stranger.Accepted, stranger.Code));
        Assert.Contains("not registered", stranger.Message);
        Assert.Equal((false, "wrong_federation"), (elsewhere.Accepted, elsewhere.Code));
        Assert.Contains("\"other\"", elsewhere.Message);
        Assert.Equal((false, "malformed_message"), (garbage.Accepted, garbage.Code));
        Assert.All([stranger, elsewhere, garbage], r => Assert.Null(r.Accept));
        var refusals = await harness.ReceiptsAsync(Verification);
        Assert.Equal(["unknown_node", "wrong_federation", "malformed_message"], refusals.Select(r => r.Body["code"]!.GetValue<string>()));
        Assert.All(refusals, r => Assert.Equal(VerificationReceipts.HelloRefusedType, r.Type));
        Assert.Equal(0, (await harness.ScrollAsync(FederationScrolls.Membership(CoordinatorHarness.Federation))).Size);
    }

    [Fact]
    public async Task A_session_ack_replayed_after_the_session_completed_is_refused_and_the_node_keeps_its_one_session()
    {
        await using var harness = new CoordinatorHarness(nodes: 1);
        var key = harness.Nodes[0];
        var hello = await harness.Coordinator.HelloAsync(CoordinatorHarness.Hello(key));
        var accept = SignedEnvelope.Parse(hello.Accept!);
        var ack = CoordinatorHarness.Sign(SessionAck.Create(CoordinatorHarness.Federation, key.Fingerprint, accept.PayloadAs<FederationAccept>().SessionId, Sha256Digest.Of(accept.SignedBytes)), key);
        Assert.True((await harness.Coordinator.CompleteSessionAsync(ack)).Active);

        var replay = await harness.Coordinator.CompleteSessionAsync(ack);

        Assert.Equal((false, "malformed_message"), (replay.Active, replay.Code));
        Assert.Contains("unknown or already completed", replay.Message);
        Assert.Equal(VerificationReceipts.SessionRefusedType, Assert.Single(await harness.ReceiptsAsync(Verification)).Type);
        Assert.Equal(1, (await harness.ScrollAsync(FederationScrolls.Membership(CoordinatorHarness.Federation))).Size);
    }

    [Fact]
    public async Task An_accepted_update_is_sealed_before_it_is_acknowledged_and_the_same_bytes_again_are_a_duplicate_stored_once()
    {
        await using var harness = new CoordinatorHarness(nodes: 2);
        await harness.JoinAllAsync();
        var update = harness.Update(0, 1);

        var first = await harness.Coordinator.SubmitAsync(update);
        var again = await harness.Coordinator.SubmitAsync(update);

        Assert.Equal((Disposition.Accepted, Updates + ":0", 0L), (first.Disposition, first.ReceiptId, first.Seq));
        var sealedUpdate = Assert.Single(await harness.ReceiptsAsync(Updates));
        Assert.Equal((UpdateReceipts.AcceptedType, harness.Nodes[0].Fingerprint.ToString()), (sealedUpdate.Type, sealedUpdate.Node));
        Assert.Equal(first.LeafHash, (await harness.ScrollAsync(Updates)).LeafHash(0));
        Assert.Equal((Disposition.Duplicate, first.ReceiptId, first.Seq, first.LeafHash), (again.Disposition, again.ReceiptId, again.Seq, again.LeafHash));
        Assert.Equal(1, (await harness.ScrollAsync(Updates)).Size);
        Assert.Empty(await harness.ReceiptsAsync(Verification));
    }

    [Fact]
    public async Task Bad_updates_are_refused_with_their_code_and_a_clear_message_logged_in_the_verification_scroll_and_never_sealed()
    {
        await using var harness = new CoordinatorHarness(nodes: 3);
        await harness.JoinAllAsync();
        var genesis = harness.Coordinator.Epoch.BaseStates[1];
        var node = harness.Nodes[0];
        var forged = (JsonObject)CanonicalJson.Parse(harness.Update(0, 1))!;
        forged["signature"]!["value"] = Convert.ToBase64String(new byte[64]);
        var unsigned = (JsonObject)CanonicalJson.Parse(harness.Update(0, 1))!;
        unsigned.Remove("signature");
        var cases = new (string Code, string Says, byte[] Message)[]
        {
            ("malformed_message", "malformed", "{ not json"u8.ToArray()),
            ("missing_signature", "not signed", CanonicalJson.Write(unsigned)),
            ("bad_signature", "signature", CanonicalJson.Write(forged)),
            ("unknown_node", "not registered", CoordinatorHarness.UpdateBy(harness.Stranger(), harness.Blocks[0], 1, genesis)),
            ("wrong_ledger_block", "not the node's recorded session", CoordinatorHarness.UpdateBy(node, harness.Blocks[1], 1, genesis)),
            ("future_epoch", "not open yet", CoordinatorHarness.UpdateBy(node, harness.Blocks[0], 2, genesis)),
            ("base_state_mismatch", "base", CoordinatorHarness.UpdateBy(node, harness.Blocks[0], 1, Sha256Digest.Of("not the genesis"u8))),
        };

        foreach (var (code, says, message) in cases)
        {
            var refused = await harness.Coordinator.SubmitAsync(message);
            Assert.True(refused.Disposition == Disposition.Refused && refused.Code == code, $"expected {code}, got {refused.Disposition} {refused.Code}: {refused.Message}");
            Assert.Contains(says, refused.Message, StringComparison.OrdinalIgnoreCase);
            Assert.Null(refused.ReceiptId);
        }

        // A message for another federation is not this federation's to log: refused, and nothing is sealed anywhere.
        var elsewhere = await harness.Coordinator.SubmitAsync(CoordinatorHarness.UpdateBy(node, harness.Blocks[0], 1, genesis, federation: "other"));
        Assert.Equal((Disposition.Refused, "wrong_federation"), (elsewhere.Disposition, elsewhere.Code));

        var refusals = await harness.ReceiptsAsync(Verification);
        Assert.Equal(cases.Select(c => c.Code), refusals.Select(r => r.Body["code"]!.GetValue<string>()));
        Assert.All(refusals, r => Assert.Equal(VerificationReceipts.UpdateRefusedType, r.Type));
        Assert.All(refusals.Take(3), r => Assert.Null(r.Node)); // nothing trustworthy named a node
        Assert.All(refusals.Skip(4), r => Assert.Equal(node.Fingerprint.ToString(), r.Node));
        Assert.Equal(Sha256Digest.Of("{ not json"u8).ToString(), refusals[0].Body["message_hash"]!.GetValue<string>());
        Assert.Equal(0, (await harness.ScrollAsync(Updates)).Size);
        Assert.Equal(NodeStatus.Active, (await harness.Coordinator.NodeRecordAsync(node.Fingerprint))!.Status); // refusals without evidence punish nobody

        // The node's honest update is still welcome.
        Assert.Equal(Disposition.Accepted, (await harness.Coordinator.SubmitAsync(harness.Update(0, 1))).Disposition);
    }

    [Fact]
    public async Task After_a_commit_an_update_for_the_closed_epoch_is_sealed_as_late_and_aggregated_in_no_epoch()
    {
        await using var harness = new CoordinatorHarness(nodes: 4);
        await harness.JoinAllAsync();
        for (var node = 0; node < 3; node++)
        {
            await harness.Coordinator.SubmitAsync(harness.Update(node, 1));
        }

        Assert.Equal(RunEpochState.Committed, (await harness.Coordinator.RunEpochAsync()).State);
        Assert.Equal(2, harness.Coordinator.Epoch.OpenEpoch);

        // Node 3 was partitioned through epoch 1: its update arrives late.
        var late = await harness.Coordinator.SubmitAsync(harness.Update(3, 1));
        Assert.Equal(Disposition.Late, late.Disposition);
        Assert.Equal(UpdateReceipts.LateType, (await harness.ReceiptAsync(late.ReceiptId!)).Type);

        // A different epoch-1 update of a node whose first one was sealed is still equivocation, closed epoch or not.
        var second = await harness.Coordinator.SubmitAsync(harness.Update(1, 1, shift: 0.5));
        Assert.Equal((Disposition.Refused, "equivocation"), (second.Disposition, second.Code));
        Assert.Equal(Disposition.Accepted, (await harness.Coordinator.SubmitAsync(harness.Update(0, 2))).Disposition);

        var report = await harness.Coordinator.RunEpochAsync();
        Assert.Equal((RunEpochState.Committed, 2L, 1, 0), (report.State, report.Epoch, report.Included, report.Excluded)); // the late update is in no epoch
    }

    [Fact]
    public async Task An_update_for_an_epoch_the_node_already_moved_past_is_refused_as_stale()
    {
        await using var harness = new CoordinatorHarness(nodes: 4);
        await harness.JoinAllAsync();
        Assert.Equal(RunEpochState.Committed, (await harness.Coordinator.RunEpochAsync()).State); // epoch 1, no updates

        Assert.Equal(Disposition.Accepted, (await harness.Coordinator.SubmitAsync(harness.Update(0, 2))).Disposition);
        var stale = await harness.Coordinator.SubmitAsync(harness.Update(0, 1));

        Assert.Equal((Disposition.Refused, "stale_epoch"), (stale.Disposition, stale.Code));
        Assert.Contains("monotonic", stale.Message);
    }

    [Fact]
    public async Task A_heartbeat_contradicting_the_coordinators_scroll_quarantines_the_node_with_divergence_evidence_and_a_consistent_one_does_not()
    {
        await using var harness = new CoordinatorHarness(nodes: 3);
        await harness.JoinAllAsync();
        var scroll = FederationScrolls.Membership(CoordinatorHarness.Federation);
        var (size, root) = await harness.Coordinator.HeadAsync(scroll);
        byte[] Beat(int node, Sha256Digest claimed) =>
            CoordinatorHarness.Sign(Heartbeat.Create(CoordinatorHarness.Federation, harness.Nodes[node].Fingerprint, scroll, size, claimed, 1), harness.Nodes[node]);

        var honest = await harness.Coordinator.HeartbeatAsync(harness.Nodes[0].Fingerprint, Beat(0, root));
        var lie = await harness.Coordinator.HeartbeatAsync(harness.Nodes[1].Fingerprint, Beat(1, Sha256Digest.Of("a forked log"u8)));
        var misrouted = await harness.Coordinator.HeartbeatAsync(harness.Nodes[2].Fingerprint, Beat(0, root));

        Assert.Equal((HeadVerdict.Consistent, null), (honest.Verdict, honest.EvidenceReceipt));
        Assert.Equal(NodeStatus.Active, (await harness.Coordinator.NodeRecordAsync(harness.Nodes[0].Fingerprint))!.Status);
        Assert.Equal(HeadVerdict.Divergent, lie.Verdict);
        var evidence = await harness.ReceiptAsync(lie.EvidenceReceipt!);
        Assert.Equal((LedgerDivergenceEvidence.Type, harness.Nodes[1].Fingerprint.ToString()), (evidence.Type, evidence.Node));
        var standing = await harness.Coordinator.NodeRecordAsync(harness.Nodes[1].Fingerprint);
        Assert.Equal(NodeStatus.Quarantined, standing!.Status);
        Assert.Equal(lie.EvidenceReceipt, harness.Coordinator.QuarantineEvidence(harness.Nodes[1].Fingerprint));
        Assert.Contains($"node {harness.Nodes[1].Fingerprint} (ledger divergence)", harness.GovernanceLogText);
        Assert.Equal("bad_signature", misrouted.Code); // node 0's heartbeat routed to node 2
        Assert.Equal(NodeStatus.Active, (await harness.Coordinator.NodeRecordAsync(harness.Nodes[2].Fingerprint))!.Status);

        // The quarantined node's updates are refused from now on.
        var refused = await harness.Coordinator.SubmitAsync(harness.Update(1, 1));
        Assert.Equal((Disposition.Refused, "quarantined_node"), (refused.Disposition, refused.Code));
    }
}

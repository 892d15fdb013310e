using System.Text;
using Federation.Core.Checkpoints;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using static Federation.Grains.Tests.FederationFixture;

namespace Federation.Grains.Tests;

public sealed class IngestTests : IAsyncLifetime
{
    private readonly FederationFixture _fx = new();

    public Task InitializeAsync() => _fx.StartAsync();

    public Task DisposeAsync() => _fx.DisposeAsync().AsTask();

    [Fact]
    public async Task The_handshake_seals_the_nodes_counter_signature_and_its_receipt_id_is_the_ledger_block_id()
    {
        var node = _fx.Node(1);
        var block = await _fx.JoinAsync(Fed1, node);
        Assert.Equal("fed1.membership:0", block);

        var receipt = Receipt.Parse(Encoding.UTF8.GetBytes((await _fx.LinesAsync(FederationScrolls.Membership(Fed1)))[0]));
        Assert.Equal("session_recorded", receipt.Type);
        var accept = SignedEnvelope.Parse(receipt.Body["accept"]!.ToJsonString());
        Assert.True(accept.Verify(Ed25519Verifier.Trusting(GovernanceKey(Fed1))).IsValid);
        Assert.Equal(Policy(Fed1).Hash(), accept.PayloadAs<FederationAccept>().PolicyHash);
        var ack = SignedEnvelope.Parse(receipt.Body["session_ack"]!.ToJsonString());
        Assert.True(ack.Verify(Ed25519Verifier.Trusting(node.PublicKey)).IsValid);

        var view = await _fx.Grains.GetGrain<INodeGrain>(NodeKey.For(Fed1, node.Fingerprint)).GetAsync();
        Assert.Equal(NodeStatus.Active, view!.Record.Status);
        Assert.Equal(block, view.Record.LedgerBlockId);
    }

    [Fact]
    public async Task A_hello_from_an_unregistered_key_is_refused_and_logged()
    {
        var stranger = _fx.Node(9);
        var reply = await _fx.Grains.GetGrain<IFederationGrain>(Fed1).HelloAsync(Sign(FederationHello.Create(Fed1, stranger.Fingerprint, "1.0", ["ingest.v1", "delta.vector.v1"], "x"), stranger));
        Assert.False(reply.Accepted);
        Assert.Equal("unknown_node", reply.Code);
        Assert.Contains("unknown_node", (await _fx.LinesAsync(FederationScrolls.Verification(Fed1))).Single());
    }

    [Fact]
    public async Task An_accepted_update_is_sealed_before_the_ack_which_carries_its_seq_and_leaf_hash()
    {
        var node = _fx.Node(1);
        var block = await _fx.JoinAsync(Fed1, node);
        var ack = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, node, block, 1));
        Assert.Equal(Disposition.Accepted, ack.Disposition);
        Assert.Equal(0, ack.Seq);

        var bundle = await _fx.Grains.GetGrain<IScrollGrain>(FederationScrolls.Updates(Fed1)).ProveAsync(ack.Seq!.Value);
        Assert.Equal(ack.LeafHash, bundle.LeafHash);
        Assert.True(bundle.Verify([_fx.Ledgers.VerifierKey(FederationScrolls.Updates(Fed1))]).IsValid);
        var receipt = Receipt.Parse(Encoding.UTF8.GetBytes(bundle.Line));
        Assert.Equal(Core.Ingest.UpdateReceipts.AcceptedType, receipt.Type);
        Assert.Equal(node.Fingerprint.ToString(), receipt.Node);
    }

    [Fact]
    public async Task The_same_update_twice_is_acknowledged_twice_and_stored_once()
    {
        var node = _fx.Node(1);
        var block = await _fx.JoinAsync(Fed1, node);
        var update = await _fx.UpdateAsync(Fed1, node, block, 1);
        var first = await _fx.Gateway.SubmitAsync(Fed1, update);
        var second = await _fx.Gateway.SubmitAsync(Fed1, update);
        Assert.Equal(Disposition.Duplicate, second.Disposition);
        Assert.Equal((first.ReceiptId, first.Seq, first.LeafHash), (second.ReceiptId, second.Seq, second.LeafHash));
        Assert.Single(await _fx.LinesAsync(FederationScrolls.Updates(Fed1)));
    }

    [Fact]
    public async Task Equivocation_quarantines_the_node_with_evidence_that_verifies_offline()
    {
        var node = _fx.Node(1);
        var block = await _fx.JoinAsync(Fed1, node);
        Assert.True((await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, node, block, 1, seed: 1))).Acknowledged);
        var second = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, node, block, 1, seed: 2));
        Assert.Equal("equivocation", second.Code);
        Assert.NotNull(second.EvidenceReceipt);

        var governance = Receipt.Parse(Encoding.UTF8.GetBytes((await _fx.LinesAsync(FederationScrolls.Governance(Fed1))).Single()));
        var evidence = EquivocationEvidence.FromJson(governance.Body["evidence"]!.AsObject());
        Assert.Empty(evidence.Verify());

        var view = await _fx.Grains.GetGrain<INodeGrain>(NodeKey.For(Fed1, node.Fingerprint)).GetAsync();
        Assert.Equal(NodeStatus.Quarantined, view!.Record.Status);
        Assert.Equal(second.EvidenceReceipt, view.QuarantineEvidence);

        // Quarantine holds: its next message is refused, and nothing it sent before is lost.
        var after = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, node, block, 1, seed: 3));
        Assert.Equal("quarantined_node", after.Code);
        Assert.Single(await _fx.LinesAsync(FederationScrolls.Updates(Fed1)));
    }

    [Fact]
    public async Task Revoking_a_key_refuses_the_very_next_message()
    {
        var node = _fx.Node(1);
        var block = await _fx.JoinAsync(Fed1, node);
        Assert.True((await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, node, block, 1))).Acknowledged);
        await _fx.Grains.GetGrain<INodeGrain>(NodeKey.For(Fed1, node.Fingerprint)).SetStatusAsync(NodeStatus.Revoked, "key compromised");
        await _fx.Grains.GetGrain<IFederationGrain>(Fed1).OpenNextEpochAsync(Sha256Digest.Of("s2"u8));
        var refused = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, node, block, 2));
        Assert.Equal("revoked_node", refused.Code);
        Assert.Contains("key compromised", refused.Message);
    }

    [Fact]
    public async Task Epochs_closed_late_stale_and_future_are_told_apart()
    {
        var a = _fx.Node(1);
        var b = _fx.Node(2);
        var c = _fx.Node(3);
        var blockA = await _fx.JoinAsync(Fed1, a);
        var blockB = await _fx.JoinAsync(Fed1, b);
        var blockC = await _fx.JoinAsync(Fed1, c);
        var federation = _fx.Grains.GetGrain<IFederationGrain>(Fed1);
        var cachedByB = await _fx.UpdateAsync(Fed1, b, blockB, 1); // b and c are cut off and cache their epoch-1 updates
        var cachedByC = await _fx.UpdateAsync(Fed1, c, blockC, 1);
        Assert.True((await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, a, blockA, 1))).Acknowledged);

        await federation.CloseEpochAsync();
        var closed = await _fx.Gateway.SubmitAsync(Fed1, cachedByB);
        Assert.Equal("epoch_closed", closed.Code);
        Assert.Contains("the open epoch is", closed.Message);

        await federation.OpenNextEpochAsync(Sha256Digest.Of("state-2"u8));
        var late = await _fx.Gateway.SubmitAsync(Fed1, cachedByB);
        Assert.Equal(Disposition.Late, late.Disposition);
        Assert.Contains("update_late", (await _fx.LinesAsync(FederationScrolls.Updates(Fed1)))[^1]);

        // c moves on to epoch 2 first; its cached epoch-1 update then breaks per-node epoch order.
        Assert.Equal(Disposition.Accepted, (await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, c, blockC, 2))).Disposition);
        Assert.Equal("stale_epoch", (await _fx.Gateway.SubmitAsync(Fed1, cachedByC)).Code);
        Assert.Equal("future_epoch", (await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, a, blockA, 3, baseState: Sha256Digest.Of("x"u8)))).Code);
    }

    [Fact]
    public async Task Bad_signatures_and_malformed_updates_are_refused_and_logged_without_touching_the_ledger()
    {
        var node = _fx.Node(1);
        var block = await _fx.JoinAsync(Fed1, node);
        var forged = Encoding.UTF8.GetString(await _fx.UpdateAsync(Fed1, node, block, 1)).Replace("\"federated_epoch\":1", "\"federated_epoch\":2");
        Assert.Equal("bad_signature", (await _fx.Gateway.SubmitAsync(Fed1, Encoding.UTF8.GetBytes(forged))).Code);
        Assert.Equal("malformed_message", (await _fx.Gateway.SubmitAsync(Fed1, "{not json"u8.ToArray())).Code);
        Assert.Equal("wrong_ledger_block", (await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, node, block, 1, change: u => u with { LedgerBlockId = "fed1.membership:77" }))).Code);
        Assert.Equal("hash_mismatch", (await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, node, block, 1, change: u => u with { UpdateHash = Sha256Digest.Of([1]) }))).Code);
        Assert.Equal("base_state_mismatch", (await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, node, block, 1, baseState: Sha256Digest.Of([2])))).Code);

        Assert.Empty(await _fx.LinesAsync(FederationScrolls.Updates(Fed1)));
        var log = await _fx.LinesAsync(FederationScrolls.Verification(Fed1));
        Assert.Equal(5, log.Count);
        Assert.All(log, l => Assert.Contains("update_refused", l));
    }

    [Fact]
    public async Task A_capability_the_policy_requires_but_the_node_lacks_is_refused()
    {
        var node = _fx.Node(3);
        await _fx.RegisterAsync(Fed1, node, ["delta.vector.v1"]);
        var reply = await _fx.Grains.GetGrain<IFederationGrain>(Fed1).HelloAsync(Sign(FederationHello.Create(Fed1, node.Fingerprint, "1.0", ["delta.vector.v1"], "x"), node));
        Assert.Equal("capability_incompatible", reply.Code);
    }

    [Fact]
    public async Task Heartbeats_report_consistency_and_a_lying_head_is_quarantined_with_offline_evidence()
    {
        var node = _fx.Node(1);
        var block = await _fx.JoinAsync(Fed1, node);
        await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, node, block, 1));
        var scroll = FederationScrolls.Updates(Fed1);
        var honest = Heartbeat.Create(Fed1, node.Fingerprint, scroll, 1, await _fx.Scroll(scroll).RootAsync(1), 1);
        Assert.Equal(HeadVerdict.Consistent, (await _fx.Gateway.HeartbeatAsync(Fed1, node.Fingerprint, Sign(honest, node))).Verdict);
        Assert.Equal(HeadVerdict.Ahead, (await _fx.Gateway.HeartbeatAsync(Fed1, node.Fingerprint, Sign(honest with { Size = 5 }, node))).Verdict);

        var lie = honest with { Root = Sha256Digest.Of("forged"u8), Sequence = 2 };
        var ack = await _fx.Gateway.HeartbeatAsync(Fed1, node.Fingerprint, Sign(lie, node));
        Assert.Equal(HeadVerdict.Divergent, ack.Verdict);
        var receipt = Receipt.Parse(Encoding.UTF8.GetBytes((await _fx.LinesAsync(FederationScrolls.Governance(Fed1))).Single()));
        var evidence = receipt.Body["evidence"]!.AsObject();
        var parsed = new LedgerDivergenceEvidence(
            SignedEnvelope.Parse(evidence["heartbeat"]!.ToJsonString()),
            evidence["checkpoint"]!.GetValue<string>(),
            Sha256Digest.ParseHex(evidence["coordinator_root_at_size"]!.GetValue<string>()),
            evidence["consistency_proof"]!.AsArray().Select(p => Sha256Digest.ParseHex(p!.GetValue<string>())).ToList());
        Assert.Empty(parsed.Verify([_fx.Ledgers.VerifierKey(scroll)]));
        Assert.Equal(NodeStatus.Quarantined, (await _fx.Grains.GetGrain<INodeGrain>(NodeKey.For(Fed1, node.Fingerprint)).GetAsync())!.Record.Status);
    }

    [Fact]
    public async Task A_silent_node_is_reported_inactive_not_quarantined()
    {
        var node = _fx.Node(1);
        await _fx.JoinAsync(Fed1, node);
        var grain = _fx.Grains.GetGrain<INodeGrain>(NodeKey.For(Fed1, node.Fingerprint));
        Assert.False((await grain.GetAsync())!.Inactive);
        _fx.Time.Advance(TimeSpan.FromMinutes(6));
        var view = await grain.GetAsync();
        Assert.True(view!.Inactive);
        Assert.Equal(NodeStatus.Active, view.Record.Status);
    }

    [Fact]
    public async Task After_a_crash_the_index_is_rebuilt_from_the_scroll_so_duplicates_and_equivocation_are_still_caught()
    {
        var node = _fx.Node(1);
        var block = await _fx.JoinAsync(Fed1, node);
        var update = await _fx.UpdateAsync(Fed1, node, block, 1);
        var first = await _fx.Gateway.SubmitAsync(Fed1, update);

        await _fx.KillAndRestartAsync();

        var again = await _fx.Gateway.SubmitAsync(Fed1, update);
        Assert.Equal(Disposition.Duplicate, again.Disposition);
        Assert.Equal(first.ReceiptId, again.ReceiptId);
        Assert.Equal("equivocation", (await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, node, block, 1, seed: 9))).Code);
        Assert.Single(await _fx.LinesAsync(FederationScrolls.Updates(Fed1)));
    }
}

public sealed class FederationStateTests : IAsyncLifetime
{
    private readonly FederationFixture _fx = new();

    public Task InitializeAsync() => _fx.StartAsync();

    public Task DisposeAsync() => _fx.DisposeAsync().AsTask();

    private static System.Text.Json.Nodes.JsonObject Read(string path) => System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    [Fact]
    public async Task An_epoch_change_writes_the_epoch_chain_and_leaves_the_membership_alone()
    {
        await _fx.JoinAsync(Fed1, _fx.Node(1));
        var federation = _fx.Grains.GetGrain<IFederationGrain>(Fed1);
        var membership = _fx.GrainStateFile("federation", Fed1, "federation");
        var before = Read(membership)["version"]!.GetValue<long>();

        await federation.CloseEpochAsync();
        await federation.OpenNextEpochAsync(Sha256Digest.Of([2]));
        await federation.OpenNextEpochAsync(Sha256Digest.Of([3]));

        Assert.Equal(before, Read(membership)["version"]!.GetValue<long>());
        Assert.False(Read(membership)["payload"]!.AsObject().ContainsKey("base_states"));
        var chain = Read(_fx.GrainStateFile("federation", Fed1, "epoch_chain"))["payload"]!.AsObject();
        Assert.Equal(3, chain["open_epoch"]!.GetValue<long>());
        Assert.Equal(Sha256Digest.Of([3]).ToString(), chain["base_states"]!["3"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_federation_written_before_the_split_is_moved_on_activation_and_loses_nothing()
    {
        var node = _fx.Node(1);
        var block = await _fx.JoinAsync(Fed1, node);
        var federation = _fx.Grains.GetGrain<IFederationGrain>(Fed1);
        await federation.OpenNextEpochAsync(Sha256Digest.Of([2]));
        var expected = await federation.GetEpochAsync();
        await _fx.StopAsync();

        // Rewrite the files as the previous format had them: the epoch chain inside the federation state.
        var membershipPath = _fx.GrainStateFile("federation", Fed1, "federation");
        var chainPath = _fx.GrainStateFile("federation", Fed1, "epoch_chain");
        var legacy = Read(membershipPath);
        foreach (var member in Read(chainPath)["payload"]!.AsObject().ToList())
        {
            legacy["payload"]![member.Key] = member.Value?.DeepClone();
        }

        File.WriteAllText(membershipPath, legacy.ToJsonString());
        File.Delete(chainPath);

        await _fx.RestartAfterKillAsync();
        var moved = await _fx.Grains.GetGrain<IFederationGrain>(Fed1).GetEpochAsync();
        Assert.Equal((expected.OpenEpoch, expected.ClosingEpoch, expected.OpenStateHash, expected.OpenedAt), (moved.OpenEpoch, moved.ClosingEpoch, moved.OpenStateHash, moved.OpenedAt));
        Assert.Equal(expected.BaseStates.OrderBy(b => b.Key), moved.BaseStates.OrderBy(b => b.Key));
        Assert.False(Read(membershipPath)["payload"]!.AsObject().ContainsKey("open_epoch"));
        Assert.Equal(2, Read(chainPath)["payload"]!["open_epoch"]!.GetValue<long>());
        Assert.Contains(node.Fingerprint, await _fx.Grains.GetGrain<IFederationGrain>(Fed1).ListNodesAsync());

        // The moved federation keeps working: the node's update for the open epoch is accepted.
        var ack = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, node, block, 2, baseState: Sha256Digest.Of([2])));
        Assert.Equal(Disposition.Accepted, ack.Disposition);
    }
}

public sealed class TenantIsolationTests : IAsyncLifetime
{
    private readonly FederationFixture _fx = new();

    public Task InitializeAsync() => _fx.StartAsync();

    public Task DisposeAsync() => _fx.DisposeAsync().AsTask();

    [Fact]
    public async Task One_federation_can_never_read_or_affect_another_however_the_request_is_shaped()
    {
        var node = _fx.Node(1);
        var block1 = await _fx.JoinAsync(Fed1, node);

        // The same key in fed2 is a different node: unknown there until fed2 registers it.
        var update1 = await _fx.UpdateAsync(Fed1, node, block1, 1);
        Assert.Equal("wrong_federation", (await _fx.Gateway.SubmitAsync(Fed2, update1)).Code);
        var reshaped = await _fx.UpdateAsync(Fed1, node, block1, 1, change: u => u with { FederationId = Fed2 });
        Assert.Equal("unknown_node", (await _fx.Gateway.SubmitAsync(Fed2, reshaped)).Code);
        Assert.Null(await _fx.Grains.GetGrain<INodeGrain>(NodeKey.For(Fed2, node.Fingerprint)).GetAsync());
        Assert.Empty(await _fx.Grains.GetGrain<IFederationGrain>(Fed2).ListNodesAsync());

        // Joined in both, its state is separate: quarantine in fed2 leaves fed1 untouched.
        var block2 = await _fx.JoinAsync(Fed2, node);
        Assert.Equal("fed2.membership:0", block2);
        Assert.Equal("wrong_ledger_block", (await _fx.Gateway.SubmitAsync(Fed2, await _fx.UpdateAsync(Fed2, node, block1, 1))).Code);
        await _fx.Grains.GetGrain<INodeGrain>(NodeKey.For(Fed2, node.Fingerprint)).SetStatusAsync(NodeStatus.Quarantined, "test");
        Assert.Equal(Disposition.Accepted, (await _fx.Gateway.SubmitAsync(Fed1, update1)).Disposition);
        Assert.Empty(await _fx.LinesAsync(FederationScrolls.Updates(Fed2)));
        Assert.Single(await _fx.LinesAsync(FederationScrolls.Updates(Fed1)));

        // A federation that is not served is refused outright, through the task (the call itself does not throw).
        var unknown = _fx.Gateway.SubmitAsync("fed3", update1);
        await Assert.ThrowsAsync<Services.UnknownFederationException>(() => unknown);
    }
}

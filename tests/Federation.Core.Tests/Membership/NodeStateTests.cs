using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Membership;

namespace Federation.Core.Tests.Membership;

public sealed class NodeStateTests
{
    private static readonly KeyFingerprint Node = KeyFingerprint.Parse("ed25519:" + new string('a', 64));

    private static NodeState Active()
    {
        var state = new NodeState();
        state.Register(TrustLevel.Federated, SyncPolicy.Bidirectional, ["ingest.v1"]);
        state.Activate(Node, "s1", "fed1.membership:0");
        return state;
    }

    [Fact]
    public void A_registered_node_is_pending_until_its_handshake_completes()
    {
        var state = new NodeState();
        Assert.Null(state.Record("fed1", Node));

        state.Register(TrustLevel.Root, SyncPolicy.PullApprovedOnly, ["ingest.v1"]);
        Assert.Equal(NodeStatus.Pending, state.Record("fed1", Node)!.Status);

        state.Activate(Node, "s1", "fed1.membership:0");
        var record = state.Record("fed1", Node, lastEpoch: 4)!;
        Assert.Equal((NodeStatus.Active, "s1", "fed1.membership:0", 4L, TrustLevel.Root), (record.Status, record.SessionId, record.LedgerBlockId, record.LastEpoch, record.TrustLevel));
    }

    [Theory]
    [InlineData(NodeStatus.Quarantined)]
    [InlineData(NodeStatus.Excluded)]
    [InlineData(NodeStatus.Revoked)]
    public void A_handshake_never_lifts_a_quarantine_an_exclusion_or_a_revocation(NodeStatus status)
    {
        var state = Active();
        state.SetStatus("fed1", Node, status, "reason", "fed1.governance:3");

        var error = Assert.Throws<InvalidOperationException>(() => state.Activate(Node, "s2", "fed1.membership:9"));

        Assert.Contains(status.ToString().ToLowerInvariant(), error.Message);
        Assert.Equal(status, state.Status);
        Assert.Equal("s1", state.SessionId);
    }

    [Fact]
    public void An_unregistered_node_cannot_change_standing()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new NodeState().SetStatus("fed1", Node, NodeStatus.Quarantined, "x", null));
        Assert.Contains("not registered in federation \"fed1\"", error.Message);
    }

    [Fact]
    public void A_quarantine_never_overrides_a_revocation()
    {
        var state = Active();
        state.SetStatus("fed1", Node, NodeStatus.Revoked, "key revoked", null);

        Assert.False(state.SetStatus("fed1", Node, NodeStatus.Quarantined, "divergence", "fed1.governance:7"));
        Assert.Equal(NodeStatus.Revoked, state.Status);
        Assert.Null(state.EvidenceReceipt);
    }

    [Fact]
    public void Approving_a_case_makes_the_node_active_and_a_replay_of_its_evidence_changes_nothing()
    {
        var state = Active();
        state.SetStatus("fed1", Node, NodeStatus.Quarantined, "equivocation", "fed1.governance:2");

        state.ApplyVerdict(Node, VerdictKind.Approve, "a clock fault", "fed1.governance:2", "fed1.governance:5");

        Assert.Equal(NodeStatus.Active, state.Status);
        Assert.StartsWith("approved by review (fed1.governance:5)", state.StatusReason);
        Assert.False(state.SetStatus("fed1", Node, NodeStatus.Quarantined, "equivocation, again", "fed1.governance:2"));
        Assert.Equal(NodeStatus.Active, state.Status);
        Assert.True(state.SetStatus("fed1", Node, NodeStatus.Quarantined, "new evidence", "fed1.governance:9"));
    }

    [Fact]
    public void Rejecting_a_case_revokes_the_node_so_it_may_not_report()
    {
        var state = Active();
        state.SetStatus("fed1", Node, NodeStatus.Quarantined, "divergence", "fed1.governance:2");

        state.ApplyVerdict(Node, VerdictKind.Reject, "it lied", "fed1.governance:2", "fed1.governance:6");

        Assert.Equal(NodeStatus.Revoked, state.Status);
        Assert.False(state.MayReport);
    }

    [Fact]
    public void A_verdict_must_cite_the_evidence_the_node_is_quarantined_on()
    {
        var state = Active();
        state.SetStatus("fed1", Node, NodeStatus.Quarantined, "divergence", "fed1.governance:2");

        var error = Assert.Throws<InvalidOperationException>(() => state.ApplyVerdict(Node, VerdictKind.Approve, "x", "fed1.governance:3", "fed1.governance:6"));

        Assert.Contains("not quarantined on fed1.governance:3", error.Message);
        Assert.Equal(NodeStatus.Quarantined, state.Status);
        Assert.Empty(state.ReviewedEvidence);
    }
}

using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Storage.Governance;
using static Federation.Grains.Tests.FederationFixture;

namespace Federation.Grains.Tests;

/// <summary>Issue 6: human review of quarantine cases (SPEC D) and the advisory lifecycle (SPEC B).</summary>
public sealed class GovernanceTests : IAsyncLifetime
{
    private readonly FederationFixture _fx = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _fx.DisposeAsync().AsTask();

    private IReviewGrain Review => _fx.Grains.GetGrain<IReviewGrain>(Fed1);

    private async Task<List<(Ed25519PrivateKey Key, string Block)>> JoinAsync(int count)
    {
        var nodes = new List<(Ed25519PrivateKey, string)>();
        for (var i = 1; i <= count; i++)
        {
            nodes.Add((_fx.Node(i), await _fx.JoinAsync(Fed1, _fx.Node(i))));
        }

        return nodes;
    }

    private async Task SubmitAllAsync(List<(Ed25519PrivateKey Key, string Block)> nodes, long epoch, double outlierSeed = 0, int outlier = -1)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            var ack = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, nodes[i].Key, nodes[i].Block, epoch, seed: i == outlier ? outlierSeed : 1 + i * 0.001));
            Assert.True(ack.Acknowledged, ack.Message);
        }
    }

    /// <summary>Five active nodes; node 1 equivocates in epoch 1 and is quarantined at ingest. Returns the nodes and the case id.</summary>
    private async Task<(List<(Ed25519PrivateKey Key, string Block)> Nodes, string Case)> QuarantineOneAsync()
    {
        await _fx.StartAsync();
        var nodes = await JoinAsync(5);
        await SubmitAllAsync(nodes, 1);
        var second = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, nodes[0].Key, nodes[0].Block, 1, seed: 7));
        Assert.Equal("equivocation", second.Code);
        return (nodes, second.EvidenceReceipt!);
    }

    private static byte[] Verdict(string caseId, KeyFingerprint node, VerdictKind kind, Ed25519PrivateKey key, string federation = Fed1) =>
        ReviewVerdict.Sign(new ReviewVerdict(federation, caseId, node, kind, "checked the two signed updates", key.Fingerprint, caseId), key).ToCanonicalJson();

    private async Task<Receipt> GovernanceReceiptAsync(string id) =>
        Receipt.Parse(Encoding.UTF8.GetBytes((await _fx.LinesAsync(FederationScrolls.Governance(Fed1)))[int.Parse(id.Split(':')[1])]));

    private async Task<NodeView> NodeAsync(KeyFingerprint node) => (await _fx.Grains.GetGrain<INodeGrain>(NodeKey.For(Fed1, node)).GetAsync())!;

    [Fact]
    public async Task A_quarantined_node_is_a_pending_case_whose_evidence_is_its_equivocation_receipt()
    {
        var (nodes, caseId) = await QuarantineOneAsync();

        var listed = Assert.Single(await Review.ListAsync());
        Assert.Equal(caseId, listed.Case);
        Assert.Equal(nodes[0].Key.Fingerprint, listed.Node);
        Assert.Equal(Core.Ingest.EquivocationEvidence.Type, listed.EvidenceType);
        Assert.Null(listed.Verdict);

        var detail = (await Review.ShowAsync(caseId))!;
        Assert.Equal(caseId, detail.Evidence.Id);
        Assert.Contains(detail.History, h => h.Id == caseId);
        Assert.Null(await Review.ShowAsync(Fed1 + ".governance:999"));
    }

    [Fact]
    public async Task Approve_seals_the_signed_verdict_logs_it_and_the_node_is_active_and_stays_active_when_the_epoch_commits()
    {
        var (nodes, caseId) = await QuarantineOneAsync();
        var node = nodes[0].Key.Fingerprint;

        var outcome = await Review.DecideAsync(Verdict(caseId, node, VerdictKind.Approve, ReviewerKey));
        Assert.True(outcome.Sealed, outcome.Message);

        // The receipt holds the reviewer's signed verdict, which verifies offline with the reviewer's key.
        var receipt = await GovernanceReceiptAsync(outcome.Receipt!);
        Assert.Equal(ReviewVerdict.Type, receipt.Type);
        var signed = SignedEnvelope.Parse(receipt.Body["signed_verdict"]!.ToJsonString());
        Assert.True(signed.Verify(Ed25519Verifier.Trusting(ReviewerKey.PublicKey)).IsValid);
        Assert.Equal("approve", signed.Payload["verdict"]!.GetValue<string>());
        Assert.Equal(caseId, signed.Payload["evidence_receipt"]!.GetValue<string>());
        Assert.Contains((GovernanceLog.ReviewApproved, outcome.Receipt!), new GovernanceLog(_fx.GovernanceLogPath).Entries());
        Assert.Equal(NodeStatus.Active, (await NodeAsync(node)).Record.Status);

        // Epoch 1 still lists the equivocation it saw; the reviewed evidence does not quarantine the node again.
        var report = await _fx.RunEpochAsync(Fed1);
        Assert.Equal(EpochState.Committed, report.State);
        Assert.Contains(node.ToString(), report.Quarantined);
        Assert.Equal(NodeStatus.Active, (await NodeAsync(node)).Record.Status);
        Assert.Contains("review: already decided: the node is active", File.ReadAllText(_fx.GovernanceLogPath));

        // From the next epoch on its updates are accepted again.
        var ack = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, nodes[0].Key, nodes[0].Block, 2));
        Assert.Equal(Core.Ingest.Disposition.Accepted, ack.Disposition);

        var decided = Assert.Single(await Review.ListAsync());
        Assert.Equal("approve", decided.Verdict);
        Assert.Equal(outcome.Receipt, decided.VerdictReceipt);
    }

    [Fact]
    public async Task Reject_excludes_the_node_and_revokes_its_key_and_a_second_verdict_on_the_case_is_refused()
    {
        var (nodes, caseId) = await QuarantineOneAsync();
        var node = nodes[0].Key.Fingerprint;

        var outcome = await Review.DecideAsync(Verdict(caseId, node, VerdictKind.Reject, ReviewerKey));
        Assert.True(outcome.Sealed, outcome.Message);
        Assert.Contains((GovernanceLog.ReviewRejected, outcome.Receipt!), new GovernanceLog(_fx.GovernanceLogPath).Entries());
        var view = await NodeAsync(node);
        Assert.Equal(NodeStatus.Revoked, view.Record.Status);
        Assert.Contains("excluded and key revoked", view.Record.StatusReason);

        // Every message is refused: updates, a new handshake, heartbeats.
        var update = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, nodes[0].Key, nodes[0].Block, 1, seed: 9));
        Assert.Equal("revoked_node", update.Code);
        var hello = await _fx.Grains.GetGrain<IFederationGrain>(Fed1).HelloAsync(Sign(FederationHello.Create(Fed1, node, "1.0", ["ingest.v1", "delta.vector.v1"], "again"), nodes[0].Key));
        Assert.Equal("revoked_node", hello.Code);

        // The epoch's quarantine of the same evidence does not turn a revoked node back into a quarantined one.
        Assert.Equal(EpochState.Committed, (await _fx.RunEpochAsync(Fed1)).State);
        Assert.Equal(NodeStatus.Revoked, (await NodeAsync(node)).Record.Status);

        var again = await Review.DecideAsync(Verdict(caseId, node, VerdictKind.Approve, ReviewerKey));
        Assert.False(again.Sealed);
        Assert.Equal(ReviewRefusal.CaseDecided, again.Code);
        Assert.Contains(outcome.Receipt!, again.Message);
        Assert.Equal(NodeStatus.Revoked, (await NodeAsync(node)).Record.Status);
    }

    [Fact]
    public async Task A_divergence_case_shows_the_committed_decision_with_its_votes_and_an_approved_node_submits_again()
    {
        await _fx.StartAsync();
        var nodes = await JoinAsync(6);
        await SubmitAllAsync(nodes, 1, outlierSeed: 50, outlier: 5);
        Assert.Empty((await _fx.RunEpochAsync(Fed1)).Quarantined);
        await SubmitAllAsync(nodes, 2, outlierSeed: 50, outlier: 5);
        var second = await _fx.RunEpochAsync(Fed1);
        var node = nodes[5].Key.Fingerprint;
        Assert.Equal([node.ToString()], second.Quarantined);

        var listed = Assert.Single(await Review.ListAsync());
        Assert.Equal(Core.Consensus.DivergenceEvidence.Type, listed.EvidenceType);
        var detail = (await Review.ShowAsync(listed.Case))!;
        var decision = Assert.Single(detail.Decisions);
        Assert.Equal(second.CommitReceipt, decision.Id);
        var certificate = Receipt.Parse(Encoding.UTF8.GetBytes(decision.Line)).Body["commit_certificate"]!.AsArray();
        Assert.True(certificate.Count >= 3, "a commit certificate holds 2f + 1 signed votes");
        Assert.Contains(detail.History, h => h.Id == listed.Case);

        Assert.True((await Review.DecideAsync(Verdict(listed.Case, node, VerdictKind.Approve, ReviewerKey))).Sealed);
        var ack = await _fx.Gateway.SubmitAsync(Fed1, await _fx.UpdateAsync(Fed1, nodes[5].Key, nodes[5].Block, 3));
        Assert.Equal(Core.Ingest.Disposition.Accepted, ack.Disposition);
    }

    [Fact]
    public async Task Two_verdicts_on_one_case_at_once_seal_exactly_one()
    {
        var (nodes, caseId) = await QuarantineOneAsync();
        var node = nodes[0].Key.Fingerprint;

        var outcomes = await Task.WhenAll(
            Review.DecideAsync(Verdict(caseId, node, VerdictKind.Approve, ReviewerKey)),
            Review.DecideAsync(Verdict(caseId, node, VerdictKind.Reject, ReviewerKey)));

        var sealedOne = Assert.Single(outcomes, o => o.Sealed);
        Assert.Equal(ReviewRefusal.CaseDecided, Assert.Single(outcomes, o => !o.Sealed).Code);
        var lines = await _fx.LinesAsync(FederationScrolls.Governance(Fed1));
        Assert.Single(lines, l => l.Contains("\"type\":\"review_verdict\"", StringComparison.Ordinal));
        Assert.Equal(sealedOne.Message.Contains("approved", StringComparison.Ordinal) ? NodeStatus.Active : NodeStatus.Revoked, (await NodeAsync(node)).Record.Status);
    }

    [Fact]
    public async Task Verdicts_from_a_non_reviewer_with_a_bad_signature_or_on_an_unknown_case_are_refused_and_change_nothing()
    {
        var (nodes, caseId) = await QuarantineOneAsync();
        var node = nodes[0].Key.Fingerprint;
        var before = (await _fx.LinesAsync(FederationScrolls.Governance(Fed1))).Count;

        var stranger = await Review.DecideAsync(Verdict(caseId, node, VerdictKind.Approve, NotAReviewerKey));
        Assert.Equal(ReviewRefusal.NotAReviewer, stranger.Code);

        // The reviewer's signature over an approve, presented with the verdict changed to reject.
        var forged = (JsonObject)JsonNode.Parse(Verdict(caseId, node, VerdictKind.Approve, ReviewerKey))!;
        forged["verdict"] = "reject";
        var badSignature = await Review.DecideAsync(Encoding.UTF8.GetBytes(forged.ToJsonString()));
        Assert.Equal(ReviewRefusal.BadSignature, badSignature.Code);

        var unknown = await Review.DecideAsync(Verdict(Fed1 + ".governance:999", node, VerdictKind.Approve, ReviewerKey));
        Assert.Equal(ReviewRefusal.UnknownCase, unknown.Code);

        var otherNode = await Review.DecideAsync(Verdict(caseId, nodes[1].Key.Fingerprint, VerdictKind.Reject, ReviewerKey));
        Assert.Equal(ReviewRefusal.UnknownCase, otherNode.Code);

        var wrongFederation = await Review.DecideAsync(Verdict(caseId, node, VerdictKind.Approve, ReviewerKey, federation: Fed2));
        Assert.Equal(ReviewRefusal.WrongFederation, wrongFederation.Code);

        var malformed = await Review.DecideAsync("{\"type\":\"review_verdict\"}"u8.ToArray());
        Assert.Equal(ReviewRefusal.MalformedVerdict, malformed.Code);

        Assert.Equal(NodeStatus.Quarantined, (await NodeAsync(node)).Record.Status);
        Assert.Equal(before, (await _fx.LinesAsync(FederationScrolls.Governance(Fed1))).Count);
        Assert.Null(Assert.Single(await Review.ListAsync()).Verdict);
    }

    [Fact]
    public async Task A_flagged_node_gets_an_advisory_whose_accept_is_a_receipt_and_final()
    {
        await _fx.StartAsync();
        var nodes = await JoinAsync(5);
        // Node 5 is 0.3 off in every coordinate: distance 0.6, above the flag threshold (0.25), below quarantine (1.0).
        await SubmitAllAsync(nodes, 1, outlierSeed: 1.3, outlier: 4);
        var report = await _fx.RunEpochAsync(Fed1);
        Assert.Equal(EpochState.Committed, report.State);
        Assert.Empty(report.Quarantined);

        var id = Assert.Single(await _fx.Grains.GetGrain<IAdvisoryIndexGrain>(Fed1).ListAsync());
        var grain = _fx.Grains.GetGrain<IAdvisoryGrain>(AdvisoryKey.For(Fed1, id));
        var view = (await grain.GetAsync())!;
        Assert.Equal(Advisories.Id(Fed1, 1, Advisories.BaselineDrift, nodes[4].Key.Fingerprint.ToString()), id);
        Assert.Equal(Advisories.BaselineDrift, view.Advisory.DriftType);
        Assert.Equal(nodes[4].Key.Fingerprint.ToString(), view.Advisory.SourceEnv);
        Assert.Equal([Fed1], view.Advisory.TargetEnvs);
        Assert.Equal(AdvisoryStatus.Published, view.Advisory.Status);
        Assert.Equal(Advisories.PublishedType, (await GovernanceReceiptAsync(Assert.Single(view.Receipts))).Type);

        var accepted = await grain.TransitionAsync(AdvisoryStatus.Accepted, "recalibrating");
        Assert.True(accepted.Done, accepted.Message);
        var receipt = await GovernanceReceiptAsync(accepted.Receipt!);
        Assert.Equal(Advisories.AcceptedType, receipt.Type);
        Assert.Equal(id, receipt.Body["advisory_id"]!.GetValue<string>());

        var declined = await grain.TransitionAsync(AdvisoryStatus.Declined, null);
        Assert.False(declined.Done);
        Assert.Contains("already accepted", declined.Message);
        Assert.Equal(AdvisoryStatus.Accepted, (await grain.GetAsync())!.Advisory.Status);
        Assert.Equal(2, (await grain.GetAsync())!.Receipts.Count);

        // Publishing the same advisory again (a crash between commit and publish, then a retry) changes nothing.
        var republished = await grain.PublishAsync(view.Advisory);
        Assert.Equal(AdvisoryStatus.Accepted, republished.Advisory.Status);
    }
}

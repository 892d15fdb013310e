using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;

namespace Federation.Grains.Tests.Wire;

/// <summary>
/// Values of every wire type, between them setting every member and leaving every nullable one null. Lists are
/// written as collection expressions, as the grains write them (their runtime types are compiler-made).
/// </summary>
internal static class WireSamples
{
    private static readonly Ed25519PrivateKey NodeKey = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)7, 32).ToArray());
    private static readonly KeyFingerprint Node = NodeKey.Fingerprint;
    private static readonly KeyFingerprint Other = KeyFingerprint.Parse("ed25519:" + new string('a', 64));
    private static readonly Sha256Digest D1 = Sha256Digest.Of("one"u8);
    private static readonly Sha256Digest D2 = Sha256Digest.Of("two"u8);
    private static readonly DateTimeOffset Time = new(2026, 12, 3, 10, 30, 15, 123, TimeSpan.FromHours(1));

    private static NodeRecord FullRecord => new("fed1", Node, TrustLevel.Root, SyncPolicy.Bidirectional, ["ingest.v1", "delta.vector.v1"], NodeStatus.Quarantined, "session-1", "fed1.membership:0", 4, "divergent three epochs running");

    private static NodeRecord BareRecord => new("fed1", Other, TrustLevel.Federated, SyncPolicy.PullApprovedOnly, [], NodeStatus.Pending);

    private static Advisory Advisory => new("adv-5-0123456789ab", "fed1", 5, Advisories.BaselineDrift, Node.ToString(), ["fed1"], Advisories.Recommendation(Advisories.BaselineDrift), "divergence 0.42 (flagged)", AdvisoryStatus.Accepted);

    private static GovernanceEntry Entry(int seq) => new($"fed1.governance:{seq}", "quarantine", "2026-12-03T10:30:15.123Z", $"{{\"seq\":{seq}}}");

    private static ReviewCase Case => new("fed1.governance:4", Node, "divergence", "three epochs", NodeStatus.Quarantined, "approve", "fed1.governance:8", Other.ToString());

    public static VerifiedUpdate Update()
    {
        var policy = new FederationPolicy("fed1", AggregationKind.Vector, ["ingest.v1"], VectorDimension: 4, MaxPayloadBytes: 8192);
        var (payload, hash) = UpdateDelta.Vector([0.25, -1.5, 3, 0]).Encode();
        var message = SignedEnvelope.Sign(MetaUpdate.Create("fed1", 5, Node, hash, "fed1.membership:0", D1, payload), new Ed25519Signer(NodeKey)).ToCanonicalJson();
        var (update, refusal) = UpdateValidator.VerifyOwned(message, policy);
        return update ?? throw new InvalidOperationException(refusal!.Message);
    }

    public static IEnumerable<object> All()
    {
        // Contracts
        yield return new NodeRegistration(Node, TrustLevel.Root, SyncPolicy.Bidirectional, ["ingest.v1", "delta.vector.v1"]);
        yield return new UpdateAck(Disposition.Late, "late", "recorded as late", "fed1.updates:7", 7, D1, "fed1.governance:3");
        yield return new UpdateAck(Disposition.Refused, null, "refused", null, null, null, null);
        yield return new HandshakeReply(true, "{\"accept\":1}"u8.ToArray(), "accepted", "welcome");
        yield return new HandshakeReply(false, null, null, "unknown node");
        yield return new SessionReply(true, "fed1.membership:0", 3, D1, "ok", "active");
        yield return new SessionReply(false, null, null, null, null, "no session");
        yield return new EpochInfo(5, 4, D1, new Dictionary<long, Sha256Digest> { [4] = D2, [5] = D1 }, Time);
        yield return new EpochInfo(1, null, D2, new Dictionary<long, Sha256Digest>());
        yield return new HeartbeatAck(HeadVerdict.Divergent, "divergent", "fed1.governance:2", "ledger_divergence");
        yield return new HeartbeatAck(HeadVerdict.Consistent, "consistent");
        yield return new NodeView(FullRecord, Time, true, 12, "fed1.governance:2");
        yield return new NodeView(BareRecord, null, false, 0, null);
        yield return new ScrollHead("fed1.updates", 10, D1, "fed1.updates\n10\nroot\n", 4);
        yield return new ScrollHead("fed1.updates", 0, default, null);
        yield return new SealedReceiptView("fed1.updates:3", 3, D2);
        yield return new UpdateSealing(new SealedReceiptView("fed1.updates:3", 3, D2), null);
        yield return new UpdateSealing(null, new EpochInfo(2, 1, D1, new Dictionary<long, Sha256Digest> { [2] = D1 }, Time));
        yield return new UpdateSeal(Update(), Late: true, 3, 2);
        yield return new UpdateSeal(Update(), Late: false, 3, null);
        yield return new RecordedUpdate(4, D1, "fed1.updates:7", 7, D2, Late: true);
        yield return new ScrollUpdateView(7, [1, 2, 3]);
        yield return new ConsistencyEvidence("fed1.updates\n10\nroot\n", 10, D1, [D2, D1]);
        yield return new ConsistencyEvidence("note", 0, D1, []);
        yield return new EpochInputs(5, 12, D1, [Node, Other], new Dictionary<string, int> { [Node.ToString()] = 2 }, [new QuarantineEntry(Other, "equivocation", D2)]);
        yield return new ValidatorStep(["{\"a\":1}"u8.ToArray(), "{\"b\":2}"u8.ToArray()], D1, 2, ["{\"vote\":1}"u8.ToArray()], ["{\"evidence\":1}"u8.ToArray()], ["v1 has not begun epoch 5"], D2);
        yield return new ValidatorStep([], null, 0, [], [], [], null);
        yield return new EpochReport(5, EpochState.Committed, "committed", D1, "fed1.governance:9", 1, [Other.ToString()], ["fed1.governance:7"], 3, 1);
        yield return new EpochReport(6, EpochState.Failed, null, null, null, 0, [], [], 0, 0);
        yield return Case;
        yield return new ReviewCase("fed1.governance:5", Other, "equivocation", "two updates", NodeStatus.Pending, null, null, null);
        yield return Entry(4);
        yield return new ReviewCaseDetail(Case, Entry(4), [Entry(9)], [Entry(4), Entry(9)], new NodeView(FullRecord, Time, false, 3, "fed1.governance:4"));
        yield return new ReviewOutcome(true, "sealed", "verdict sealed", "fed1.governance:10");
        yield return new ReviewOutcome(false, null, "refused");
        yield return new AdvisoryView(Advisory, ["fed1.governance:11", "fed1.governance:12"]);
        yield return new AdvisoryTransition(true, "accepted", new AdvisoryView(Advisory, ["fed1.governance:11"]), "fed1.governance:12");
        yield return new AdvisoryTransition(false, "already final", null);
        yield return new AccessToken("0123456789ab", AccessRole.Auditor, "dashboard", Time);
        yield return new AccessToken("ba9876543210", AccessRole.Operator, string.Empty, Time);
        yield return new AnchorReport("fed1.updates", "success", 12, "anchored size 12, consistent with the anchor at size 4", D1.ToString(), "anchors:3", Time);
        yield return new AnchorReport("fed1.governance", "nothing_to_anchor", 0, "the scroll is empty", null, null, Time);
        yield return new AnchorStatus(2, Time, [new AnchorReport("fed1.updates", "divergence", 7, "it shrank", null, "anchors:4", Time)]);
        yield return new AnchorStatus(0, null, []);

        // Core, through surrogates
        yield return D1;
        yield return default(Sha256Digest);
        yield return Node;
        yield return default(KeyFingerprint);
        yield return FullRecord;
        yield return BareRecord;
        yield return new FederationPolicy("fed1", AggregationKind.Canon, ["ingest.v1", "delta.canon.v1"], 8, 4096, 65536);
        yield return new QuarantineEntry(Node, "divergence", D1);
        yield return new InclusionBundle("fed1.updates", 3, "{\"seq\":3}", D1, [D2, D1], "fed1.updates\n4\nroot\n");
        yield return new ReceiptDraft(
            "update_accepted",
            new JsonObject { ["epoch"] = 5, ["ratio"] = 0.25, ["nested"] = new JsonObject { ["list"] = new JsonArray(1, "two", null, true) }, ["text"] = "é\u2028\"" },
            ["epoch:5", "node"],
            Node.ToString(),
            new Dictionary<string, byte[]> { ["update"] = CanonicalJson.Write(JsonNode.Parse("{\"b\":1,\"a\":[2]}")) });
        yield return new ReceiptDraft("heartbeat", new JsonObject(), null, null, null);
        yield return Advisory;
        yield return Update();
    }
}

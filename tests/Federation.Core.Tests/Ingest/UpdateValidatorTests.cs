using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Signing;

namespace Federation.Core.Tests.Ingest;

public sealed class UpdateValidatorTests : IDisposable
{
    private const string Federation = "fed1";
    private static readonly Sha256Digest State5 = Sha256Digest.Of("state-5"u8);
    private static readonly Sha256Digest State4 = Sha256Digest.Of("state-4"u8);

    private readonly Ed25519PrivateKey _node = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)3, 32).ToArray());
    private readonly Ed25519PrivateKey _other = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)4, 32).ToArray());
    private readonly FederationPolicy _policy = new(Federation, AggregationKind.Vector, ["ingest.v1"], VectorDimension: 4, MaxPayloadBytes: 4096, MaxDeltaBytes: 65536);

    public void Dispose()
    {
        _node.Dispose();
        _other.Dispose();
    }

    private NodeRecord Record(NodeStatus status = NodeStatus.Active, long lastEpoch = 3, IReadOnlyList<string>? capabilities = null) =>
        new(Federation, _node.Fingerprint, TrustLevel.Federated, SyncPolicy.Bidirectional, capabilities ?? ["ingest.v1", "delta.vector.v1"], status, "session-1", "fed1.membership:7", lastEpoch);

    private IngestContext Context(NodeRecord? node = null, SignedEnvelope? previous = null, long? closing = null) =>
        new(Federation, _policy, node ?? Record(), 5, closing, State5, new Dictionary<long, Sha256Digest> { [4] = State4, [5] = State5 }, previous);

    private byte[] Signed(Func<MetaUpdate, MetaUpdate>? change = null, UpdateDelta? delta = null, Ed25519PrivateKey? signer = null, long epoch = 5, Sha256Digest? baseState = null)
    {
        var (payload, hash) = (delta ?? UpdateDelta.Vector([0.1, 0.2, 0.3, 0.4])).Encode();
        var update = MetaUpdate.Create(Federation, epoch, _node.Fingerprint, hash, "fed1.membership:7", baseState ?? State5, payload);
        update = change?.Invoke(update) ?? update;
        return SignedEnvelope.Sign(update, new Ed25519Signer(signer ?? _node)).ToCanonicalJson();
    }

    private IngestDecision Run(byte[] message, IngestContext? context = null)
    {
        var (verified, refusal) = UpdateValidator.Verify(message, _policy);
        return refusal ?? UpdateValidator.Decide(verified!, context ?? Context()).Decision;
    }

    private void Refused(RefusalCode code, string text, byte[] message, IngestContext? context = null)
    {
        var decision = Run(message, context);
        Assert.Equal(Disposition.Refused, decision.Disposition);
        Assert.Equal(code, decision.Code);
        Assert.Contains(text, decision.Message);
    }

    [Fact]
    public void A_valid_update_for_the_open_epoch_is_accepted()
    {
        var decision = Run(Signed());
        Assert.Equal(Disposition.Accepted, decision.Disposition);
        Assert.Equal("accepted for epoch 5", decision.Message);
    }

    [Fact]
    public void An_acceptance_names_its_own_epoch_as_epochs_alternate()
    {
        // The acceptance is shared per epoch once made: another epoch's must never come back.
        foreach (var epoch in new long[] { 5, 6, 5, 7, 7, 5 })
        {
            var context = new IngestContext(Federation, _policy, Record(), epoch, null, State5, new Dictionary<long, Sha256Digest>(), null);
            var decision = Run(Signed(epoch: epoch), context);
            Assert.Equal((Disposition.Accepted, $"accepted for epoch {epoch}"), (decision.Disposition, decision.Message));
        }
    }

    [Fact]
    public void Missing_signature() =>
        Refused(RefusalCode.MissingSignature, "not signed", Encoding.UTF8.GetBytes(SignedEnvelope.Parse(Signed()).Payload.ToJsonString()));

    [Fact]
    public void Forged_signature()
    {
        var text = Encoding.UTF8.GetString(Signed());
        var tampered = text.Replace("\"federated_epoch\":5", "\"federated_epoch\":5.0").Replace("fed1.membership:7", "fed1.membership:8");
        Refused(RefusalCode.BadSignature, "does not verify", Encoding.UTF8.GetBytes(tampered));
    }

    [Fact]
    public void Signature_by_another_key_than_the_named_node() =>
        Refused(RefusalCode.BadSignature, "not by the node it names", Signed(signer: _other));

    [Fact]
    public void Malformed_signature_value()
    {
        var obj = JsonNode.Parse(Signed())!.AsObject();
        obj["signature"]!["value"] = "AAAA";
        Refused(RefusalCode.MalformedMessage, "64-byte Ed25519 signature", Encoding.UTF8.GetBytes(obj.ToJsonString()));
    }

    [Theory]
    [InlineData("not json at all", RefusalCode.MalformedMessage)]
    [InlineData("[]", RefusalCode.MalformedMessage)]
    [InlineData("""{"type":"meta_update"}""", RefusalCode.MissingSignature)]
    [InlineData("""{"type":"federation_hello","signature":{"alg":"ed25519","key":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","value":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}}""", RefusalCode.MalformedMessage)]
    public void Malformed_messages_are_refused_before_any_check(string text, RefusalCode code) =>
        Assert.Equal(code, Run(Encoding.UTF8.GetBytes(text)).Code);

    [Fact]
    public void Unknown_members_make_a_message_malformed()
    {
        var obj = SignedEnvelope.Parse(Signed()).Payload;
        obj["extra"] = 1;
        var message = SignedEnvelope.Sign(obj, new Ed25519Signer(_node)).ToCanonicalJson();
        Refused(RefusalCode.MalformedMessage, "not a MetaUpdate", message);
    }

    [Fact]
    public void Oversized_message() =>
        Refused(RefusalCode.OversizedMessage, "over the limit", new byte[UpdateValidator.MaxMessageBytes(_policy) + 1]);

    [Fact]
    public void Wrong_federation() =>
        Refused(RefusalCode.WrongFederation, "not \"fed1\"", Signed(u => u with { FederationId = "fed2" }));

    [Fact]
    public void Unknown_node()
    {
        var (verified, _) = UpdateValidator.Verify(Signed(), _policy);
        var decision = UpdateValidator.Decide(verified!, Context() with { Node = null }).Decision;
        Assert.Equal(RefusalCode.UnknownNode, decision.Code);
    }

    [Theory]
    [InlineData(NodeStatus.Revoked, RefusalCode.RevokedNode, "revoked")]
    [InlineData(NodeStatus.Excluded, RefusalCode.ExcludedNode, "excluded")]
    [InlineData(NodeStatus.Quarantined, RefusalCode.QuarantinedNode, "quarantined")]
    [InlineData(NodeStatus.Pending, RefusalCode.PendingNode, "handshake")]
    [InlineData(NodeStatus.Departed, RefusalCode.DepartedNode, "left")]
    public void Nodes_not_in_good_standing_are_refused(NodeStatus status, RefusalCode code, string text) =>
        Refused(code, text, Signed(), Context(Record(status)));

    [Fact]
    public void Wrong_ledger_block() =>
        Refused(RefusalCode.WrongLedgerBlock, "not the node's recorded session", Signed(u => u with { LedgerBlockId = "fed1.membership:99" }));

    [Fact]
    public void Future_epoch() => Refused(RefusalCode.FutureEpoch, "the open epoch is 5", Signed(epoch: 6));

    [Fact]
    public void Stale_epoch() => Refused(RefusalCode.StaleEpoch, "monotonic", Signed(epoch: 3, baseState: State4));

    [Fact]
    public void Closed_epoch_says_which_epoch_is_open() =>
        Refused(RefusalCode.EpochClosed, "epoch closed", Signed(), Context(closing: 5) with { OpenEpoch = 6 });

    [Fact]
    public void Hash_mismatch() =>
        Refused(RefusalCode.HashMismatch, "not the hash of the payload", Signed(u => u with { UpdateHash = Sha256Digest.Of("other"u8) }));

    [Fact]
    public void Payload_that_is_not_base64() =>
        Refused(RefusalCode.MalformedPayload, "base64", Signed(u => u with { Payload = "%%%" }));

    [Fact]
    public void Payload_that_is_not_deflate()
    {
        var bytes = "definitely not deflate"u8.ToArray();
        Refused(RefusalCode.MalformedPayload, "DEFLATE", Signed(u => u with { Payload = Convert.ToBase64String(bytes), UpdateHash = Sha256Digest.Of(bytes) }));
    }

    [Fact]
    public void Payload_with_the_wrong_dimension() =>
        Refused(RefusalCode.MalformedPayload, "dimension is 4", Signed(delta: UpdateDelta.Vector([1, 2, 3])));

    [Fact]
    public void Oversized_payload()
    {
        var big = new byte[5000];
        new Random(1).NextBytes(big);
        Refused(RefusalCode.OversizedPayload, "limit of 4096", Signed(u => u with { Payload = Convert.ToBase64String(big), UpdateHash = Sha256Digest.Of(big) }));
    }

    [Fact]
    public void Decompression_bombs_stop_at_the_limit()
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(new byte[1_000_000]);
        }

        var bomb = output.ToArray();
        Assert.True(bomb.Length < 4096);
        Refused(RefusalCode.OversizedPayload, "inflates past", Signed(u => u with { Payload = Convert.ToBase64String(bomb), UpdateHash = Sha256Digest.Of(bomb) }));
    }

    [Fact]
    public void Capability_incompatible_node() =>
        Refused(RefusalCode.CapabilityIncompatible, "lacks ingest.v1", Signed(), Context(Record(capabilities: ["delta.vector.v1"])));

    [Fact]
    public void Delta_kind_the_federation_does_not_aggregate() =>
        Refused(RefusalCode.CapabilityIncompatible, "aggregates vector deltas, not canon", Signed(delta: UpdateDelta.Canon(new Dictionary<string, CanonEntry> { ["sig-1"] = new(2, 0.9, "p") })));

    [Fact]
    public void Base_state_mismatch() =>
        Refused(RefusalCode.BaseStateMismatch, "not the global state of epoch 5", Signed(baseState: Sha256Digest.Of("stale"u8)));

    [Fact]
    public void The_same_update_twice_is_a_duplicate_not_a_refusal()
    {
        var message = Signed();
        var previous = SignedEnvelope.Parse(message);
        var decision = Run(message, Context(previous: previous));
        Assert.Equal(Disposition.Duplicate, decision.Disposition);
        Assert.True(decision.IsAcknowledged);
    }

    [Fact]
    public void Two_different_updates_for_one_epoch_are_equivocation_with_verifiable_evidence()
    {
        var first = SignedEnvelope.Parse(Signed());
        var second = Signed(delta: UpdateDelta.Vector([9, 9, 9, 9]));
        var (verified, _) = UpdateValidator.Verify(second, _policy);
        var (decision, evidence) = UpdateValidator.Decide(verified!, Context(previous: first));
        Assert.Equal(RefusalCode.Equivocation, decision.Code);
        Assert.NotNull(evidence);
        Assert.Empty(evidence.Verify());

        // Offline: the evidence survives a round trip through JSON and still verifies.
        var reloaded = EquivocationEvidence.FromJson(JsonNode.Parse(evidence.ToJson().ToJsonString())!.AsObject());
        Assert.Empty(reloaded.Verify());
        Assert.Equal(evidence.Hash(), reloaded.Hash());

        // Evidence built from a duplicate, or with a forged message, does not verify.
        Assert.NotEmpty(new EquivocationEvidence(first, first).Verify());
        var forged = SignedEnvelope.Parse(Signed(delta: UpdateDelta.Vector([7, 7, 7, 7]), signer: _other));
        Assert.NotEmpty(EquivocationEvidence.Create(first, forged).Verify());
    }

    [Fact]
    public void A_cached_update_for_a_closed_epoch_is_late_not_refused()
    {
        var decision = Run(Signed(epoch: 4, baseState: State4), Context(Record(lastEpoch: 2)));
        Assert.Equal(Disposition.Late, decision.Disposition);
        Assert.Contains("recorded as late", decision.Message);
    }

    [Fact]
    public void A_late_update_must_build_on_its_own_epoch_state() =>
        Refused(RefusalCode.BaseStateMismatch, "epoch 4", Signed(epoch: 4, baseState: State5), Context(Record(lastEpoch: 2)));

    [Fact]
    public void A_late_update_for_an_epoch_whose_state_the_coordinator_does_not_know_is_refused() =>
        Refused(RefusalCode.BaseStateMismatch, "global state of epoch 3 (unknown)", Signed(epoch: 3, baseState: State4), Context(Record(lastEpoch: 2)));

    [Fact]
    public void Refusal_codes_have_snake_case_wire_names()
    {
        Assert.Equal("bad_signature", IngestDecision.WireName(RefusalCode.BadSignature));
        Assert.Equal("base_state_mismatch", IngestDecision.WireName(RefusalCode.BaseStateMismatch));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_verified_update_reread_from_its_message_is_the_same_update(bool spacedOut)
    {
        // Plain canonical input takes the one-pass reader; input with whitespace took the general parse when admitted.
        var message = Signed();
        if (spacedOut)
        {
            message = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(message).Replace(",", ", "));
        }

        var (verified, refusal) = UpdateValidator.Verify(message, _policy);
        Assert.Null(refusal);

        var again = UpdateValidator.Reread(verified!.Envelope.ToCanonicalJson());

        Assert.Equal(verified.Update, again.Update);
        Assert.Equal(verified.PayloadBytes, again.PayloadBytes);
        Assert.Equal(verified.Envelope.SignedBytes, again.Envelope.SignedBytes);
        Assert.Equal(verified.Envelope.Signature.Value, again.Envelope.Signature.Value);
        Assert.Equal(verified.Envelope.Signature.KeyId, again.Envelope.Signature.KeyId);
        Assert.Equal(verified.Envelope.ToCanonicalJson(), again.Envelope.ToCanonicalJson());
        Assert.Equal(Run(message), UpdateValidator.Decide(again, Context()).Decision);
    }

    [Fact]
    public void Rereading_something_that_is_not_a_signed_update_fails() =>
        Assert.ThrowsAny<FormatException>(() => UpdateValidator.Reread("{\"type\":\"meta_update\"}"u8.ToArray()));
}

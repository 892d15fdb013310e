using System.Text;
using Federation.Core.Checkpoints;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Merkle;
using Federation.Core.Protocol;
using Federation.Core.Signing;

namespace Federation.Core.Tests.Membership;

public sealed class HandshakeTests : IDisposable
{
    private const string Federation = "fed1";
    private readonly Ed25519PrivateKey _node = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)11, 32).ToArray());
    private readonly Ed25519PrivateKey _governance = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)12, 32).ToArray());
    private readonly FederationPolicy _policy = new(Federation, AggregationKind.Vector, ["ingest.v1"]);

    public void Dispose()
    {
        _node.Dispose();
        _governance.Dispose();
    }

    private NodeRecord Registered(NodeStatus status = NodeStatus.Pending) =>
        new(Federation, _node.Fingerprint, TrustLevel.Federated, SyncPolicy.PullApprovedOnly, ["ingest.v1", "delta.vector.v1"], status);

    private byte[] Hello(IReadOnlyList<string>? capabilities = null, string federation = Federation, Ed25519PrivateKey? signer = null) =>
        SignedEnvelope.Sign(FederationHello.Create(federation, _node.Fingerprint, "1.0.0", capabilities ?? ["ingest.v1", "delta.vector.v1"], "n1"), new Ed25519Signer(signer ?? _node)).ToCanonicalJson();

    [Fact]
    public void The_full_handshake_produces_a_session_the_node_counter_signs()
    {
        var (hello, helloHash) = Handshake.CheckHello(Hello(), Federation, Registered(), _policy);
        var sessionId = Handshake.SessionId(Federation, hello.NodeFingerprint, helloHash, 0);
        var accept = SignedEnvelope.Sign(FederationAccept.Create(Federation, hello.NodeFingerprint, sessionId, 5, _policy.Hash(), helloHash), new Ed25519Signer(_governance));
        var ack = SignedEnvelope.Sign(SessionAck.Create(Federation, _node.Fingerprint, sessionId, Sha256Digest.Of(accept.SignedBytes)), new Ed25519Signer(_node));

        var checkedAck = Handshake.CheckSessionAck(ack.ToCanonicalJson(), accept);
        Assert.Equal(sessionId, checkedAck.SessionId);
        Assert.True(accept.Verify(Ed25519Verifier.Trusting(_governance.PublicKey)).IsValid);
        Assert.Equal(sessionId, Handshake.SessionId(Federation, hello.NodeFingerprint, helloHash, 0));
        Assert.NotEqual(sessionId, Handshake.SessionId(Federation, hello.NodeFingerprint, helloHash, 1));
    }

    [Fact]
    public void A_hello_from_an_unregistered_node_is_refused() =>
        Assert.Equal(RefusalCode.UnknownNode, Assert.Throws<HandshakeException>(() => Handshake.CheckHello(Hello(), Federation, null, _policy)).Code);

    [Theory]
    [InlineData(NodeStatus.Revoked, RefusalCode.RevokedNode)]
    [InlineData(NodeStatus.Excluded, RefusalCode.ExcludedNode)]
    [InlineData(NodeStatus.Quarantined, RefusalCode.QuarantinedNode)]
    public void A_hello_from_a_node_not_in_good_standing_is_refused(NodeStatus status, RefusalCode code) =>
        Assert.Equal(code, Assert.Throws<HandshakeException>(() => Handshake.CheckHello(Hello(), Federation, Registered(status), _policy)).Code);

    [Fact]
    public void A_hello_without_the_required_capabilities_is_refused_naming_them()
    {
        var ex = Assert.Throws<HandshakeException>(() => Handshake.CheckHello(Hello(["delta.vector.v1"]), Federation, Registered(), _policy));
        Assert.Equal(RefusalCode.CapabilityIncompatible, ex.Code);
        Assert.Contains("ingest.v1", ex.Message);
    }

    [Fact]
    public void A_hello_for_another_federation_or_signed_by_another_key_is_refused()
    {
        Assert.Equal(RefusalCode.WrongFederation, Assert.Throws<HandshakeException>(() => Handshake.CheckHello(Hello(federation: "fed2"), Federation, Registered(), _policy)).Code);
        Assert.Equal(RefusalCode.BadSignature, Assert.Throws<HandshakeException>(() => Handshake.CheckHello(Hello(signer: _governance), Federation, Registered(), _policy)).Code);
    }

    [Fact]
    public void A_message_of_another_type_is_not_a_hello()
    {
        var ack = SignedEnvelope.Sign(SessionAck.Create(Federation, _node.Fingerprint, "s", Sha256Digest.Of([])), new Ed25519Signer(_node)).ToCanonicalJson();
        Assert.Equal(RefusalCode.MalformedMessage, Assert.Throws<HandshakeException>(() => Handshake.CheckHello(ack, Federation, Registered(), _policy)).Code);
    }

    [Fact]
    public void A_session_ack_for_another_accept_or_by_another_node_is_refused()
    {
        var (_, helloHash) = Handshake.CheckHello(Hello(), Federation, Registered(), _policy);
        var accept = SignedEnvelope.Sign(FederationAccept.Create(Federation, _node.Fingerprint, "s-1", 5, _policy.Hash(), helloHash), new Ed25519Signer(_governance));
        var wrongHash = SignedEnvelope.Sign(SessionAck.Create(Federation, _node.Fingerprint, "s-1", Sha256Digest.Of([1])), new Ed25519Signer(_node)).ToCanonicalJson();
        Assert.Equal(RefusalCode.HashMismatch, Assert.Throws<HandshakeException>(() => Handshake.CheckSessionAck(wrongHash, accept)).Code);
        var wrongSession = SignedEnvelope.Sign(SessionAck.Create(Federation, _node.Fingerprint, "s-2", Sha256Digest.Of(accept.SignedBytes)), new Ed25519Signer(_node)).ToCanonicalJson();
        Assert.Equal(RefusalCode.MalformedMessage, Assert.Throws<HandshakeException>(() => Handshake.CheckSessionAck(wrongSession, accept)).Code);
        var byGovernance = SignedEnvelope.Sign(SessionAck.Create(Federation, _governance.Fingerprint, "s-1", Sha256Digest.Of(accept.SignedBytes)), new Ed25519Signer(_governance)).ToCanonicalJson();
        Assert.Equal(RefusalCode.BadSignature, Assert.Throws<HandshakeException>(() => Handshake.CheckSessionAck(byGovernance, accept)).Code);
    }

    [Fact]
    public void A_lying_ledger_head_yields_evidence_that_verifies_offline()
    {
        var tree = new MerkleTree();
        for (var i = 0; i < 20; i++)
        {
            tree.AppendData(Encoding.UTF8.GetBytes("r" + i));
        }

        var signer = new NoteSigner("federation-orleans/fed1.updates", _governance);
        var checkpoint = new Checkpoint(signer.Name, 20, tree.Root()).Sign(signer);
        var honest = Heartbeat.Create(Federation, _node.Fingerprint, "fed1.updates", 12, tree.Root(12), 1);
        var lying = honest with { Root = Sha256Digest.Of("forged"u8) };
        Assert.Equal(HeadVerdict.Consistent, LedgerHeadCheck.Check(honest, tree.Size, tree.Root));
        Assert.Equal(HeadVerdict.Divergent, LedgerHeadCheck.Check(lying, tree.Size, tree.Root));
        Assert.Equal(HeadVerdict.Ahead, LedgerHeadCheck.Check(honest with { Size = 21 }, tree.Size, tree.Root));

        var signedLie = SignedEnvelope.Sign(lying, new Ed25519Signer(_node));
        var evidence = new LedgerDivergenceEvidence(signedLie, checkpoint, tree.Root(12), tree.ConsistencyProof(12, 20));
        Assert.Empty(evidence.Verify([signer.VerifierKey]));

        // The same evidence built on the honest head proves nothing.
        var notEvidence = evidence with { Heartbeat = SignedEnvelope.Sign(honest, new Ed25519Signer(_node)) };
        Assert.Contains(notEvidence.Verify([signer.VerifierKey]), f => f.Contains("no divergence"));
        // A coordinator cannot frame the node with a root its own checkpoint does not commit to.
        var framed = evidence with { CoordinatorRootAtSize = tree.Root(11) };
        Assert.Contains(framed.Verify([signer.VerifierKey]), f => f.Contains("consistency proof"));
    }
}

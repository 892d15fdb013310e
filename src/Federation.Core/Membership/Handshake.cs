using Federation.Core.Canonical;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Protocol;
using Federation.Core.Signing;

namespace Federation.Core.Membership;

/// <summary>A handshake step that could not go on, with the reason code and a message for the node.</summary>
public sealed class HandshakeException(RefusalCode code, string message) : Exception(message)
{
    public RefusalCode Code { get; } = code;

    public string CodeName => IngestDecision.WireName(Code);
}

/// <summary>
/// SPEC A's joining handshake, as pure checks: Hello (signed by the node) → Accept (signed by
/// governance) → SessionAck (the node's counter-signature, sealed in the membership scroll; its
/// receipt id becomes the node's ledger_block_id).
/// </summary>
public static class Handshake
{
    /// <summary>Hello, Accept and SessionAck messages are small; anything larger is refused unread.</summary>
    public const int MaxMessageBytes = 16 * 1024;

    /// <summary>Checks a signed hello against the registry record and the policy; returns the hello and its hash.</summary>
    public static (FederationHello Hello, Sha256Digest HelloHash) CheckHello(ReadOnlySpan<byte> message, string federationId, NodeRecord? registered, FederationPolicy policy)
    {
        var (envelope, hello) = Open<FederationHello>(message, MessageTypes.Hello, h => h.NodeFingerprint);
        if (hello.FederationId != federationId)
        {
            throw new HandshakeException(RefusalCode.WrongFederation, $"the hello is for federation \"{hello.FederationId}\", not \"{federationId}\"");
        }

        if (registered is null)
        {
            throw new HandshakeException(RefusalCode.UnknownNode, $"node {hello.NodeFingerprint} is not registered in federation \"{federationId}\": ask governance to register its key");
        }

        switch (registered.Status)
        {
            case NodeStatus.Revoked:
                throw new HandshakeException(RefusalCode.RevokedNode, $"node {hello.NodeFingerprint}'s key was revoked");
            case NodeStatus.Excluded:
                throw new HandshakeException(RefusalCode.ExcludedNode, $"node {hello.NodeFingerprint} is excluded from the federation");
            case NodeStatus.Quarantined:
                throw new HandshakeException(RefusalCode.QuarantinedNode, $"node {hello.NodeFingerprint} is quarantined pending governance review");
        }

        var needed = policy.RequiredCapabilities.Append(FederationPolicy.CapabilityFor(policy.Aggregation)).Distinct();
        var missing = needed.Where(c => !hello.SupportedCapabilities.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            throw new HandshakeException(RefusalCode.CapabilityIncompatible, $"capability incompatible with the federation policy: the node does not support {string.Join(", ", missing)}");
        }

        return (hello, Sha256Digest.Of(envelope.SignedBytes));
    }

    /// <summary>
    /// The session id: deterministic from the hello and the node's join count, so simulations replay
    /// bit for bit and a replayed hello maps to the same session.
    /// </summary>
    public static string SessionId(string federationId, KeyFingerprint node, Sha256Digest helloHash, long joinCount)
    {
        var digest = Sha256Digest.Of(CanonicalJson.Write(new System.Text.Json.Nodes.JsonObject
        {
            ["federation_id"] = federationId,
            ["node"] = node.ToString(),
            ["hello"] = helloHash.ToString(),
            ["join"] = joinCount,
        }));
        return "s-" + digest.ToHex()[..32];
    }

    /// <summary>Checks the node's counter-signature of its accept.</summary>
    public static SessionAck CheckSessionAck(ReadOnlySpan<byte> message, SignedEnvelope accept)
    {
        var acceptPayload = accept.PayloadAs<FederationAccept>();
        var (_, ack) = Open<SessionAck>(message, MessageTypes.SessionAck, a => a.NodeFingerprint);
        if (ack.NodeFingerprint != acceptPayload.NodeFingerprint)
        {
            throw new HandshakeException(RefusalCode.BadSignature, $"the session was accepted for {acceptPayload.NodeFingerprint}, not {ack.NodeFingerprint}");
        }

        if (ack.SessionId != acceptPayload.SessionId || ack.FederationId != acceptPayload.FederationId)
        {
            throw new HandshakeException(RefusalCode.MalformedMessage, $"the acknowledgement names session {ack.SessionId}, the accept was for {acceptPayload.SessionId}");
        }

        var acceptHash = Sha256Digest.Of(accept.SignedBytes);
        if (ack.AcceptHash != acceptHash)
        {
            throw new HandshakeException(RefusalCode.HashMismatch, $"accept_hash {ack.AcceptHash} is not the hash of the accept ({acceptHash})");
        }

        return ack;
    }

    /// <summary>Parses a signed message of one type and checks it is signed by the node it names.</summary>
    public static (SignedEnvelope Envelope, T Payload) Open<T>(ReadOnlySpan<byte> message, string type, Func<T, KeyFingerprint> signerOf)
    {
        if (message.Length > MaxMessageBytes)
        {
            throw new HandshakeException(RefusalCode.OversizedMessage, $"the message is {message.Length} bytes, over the limit of {MaxMessageBytes}");
        }

        SignedEnvelope envelope;
        T payload;
        try
        {
            envelope = SignedEnvelope.Parse(message);
        }
        catch (FormatException ex)
        {
            throw new HandshakeException(ex.Message.Contains("no \"signature\"", StringComparison.Ordinal) ? RefusalCode.MissingSignature : RefusalCode.MalformedMessage, ex.Message);
        }

        try
        {
            payload = envelope.PayloadAs<T>();
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or ArgumentException)
        {
            throw new HandshakeException(RefusalCode.MalformedMessage, $"expected a {type} message: {ex.Message}");
        }

        var actualType = envelope.Payload["type"]?.GetValue<string>();
        if (actualType != type)
        {
            throw new HandshakeException(RefusalCode.MalformedMessage, $"expected a {type} message, got \"{actualType}\"");
        }

        var signer = signerOf(payload);
        Ed25519PublicKey key;
        try
        {
            key = Ed25519PublicKey.FromFingerprint(signer);
        }
        catch (FormatException ex)
        {
            throw new HandshakeException(RefusalCode.MalformedMessage, $"{signer} is not a usable key: {ex.Message}");
        }

        var check = envelope.Verify(Ed25519Verifier.Trusting(key));
        if (!check.IsValid)
        {
            throw new HandshakeException(RefusalCode.BadSignature, check.Failure == SignatureFailure.UnknownKey ? $"the {type} is not signed by {signer}" : check.Detail);
        }

        return (envelope, payload);
    }
}

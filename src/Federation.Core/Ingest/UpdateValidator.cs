using System.Text.Json;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Signing;

namespace Federation.Core.Ingest;

/// <summary>What the coordinator knows when an update arrives (gathered by the grains; the check itself is pure).</summary>
/// <param name="Node">The registry record of the update's claimed node, or null when unknown.</param>
/// <param name="OpenEpoch">The epoch accepting updates.</param>
/// <param name="ClosingEpoch">An epoch that has closed but not committed yet (updates for it are refused as "epoch closed"), or null.</param>
/// <param name="OpenStateHash">The global state hash the open epoch's updates must build on.</param>
/// <param name="BaseStates">The global state hash each epoch built on (for late updates: an epoch missing here is unknown).</param>
/// <param name="PreviousForEpoch">The node's update already accepted for the same epoch, if any.</param>
/// <remarks>A value (one per update on the hot path, passed down once): no allocation.</remarks>
public readonly record struct IngestContext(
    string FederationId,
    FederationPolicy Policy,
    NodeRecord? Node,
    long OpenEpoch,
    long? ClosingEpoch,
    Sha256Digest OpenStateHash,
    IReadOnlyDictionary<long, Sha256Digest> BaseStates,
    SignedEnvelope? PreviousForEpoch);

/// <summary>A parsed, signature-checked update, ready for the context checks.</summary>
public sealed record VerifiedUpdate(SignedEnvelope Envelope, MetaUpdate Update, byte[] PayloadBytes)
{
    /// <summary>SHA-256 of the signed bytes: what the update scroll seals and indexes the update by (hashed once, here).</summary>
    public Sha256Digest SignedHash { get; } = Sha256Digest.Of(Envelope.SignedBytes);
}

/// <summary>
/// SPEC A/D checks of a signed <see cref="MetaUpdate"/>, in an order that tells a forger nothing:
/// shape and size, then the signature by the claimed node key, then registry standing, session,
/// epoch, payload, hash, capability and base state, then duplicates and equivocation.
/// </summary>
public static class UpdateValidator
{
    /// <summary>A signed update larger than this is refused before parsing (base64 payload plus envelope).</summary>
    public static int MaxMessageBytes(FederationPolicy policy) => policy.MaxPayloadBytes / 3 * 4 + 16 * 1024;

    /// <summary>Stateless checks: parse, size, signature by the claimed node. Safe to run in parallel before any grain is involved.</summary>
    /// <param name="resolveKey">Maps a fingerprint to its key; lets a gateway cache imported keys (the point check of an import costs about half a verify).</param>
    public static (VerifiedUpdate? Update, IngestDecision? Refusal) Verify(ReadOnlySpan<byte> message, FederationPolicy policy, Func<KeyFingerprint, Ed25519PublicKey>? resolveKey = null) =>
        Verify(message, null, policy, resolveKey);

    /// <summary><see cref="Verify(ReadOnlySpan{byte}, FederationPolicy, Func{KeyFingerprint, Ed25519PublicKey}?)"/> of a message handed over: the update keeps the array (see <see cref="SignedEnvelope.ParseOwned"/>).</summary>
    public static (VerifiedUpdate? Update, IngestDecision? Refusal) VerifyOwned(byte[] message, FederationPolicy policy, Func<KeyFingerprint, Ed25519PublicKey>? resolveKey = null) =>
        Verify(message, message, policy, resolveKey);

    private static (VerifiedUpdate? Update, IngestDecision? Refusal) Verify(ReadOnlySpan<byte> message, byte[]? owned, FederationPolicy policy, Func<KeyFingerprint, Ed25519PublicKey>? resolveKey)
    {
        if (message.Length > MaxMessageBytes(policy))
        {
            return (null, IngestDecision.Refuse(RefusalCode.OversizedMessage, $"the message is {message.Length} bytes, over the limit of {MaxMessageBytes(policy)}"));
        }

        // The plain shape in one pass (what nodes send); anything else through the general parse and its errors.
        if (owned is not null && MetaUpdateReader.TryReadSigned(owned) is var (plainEnvelope, plainUpdate))
        {
            return Verified(plainEnvelope, plainUpdate, policy, resolveKey);
        }

        SignedEnvelope envelope;
        try
        {
            envelope = owned is null ? SignedEnvelope.Parse(message) : SignedEnvelope.ParseOwned(owned);
        }
        catch (FormatException ex) when (ex.Message.Contains("no \"signature\" member", StringComparison.Ordinal))
        {
            return (null, IngestDecision.Refuse(RefusalCode.MissingSignature, "the update is not signed: it has no \"signature\" member"));
        }
        catch (FormatException ex)
        {
            return (null, IngestDecision.Refuse(RefusalCode.MalformedMessage, $"the update is malformed: {ex.Message}"));
        }

        MetaUpdate update;
        try
        {
            // The plain canonical shape without the reflection serializer; anything else through it (same records, its errors).
            update = MetaUpdateReader.TryRead(envelope.SignedBytes) ?? envelope.PayloadAs<MetaUpdate>();
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException)
        {
            return (null, IngestDecision.Refuse(RefusalCode.MalformedMessage, $"the update is not a MetaUpdate: {ex.Message}"));
        }

        return Verified(envelope, update, policy, resolveKey);
    }

    /// <summary>
    /// The <see cref="VerifiedUpdate"/> again from its signed message (<see cref="SignedEnvelope.ToCanonicalJson"/>), in a
    /// process the update reaches after <see cref="VerifyOwned"/> admitted it: a grain call between silos carries the
    /// message, not the parsed records. Parsed as <see cref="VerifyOwned"/> parses it, with the same records as the result;
    /// the signature is not checked again, so this is never for a message from outside the cluster. Keeps the array.
    /// </summary>
    /// <exception cref="FormatException">The message is not a signed update in the form an admitted one has.</exception>
    public static VerifiedUpdate Reread(byte[] verifiedMessage)
    {
        var (envelope, update) = MetaUpdateReader.TryReadSigned(verifiedMessage) is var (plainEnvelope, plainUpdate)
            ? (plainEnvelope, plainUpdate)
            : ReadGeneral(verifiedMessage);
        return new VerifiedUpdate(envelope, update, Convert.FromBase64String(update.Payload));

        static (SignedEnvelope, MetaUpdate) ReadGeneral(byte[] message)
        {
            var envelope = SignedEnvelope.ParseOwned(message);
            return (envelope, MetaUpdateReader.TryRead(envelope.SignedBytes) ?? envelope.PayloadAs<MetaUpdate>());
        }
    }

    // The checks after parsing: type, the claimed node's key, the signature by it, the payload's base64.
    private static (VerifiedUpdate? Update, IngestDecision? Refusal) Verified(SignedEnvelope envelope, MetaUpdate update, FederationPolicy policy, Func<KeyFingerprint, Ed25519PublicKey>? resolveKey)
    {
        if (update.Type != MessageTypes.MetaUpdate)
        {
            return (null, IngestDecision.Refuse(RefusalCode.MalformedMessage, $"expected a {MessageTypes.MetaUpdate} message, got \"{update.Type}\""));
        }

        Ed25519PublicKey nodeKey;
        try
        {
            nodeKey = resolveKey is null ? Ed25519PublicKey.FromFingerprint(update.NodeFingerprint) : resolveKey(update.NodeFingerprint);
        }
        catch (FormatException ex)
        {
            return (null, IngestDecision.Refuse(RefusalCode.MalformedMessage, $"node_fingerprint is not a usable key: {ex.Message}"));
        }

        // Ed25519Verifier.Trusting(nodeKey)'s checks and words, without building a verifier per update.
        var signature = envelope.Signature;
        if (signature.Algorithm != SignatureBlock.Ed25519)
        {
            return (null, IngestDecision.Refuse(RefusalCode.BadSignature, $"expected an {SignatureBlock.Ed25519} signature, got {signature.Algorithm}"));
        }

        if (signature.KeyId != nodeKey.ToHex())
        {
            return (null, IngestDecision.Refuse(RefusalCode.BadSignature, $"the update is signed by ed25519:{signature.KeyId}, not by the node it names ({update.NodeFingerprint})"));
        }

        if (!nodeKey.Verify(envelope.SignedBytes, signature.Value))
        {
            return (null, IngestDecision.Refuse(RefusalCode.BadSignature, $"ed25519 signature by {nodeKey.Fingerprint} does not verify"));
        }

        byte[] payload;
        try
        {
            payload = UpdatePayload.DecodeBase64(update.Payload, policy);
        }
        catch (PayloadException ex)
        {
            return (null, IngestDecision.Refuse(ex.Code, ex.Message));
        }

        return (new VerifiedUpdate(envelope, update, payload), null);
    }

    /// <summary>The checks that need the coordinator's state. Returns the decision and, for equivocation, its evidence.</summary>
    public static (IngestDecision Decision, EquivocationEvidence? Evidence) Decide(VerifiedUpdate verified, in IngestContext context)
    {
        var update = verified.Update;
        if (update.FederationId != context.FederationId)
        {
            return (IngestDecision.Refuse(RefusalCode.WrongFederation, $"the update is for federation \"{update.FederationId}\", not \"{context.FederationId}\""), null);
        }

        var node = context.Node;
        if (node is null)
        {
            return (IngestDecision.Refuse(RefusalCode.UnknownNode, $"node {update.NodeFingerprint} is not registered in federation \"{context.FederationId}\""), null);
        }

        var standing = node.Status switch
        {
            NodeStatus.Active => null,
            NodeStatus.Pending => IngestDecision.Refuse(RefusalCode.PendingNode, $"node {node.Fingerprint} has not completed the joining handshake"),
            NodeStatus.Revoked => IngestDecision.Refuse(RefusalCode.RevokedNode, $"node {node.Fingerprint}'s key was revoked{Reason(node)}"),
            NodeStatus.Excluded => IngestDecision.Refuse(RefusalCode.ExcludedNode, $"node {node.Fingerprint} is excluded from the federation{Reason(node)}"),
            NodeStatus.Quarantined => IngestDecision.Refuse(RefusalCode.QuarantinedNode, $"node {node.Fingerprint} is quarantined pending governance review{Reason(node)}"),
            NodeStatus.Departed => IngestDecision.Refuse(RefusalCode.DepartedNode, $"node {node.Fingerprint} has left the federation; rejoin with a new handshake"),
            _ => IngestDecision.Refuse(RefusalCode.UnknownNode, $"node {node.Fingerprint} has an unknown status"),
        };
        if (standing is not null)
        {
            return (standing, null);
        }

        if (node.LedgerBlockId is null || update.LedgerBlockId != node.LedgerBlockId)
        {
            return (IngestDecision.Refuse(RefusalCode.WrongLedgerBlock, $"ledger_block_id \"{update.LedgerBlockId}\" is not the node's recorded session ({node.LedgerBlockId ?? "none"})"), null);
        }

        // The same node, the same epoch: the same signed bytes are a duplicate; different ones are equivocation.
        if (context.PreviousForEpoch is { } previous)
        {
            if (previous.SignedBytes.AsSpan().SequenceEqual(verified.Envelope.SignedBytes))
            {
                return (IngestDecision.Duplicate($"update for epoch {update.FederatedEpoch} already recorded"), null);
            }

            var evidence = EquivocationEvidence.Create(previous, verified.Envelope);
            return (IngestDecision.Refuse(RefusalCode.Equivocation, $"node {node.Fingerprint} signed two different updates for epoch {update.FederatedEpoch}"), evidence);
        }

        if (update.FederatedEpoch > context.OpenEpoch)
        {
            return (IngestDecision.Refuse(RefusalCode.FutureEpoch, $"epoch {update.FederatedEpoch} is not open yet; the open epoch is {context.OpenEpoch}"), null);
        }

        if (update.FederatedEpoch <= node.LastEpoch)
        {
            return (IngestDecision.Refuse(RefusalCode.StaleEpoch, $"epoch {update.FederatedEpoch} is stale: node epochs are monotonic and its last update was for epoch {node.LastEpoch}"), null);
        }

        if (update.FederatedEpoch == context.ClosingEpoch)
        {
            return (IngestDecision.Refuse(RefusalCode.EpochClosed, $"epoch closed: epoch {update.FederatedEpoch} no longer accepts updates; the open epoch is {context.OpenEpoch}"), null);
        }

        var late = update.FederatedEpoch < context.OpenEpoch;
        if (Sha256Digest.Of(verified.PayloadBytes) != update.UpdateHash)
        {
            return (IngestDecision.Refuse(RefusalCode.HashMismatch, $"update_hash {update.UpdateHash} is not the hash of the payload ({Sha256Digest.Of(verified.PayloadBytes)})"), null);
        }

        AggregationKind kind;
        try
        {
            kind = UpdatePayload.Check(verified.PayloadBytes, context.Policy);
        }
        catch (PayloadException ex)
        {
            return (IngestDecision.Refuse(ex.Code, ex.Message), null);
        }

        // The policy's required capabilities, then its aggregation's, each once, in that order (no LINQ per update).
        List<string>? missing = null;
        for (var i = 0; i <= context.Policy.RequiredCapabilities.Count; i++)
        {
            var capability = i < context.Policy.RequiredCapabilities.Count ? context.Policy.RequiredCapabilities[i] : FederationPolicy.CapabilityFor(context.Policy.Aggregation);
            if (!node.Capabilities.Contains(capability) && missing?.Contains(capability) != true)
            {
                (missing ??= []).Add(capability);
            }
        }

        if (missing is not null || kind != context.Policy.Aggregation)
        {
            var what = missing is not null ? $"the node lacks {string.Join(", ", missing)}" : $"the federation aggregates {context.Policy.Aggregation.ToString().ToLowerInvariant()} deltas, not {kind.ToString().ToLowerInvariant()}";
            return (IngestDecision.Refuse(RefusalCode.CapabilityIncompatible, $"capability incompatible with the federation policy: {what}"), null);
        }

        Sha256Digest? expectedBase = !late ? context.OpenStateHash : context.BaseStates.TryGetValue(update.FederatedEpoch, out var closedBase) ? closedBase : null;
        if (expectedBase is null || update.BaseStateHash != expectedBase)
        {
            return (IngestDecision.Refuse(RefusalCode.BaseStateMismatch, $"base_state_hash {update.BaseStateHash} is not the global state of epoch {update.FederatedEpoch} ({expectedBase?.ToString() ?? "unknown"})"), null);
        }

        return late
            ? (IngestDecision.Late($"epoch {update.FederatedEpoch} has closed (open epoch {context.OpenEpoch}): recorded as late, not aggregated"), null)
            : (IngestDecision.AcceptedFor(update.FederatedEpoch), null);
    }

    private static string Reason(NodeRecord node) => node.StatusReason is { Length: > 0 } reason ? $": {reason}" : string.Empty;
}

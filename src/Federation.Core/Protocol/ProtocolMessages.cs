using System.Text.Json.Serialization;
using Federation.Core.Crypto;
using Federation.Core.Hashing;

namespace Federation.Core.Protocol;

/// <summary>
/// The signed messages of SPEC A's identity and synchronisation flow (docs/formats/protocol.md).
/// Every payload carries its own <c>type</c>, so a signature over one kind of message can never be
/// presented as another (signatures cover the bare canonical payload, see signed-envelope.md).
/// </summary>
public static class MessageTypes
{
    public const string Hello = "federation_hello";
    public const string Accept = "federation_accept";
    public const string SessionAck = "session_ack";
    public const string MetaUpdate = "meta_update";
    public const string Heartbeat = "heartbeat";
}

/// <summary>A node asks to join a federation; signed by the node's key.</summary>
public sealed record FederationHello(
    [property: JsonPropertyName("type")] string Type,
    string FederationId,
    KeyFingerprint NodeFingerprint,
    string SoftwareVersion,
    IReadOnlyList<string> SupportedCapabilities,
    string Nonce)
{
    public static FederationHello Create(string federationId, KeyFingerprint node, string softwareVersion, IReadOnlyList<string> capabilities, string nonce) =>
        new(MessageTypes.Hello, federationId, node, softwareVersion, capabilities, nonce);
}

/// <summary>The coordinator's answer, signed by a governance key: the session and the policy the node joins under.</summary>
public sealed record FederationAccept(
    [property: JsonPropertyName("type")] string Type,
    string FederationId,
    KeyFingerprint NodeFingerprint,
    string SessionId,
    long Epoch,
    Sha256Digest PolicyHash,
    Sha256Digest HelloHash)
{
    public static FederationAccept Create(string federationId, KeyFingerprint node, string sessionId, long epoch, Sha256Digest policyHash, Sha256Digest helloHash) =>
        new(MessageTypes.Accept, federationId, node, sessionId, epoch, policyHash, helloHash);
}

/// <summary>The node's counter-signature of its session; sealed in the membership scroll, whose receipt id becomes the node's ledger_block_id.</summary>
public sealed record SessionAck(
    [property: JsonPropertyName("type")] string Type,
    string FederationId,
    KeyFingerprint NodeFingerprint,
    string SessionId,
    Sha256Digest AcceptHash)
{
    public static SessionAck Create(string federationId, KeyFingerprint node, string sessionId, Sha256Digest acceptHash) =>
        new(MessageTypes.SessionAck, federationId, node, sessionId, acceptHash);
}

/// <summary>
/// A node's update for one federated epoch, signed by the node. <c>payload</c> is base64 of a compressed
/// delta (docs/formats/update-payload.md) and <c>update_hash</c> the SHA-256 of those payload bytes.
/// </summary>
public sealed record MetaUpdate(
    [property: JsonPropertyName("type")] string Type,
    string FederationId,
    long FederatedEpoch,
    KeyFingerprint NodeFingerprint,
    Sha256Digest UpdateHash,
    string LedgerBlockId,
    Sha256Digest BaseStateHash,
    string Payload)
{
    public static MetaUpdate Create(string federationId, long epoch, KeyFingerprint node, Sha256Digest updateHash, string ledgerBlockId, Sha256Digest baseState, string payload) =>
        new(MessageTypes.MetaUpdate, federationId, epoch, node, updateHash, ledgerBlockId, baseState, payload);
}

/// <summary>A node's liveness report with the head of the scroll it holds (its last seq and root).</summary>
public sealed record Heartbeat(
    [property: JsonPropertyName("type")] string Type,
    string FederationId,
    KeyFingerprint NodeFingerprint,
    string Scroll,
    long Size,
    Sha256Digest Root,
    long Sequence)
{
    public static Heartbeat Create(string federationId, KeyFingerprint node, string scroll, long size, Sha256Digest root, long sequence) =>
        new(MessageTypes.Heartbeat, federationId, node, scroll, size, root, sequence);
}

using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Scrolls;
using Federation.Hosting;

namespace Federation.Grains;

/// <summary>How governance registers a node (appsettings.json Federations:…:Nodes, or at run time).</summary>
public sealed record NodeRegistration(KeyFingerprint Fingerprint, TrustLevel TrustLevel, SyncPolicy SyncPolicy, IReadOnlyList<string> Capabilities);

/// <summary>
/// The answer to a submitted update. Acknowledged updates (accepted, late, duplicate) carry the receipt that
/// seals them: its id (the update's ledger position), seq and leaf hash.
/// </summary>
public sealed record UpdateAck(Disposition Disposition, string? Code, string Message, string? ReceiptId = null, long? Seq = null, Sha256Digest? LeafHash = null, string? EvidenceReceipt = null)
{
    public bool Acknowledged => Disposition != Disposition.Refused;
}

/// <param name="Accept">The signed FederationAccept (JSON), when accepted.</param>
public sealed record HandshakeReply(bool Accepted, byte[]? Accept, string? Code, string Message);

/// <param name="LedgerBlockId">The receipt id of the sealed session acknowledgement: the node cites it in its updates.</param>
public sealed record SessionReply(bool Active, string? LedgerBlockId, long? Seq, Sha256Digest? LeafHash, string? Code, string Message);

/// <summary>The epoch accepting updates, the one closing (if any) and the global state chain.</summary>
public sealed record EpochInfo(long OpenEpoch, long? ClosingEpoch, Sha256Digest OpenStateHash, IReadOnlyDictionary<long, Sha256Digest> BaseStates, DateTimeOffset OpenedAt = default);

/// <summary>What a heartbeat told the coordinator: consistent, ahead (unprovable yet) or divergent (quarantined with evidence).</summary>
public sealed record HeartbeatAck(HeadVerdict Verdict, string Message, string? EvidenceReceipt = null, string? Code = null);

/// <summary>A node as the registry and monitor see it.</summary>
public sealed record NodeView(NodeRecord Record, DateTimeOffset? LastSeen, bool Inactive, long UpdatesRecorded, string? QuarantineEvidence);

/// <summary>A scroll's size, root and latest signed checkpoint.</summary>
public sealed record ScrollHead(string Scroll, long Size, Sha256Digest Root, string? Checkpoint);

/// <summary>A federation: registry of nodes, policy, epochs and the joining handshake. Key: the federation id.</summary>
public interface IFederationGrain : IGrainWithStringKey
{
    Task RegisterNodeAsync(NodeRegistration registration);

    /// <summary>Registers many nodes with one state write (operators importing a registry).</summary>
    Task RegisterNodesAsync(IReadOnlyList<NodeRegistration> registrations);

    Task<HandshakeReply> HelloAsync(byte[] signedHello);

    Task<SessionReply> CompleteSessionAsync(byte[] signedSessionAck);

    [ReadOnly]
    Task<EpochInfo> GetEpochAsync();

    [ReadOnly]
    Task<IReadOnlyList<KeyFingerprint>> ListNodesAsync();

    [ReadOnly]
    Task<FederationPolicy> GetPolicyAsync();

    /// <summary>Closes the open epoch for new updates (they are refused as "epoch closed" until the next opens).</summary>
    Task<EpochInfo> CloseEpochAsync();

    /// <summary>Opens the next epoch on the given global state (the committed result of the closed one).</summary>
    Task<EpochInfo> OpenNextEpochAsync(Sha256Digest newStateHash);

    /// <summary>Applies a committed epoch: the new global state and the divergence streaks it leaves; opens the next epoch.</summary>
    Task<EpochInfo> ApplyEpochAsync(long epoch, Sha256Digest newStateHash, IReadOnlyDictionary<string, int> streaks);

    /// <summary>The committed divergence streaks (consecutive epochs above the quarantine threshold, per node).</summary>
    [ReadOnly]
    Task<IReadOnlyDictionary<string, int>> GetStreaksAsync();
}

/// <summary>One node of one federation. Key: <c>&lt;federation id&gt;/&lt;fingerprint&gt;</c> (see <see cref="NodeKey"/>).</summary>
public interface INodeGrain : IGrainWithStringKey
{
    Task RegisterAsync(NodeRegistration registration);

    /// <summary>
    /// An update already parsed and signature-checked by the gateway (stateless work off the grain): decided, and
    /// sealed if admitted. The gateway's hot path, so it starts on the gateway's thread when the node is idle.
    /// </summary>
    [StartsOnCallerThread]
    Task<UpdateAck> SubmitAsync(VerifiedUpdate update);

    Task<HeartbeatAck> HeartbeatAsync(byte[] signedHeartbeat);

    /// <summary>The handshake completed: the node is active under this session and ledger block.</summary>
    Task ActivateAsync(string sessionId, string ledgerBlockId);

    /// <summary>Governance or the monitor changes the node's standing (revoke takes effect with the next message).</summary>
    Task SetStatusAsync(NodeStatus status, string reason, string? evidenceReceipt = null);

    /// <summary>
    /// Applies a sealed review verdict on the case <paramref name="evidenceReceipt"/>: approve → active, reject → revoked
    /// (excluded with its key revoked). The evidence is then reviewed: a later quarantine citing it changes nothing.
    /// </summary>
    Task ApplyVerdictAsync(Core.Governance.VerdictKind verdict, string reason, string evidenceReceipt, string verdictReceipt);

    [ReadOnly]
    Task<NodeView?> GetAsync();
}

/// <summary>A scroll (append-only Merkle ledger). Key: the scroll name, e.g. <c>fed1.updates</c>.</summary>
public interface IScrollGrain : IGrainWithStringKey
{
    Task<SealedReceiptView> AppendAsync(ReceiptDraft draft);

    [ReadOnly]
    Task<ScrollHead> HeadAsync();

    Task<InclusionBundle> ProveAsync(long index);

    Task<string?> CheckpointAsync();
}

/// <summary>An acknowledged receipt: id, seq and leaf hash.</summary>
public sealed record SealedReceiptView(string Id, long Seq, Sha256Digest LeafHash);

/// <summary>Grain keys and scroll names of a federation: everything is scoped by federation id.</summary>
public static class NodeKey
{
    public static string For(string federationId, KeyFingerprint node) => $"{federationId}/{node}";

    public static (string FederationId, KeyFingerprint Node) Parse(string key)
    {
        var slash = key.IndexOf('/');
        if (slash <= 0)
        {
            throw new FormatException($"node grain key \"{key}\" must be <federation>/<fingerprint>");
        }

        return (key[..slash], KeyFingerprint.Parse(key[(slash + 1)..]));
    }
}

public static class FederationScrolls
{
    public static string Membership(string federationId) => federationId + ".membership";

    public static string Updates(string federationId) => federationId + ".updates";

    public static string Verification(string federationId) => federationId + ".verification";

    public static string Governance(string federationId) => federationId + ".governance";

    /// <summary>Federation ids become scroll names and keys: lowercase letters, digits and '-', up to 32.</summary>
    public static string ValidateFederationId(string federationId) =>
        System.Text.RegularExpressions.Regex.IsMatch(federationId, "^[a-z0-9][a-z0-9-]{0,31}$")
            ? federationId
            : throw new FormatException($"federation id \"{federationId}\" must be 1 to 32 lowercase letters, digits or '-', starting with a letter or digit");
}

/// <summary>What every validator recomputes an epoch from (all of it committed or sealed, so honest validators agree).</summary>
/// <param name="Cutoff">Update receipts with seq below this count (the scroll's size when the epoch closed).</param>
public sealed record EpochInputs(
    long Epoch,
    long Cutoff,
    Sha256Digest BaseState,
    IReadOnlyList<KeyFingerprint> Active,
    IReadOnlyDictionary<string, int> Streaks,
    IReadOnlyList<Core.Consensus.QuarantineEntry> QuarantinedAtIngest);

/// <summary>One step of a validator: messages to send to every other validator, and where it stands.</summary>
public sealed record ValidatorStep(
    IReadOnlyList<byte[]> Outbound,
    Sha256Digest? Committed,
    long View,
    IReadOnlyList<byte[]> CommitCertificate,
    IReadOnlyList<byte[]> Evidence,
    IReadOnlyList<string> Refused,
    Sha256Digest? LocalProposal);

/// <summary>A validator of a federation (key <c>&lt;federation&gt;/&lt;validator id&gt;</c>), with its own Ed25519 key.</summary>
public interface IValidatorGrain : IGrainWithStringKey
{
    Task<ValidatorStep> BeginAsync(EpochInputs inputs);

    Task<ValidatorStep> ReceiveAsync(long epoch, byte[] message);

    Task<ValidatorStep> TimeoutAsync(long epoch);

    /// <summary>The digest this validator committed for an epoch, if any (simulations check agreement with it).</summary>
    [ReadOnly]
    Task<Sha256Digest?> CommittedAsync(long epoch);
}

public enum EpochState
{
    Open,
    Closing,
    Proposing,
    Committed,
    Failed,
}

/// <summary>The outcome of one epoch as the aggregator ran it (persisted in the epoch grain's history).</summary>
/// <remarks>The nullable members are always written, even when null: the state serializer omits nulls and requires
/// every constructor parameter on reading, so an omitted one would make the history unreadable after a restart.</remarks>
public sealed record EpochReport(
    long Epoch,
    EpochState State,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Reason,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] Sha256Digest? Digest,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? CommitReceipt,
    long View,
    IReadOnlyList<string> Quarantined,
    IReadOnlyList<string> Evidence,
    int Included,
    int Excluded);

/// <summary>The aggregator of a federation (key: the federation id): closes the open epoch, runs consensus, applies.</summary>
public interface IEpochGrain : IGrainWithStringKey
{
    /// <summary>Closes the open epoch and drives it to committed, or to failed with a reason.</summary>
    Task<EpochReport> RunAsync();

    /// <summary>Starts the schedule: the quorum-plus-grace check and the durable deadline reminder.</summary>
    Task StartAsync();

    [ReadOnly]
    Task<IReadOnlyList<EpochReport>> HistoryAsync();
}

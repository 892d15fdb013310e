using Federation.Core.Crypto;
using Orleans.Concurrency;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Scrolls;

namespace Federation.Grains;

/// <summary>How governance registers a node (appsettings.json Federations:…:Nodes, or at run time).</summary>
[GenerateSerializer, Immutable, Alias("fed.node-registration.v1")]
public sealed record NodeRegistration([property: Id(0)] KeyFingerprint Fingerprint, [property: Id(1)] TrustLevel TrustLevel, [property: Id(2)] SyncPolicy SyncPolicy, [property: Id(3)] IReadOnlyList<string> Capabilities);

/// <summary>
/// The answer to a submitted update. Acknowledged updates (accepted, late, duplicate) carry the receipt that
/// seals them: its id (the update's ledger position), seq and leaf hash.
/// </summary>
[GenerateSerializer, Immutable, Alias("fed.update-ack.v1")]
public sealed record UpdateAck([property: Id(0)] Disposition Disposition, [property: Id(1)] string? Code, [property: Id(2)] string Message, [property: Id(3)] string? ReceiptId = null, [property: Id(4)] long? Seq = null, [property: Id(5)] Sha256Digest? LeafHash = null, [property: Id(6)] string? EvidenceReceipt = null)
{
    public bool Acknowledged => Disposition != Disposition.Refused;
}

/// <param name="Accept">The signed FederationAccept (JSON), when accepted.</param>
[GenerateSerializer, Immutable, Alias("fed.handshake-reply.v1")]
public sealed record HandshakeReply([property: Id(0)] bool Accepted, [property: Id(1)] byte[]? Accept, [property: Id(2)] string? Code, [property: Id(3)] string Message);

/// <param name="LedgerBlockId">The receipt id of the sealed session acknowledgement: the node cites it in its updates.</param>
[GenerateSerializer, Immutable, Alias("fed.session-reply.v1")]
public sealed record SessionReply([property: Id(0)] bool Active, [property: Id(1)] string? LedgerBlockId, [property: Id(2)] long? Seq, [property: Id(3)] Sha256Digest? LeafHash, [property: Id(4)] string? Code, [property: Id(5)] string Message);

/// <summary>The epoch accepting updates, the one closing (if any) and the global state chain.</summary>
[GenerateSerializer, Immutable, Alias("fed.epoch-info.v1")]
public sealed record EpochInfo([property: Id(0)] long OpenEpoch, [property: Id(1)] long? ClosingEpoch, [property: Id(2)] Sha256Digest OpenStateHash, [property: Id(3)] IReadOnlyDictionary<long, Sha256Digest> BaseStates, [property: Id(4)] DateTimeOffset OpenedAt = default);

/// <summary>What a heartbeat told the coordinator: consistent, ahead (unprovable yet) or divergent (quarantined with evidence).</summary>
[GenerateSerializer, Immutable, Alias("fed.heartbeat-ack.v1")]
public sealed record HeartbeatAck([property: Id(0)] HeadVerdict Verdict, [property: Id(1)] string Message, [property: Id(2)] string? EvidenceReceipt = null, [property: Id(3)] string? Code = null);

/// <summary>A node as the registry and monitor see it.</summary>
[GenerateSerializer, Immutable, Alias("fed.node-view.v1")]
public sealed record NodeView([property: Id(0)] NodeRecord Record, [property: Id(1)] DateTimeOffset? LastSeen, [property: Id(2)] bool Inactive, [property: Id(3)] long UpdatesRecorded, [property: Id(4)] string? QuarantineEvidence);

/// <summary>A scroll's size, root and latest signed checkpoint, and how many group commits its activation has made.</summary>
[GenerateSerializer, Immutable, Alias("fed.scroll-head.v1")]
public sealed record ScrollHead([property: Id(0)] string Scroll, [property: Id(1)] long Size, [property: Id(2)] Sha256Digest Root, [property: Id(3)] string? Checkpoint, [property: Id(4)] long CommittedBatches = 0);

/// <summary>A federation: registry of nodes, policy, epochs and the joining handshake. Key: the federation id.</summary>
public interface IFederationGrain : IGrainWithStringKey
{
    Task RegisterNodeAsync(NodeRegistration registration);

    /// <summary>Registers many nodes with one state write (operators importing a registry).</summary>
    Task RegisterNodesAsync(IReadOnlyList<NodeRegistration> registrations);

    Task<HandshakeReply> HelloAsync(byte[] signedHello);

    Task<SessionReply> CompleteSessionAsync(byte[] signedSessionAck);

    /// <summary>The published epoch state (interleaves with everything: node grains ask while this grain awaits them).</summary>
    [AlwaysInterleave]
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

    /// <summary>An update already parsed and signature-checked by the gateway (stateless work off the grain): decided, and sealed if admitted.</summary>
    Task<UpdateAck> SubmitAsync(VerifiedUpdate update);

    Task<HeartbeatAck> HeartbeatAsync(byte[] signedHeartbeat);

    /// <summary>The handshake completed: the node is active under this session and ledger block.</summary>
    Task ActivateAsync(string sessionId, string ledgerBlockId);

    /// <summary>Governance or the monitor changes the node's standing (revoke takes effect with the next message).</summary>
    Task SetStatusAsync(NodeStatus status, string reason, string? evidenceReceipt = null);

    /// <summary>
    /// An operator's revocation: sealed as a <c>node_revoked</c> receipt in the governance scroll and entered in the
    /// governance log before the node's status is revoked (its very next request is refused); returns the receipt id.
    /// </summary>
    Task<string> RevokeAsync(string reason, string revokedBy);

    /// <summary>
    /// Applies a sealed review verdict on the case <paramref name="evidenceReceipt"/>: approve → active, reject → revoked
    /// (excluded with its key revoked). The evidence is then reviewed: a later quarantine citing it changes nothing.
    /// </summary>
    Task ApplyVerdictAsync(Core.Governance.VerdictKind verdict, string reason, string evidenceReceipt, string verdictReceipt);

    /// <summary>The node's standing (interleaves: the federation, epoch and review grains ask while the node awaits them).</summary>
    [AlwaysInterleave]
    Task<NodeView?> GetAsync();
}

/// <summary>A scroll (append-only Merkle ledger). Key: the scroll name, e.g. <c>fed1.updates</c>.</summary>
/// <remarks>The grain owns its ledger: every append and read of a scroll goes through its one activation in the cluster.</remarks>
public interface IScrollGrain : IGrainWithStringKey
{
    /// <summary>Most receipt lines one <see cref="ReadAsync"/> returns.</summary>
    public const int MaxReadCount = 10_000;

    Task<SealedReceiptView> AppendAsync(ReceiptDraft draft);

    /// <summary>
    /// Seals updates (an update scroll only) that their node grains admitted, each under the epoch state it names (open
    /// and closing epoch), and records them in the scroll's update index; the answers come in the same order. The update
    /// scroll holds the federation's current epoch state (<see cref="PublishEpochAsync"/>): an update decided under
    /// another one is not sealed, and its answer carries the current state to decide again with. The silo's
    /// <c>SealBatcher</c> gathers the seals its node grains ask for while a call is in flight into one call.
    /// </summary>
    Task<IReadOnlyList<UpdateSealing>> AppendUpdatesAsync(IReadOnlyList<UpdateSeal> seals);

    /// <summary>The epoch state updates are admitted under (an update scroll only).</summary>
    Task<EpochInfo> EpochAsync();

    /// <summary>
    /// The federation grain publishes its epoch state (an update scroll only). Returns once every update sealed under
    /// the previous state is durable, so the scroll's size after a close covers every update admitted before it.
    /// </summary>
    Task PublishEpochAsync(EpochInfo epoch);

    Task<ScrollHead> HeadAsync();

    /// <summary>The receipt lines with seq in [<paramref name="from"/>, <paramref name="to"/>), at most <see cref="MaxReadCount"/>.</summary>
    Task<IReadOnlyList<byte[]>> ReadAsync(long from, long to);

    /// <summary>The root at <paramref name="size"/> (at most the scroll's size).</summary>
    Task<Sha256Digest> RootAsync(long size);

    /// <summary>Seals a checkpoint, then proves the tree at <paramref name="size"/> consistent with it (what a divergence is judged against).</summary>
    Task<ConsistencyEvidence> ProveConsistencyAsync(long size);

    Task<InclusionBundle> ProveAsync(long index);

    Task<string?> CheckpointAsync();

    /// <summary>The scroll's part of an anchor cycle: seal, check consistency with its previous anchor in <paramref name="anchorFile"/>, append (no receipt: the caller records it in the anchoring scroll).</summary>
    Task<AnchorReport> AnchorAsync(string anchorFile);

    /// <summary>The updates an update scroll holds for one node, in epoch order.</summary>
    Task<IReadOnlyList<RecordedUpdate>> RecordedAsync(KeyFingerprint node);

    /// <summary>How many nodes have an on-time update of <paramref name="epoch"/> in an update scroll.</summary>
    Task<int> SubmittedAsync(long epoch);

    /// <summary>The accepted updates of <paramref name="epoch"/> among the first <paramref name="cutoff"/> receipts of an update scroll: what validators recompute from.</summary>
    Task<IReadOnlyList<ScrollUpdateView>> ReadUpdatesAsync(long epoch, long cutoff);
}

/// <summary>The update scroll's answer to an update: sealed, or decided under an epoch state that is no longer current (<see cref="Epoch"/>).</summary>
[GenerateSerializer, Immutable, Alias("fed.update-sealing.v1")]
public sealed record UpdateSealing([property: Id(0)] SealedReceiptView? Receipt, [property: Id(1)] EpochInfo? Epoch);

/// <summary>One update a node grain admitted, to seal under the epoch state it was decided under (see <see cref="IScrollGrain.AppendUpdatesAsync"/>).</summary>
[GenerateSerializer, Immutable, Alias("fed.update-seal.v1")]
public sealed record UpdateSeal([property: Id(0)] VerifiedUpdate Update, [property: Id(1)] bool Late, [property: Id(2)] long DecidedUnderOpen, [property: Id(3)] long? DecidedUnderClosing);

/// <summary>An accepted update as sealed at <see cref="Seq"/>: its signed message (canonical JSON).</summary>
[GenerateSerializer, Immutable, Alias("fed.scroll-update.v1")]
public sealed record ScrollUpdateView([property: Id(0)] long Seq, [property: Id(1)] byte[] SignedUpdate);

/// <summary>A scroll's latest signed checkpoint, its root at an earlier size and the consistency proof between them.</summary>
[GenerateSerializer, Immutable, Alias("fed.consistency-evidence.v1")]
public sealed record ConsistencyEvidence([property: Id(0)] string CheckpointNote, [property: Id(1)] long CheckpointSize, [property: Id(2)] Sha256Digest RootAtSize, [property: Id(3)] IReadOnlyList<Sha256Digest> Proof);

/// <summary>An acknowledged receipt: id, seq and leaf hash.</summary>
[GenerateSerializer, Immutable, Alias("fed.sealed-receipt-view.v1")]
public sealed record SealedReceiptView([property: Id(0)] string Id, [property: Id(1)] long Seq, [property: Id(2)] Sha256Digest LeafHash);

/// <summary>Node grain keys: scoped by federation id (scroll names: Core.Scrolls.FederationScrolls).</summary>
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

/// <summary>What every validator recomputes an epoch from (all of it committed or sealed, so honest validators agree).</summary>
/// <param name="Cutoff">Update receipts with seq below this count (the scroll's size when the epoch closed).</param>
[GenerateSerializer, Immutable, Alias("fed.epoch-inputs.v1")]
public sealed record EpochInputs(
    [property: Id(0)] long Epoch,
    [property: Id(1)] long Cutoff,
    [property: Id(2)] Sha256Digest BaseState,
    [property: Id(3)] IReadOnlyList<KeyFingerprint> Active,
    [property: Id(4)] IReadOnlyDictionary<string, int> Streaks,
    [property: Id(5)] IReadOnlyList<Core.Consensus.QuarantineEntry> QuarantinedAtIngest);

/// <summary>One step of a validator: messages to send to every other validator, and where it stands.</summary>
[GenerateSerializer, Immutable, Alias("fed.validator-step.v1")]
public sealed record ValidatorStep(
    [property: Id(0)] IReadOnlyList<byte[]> Outbound,
    [property: Id(1)] Sha256Digest? Committed,
    [property: Id(2)] long View,
    [property: Id(3)] IReadOnlyList<byte[]> CommitCertificate,
    [property: Id(4)] IReadOnlyList<byte[]> Evidence,
    [property: Id(5)] IReadOnlyList<string> Refused,
    [property: Id(6)] Sha256Digest? LocalProposal);

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

[GenerateSerializer, Alias("fed.epoch-state.v1")]
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
[GenerateSerializer, Immutable, Alias("fed.epoch-report.v1")]
public sealed record EpochReport(
    [property: Id(0)] long Epoch,
    [property: Id(1)] EpochState State,
    [property: Id(2), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Reason,
    [property: Id(3), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] Sha256Digest? Digest,
    [property: Id(4), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? CommitReceipt,
    [property: Id(5)] long View,
    [property: Id(6)] IReadOnlyList<string> Quarantined,
    [property: Id(7)] IReadOnlyList<string> Evidence,
    [property: Id(8)] int Included,
    [property: Id(9)] int Excluded);

/// <summary>The aggregator of a federation (key: the federation id): closes the open epoch, runs consensus, applies.</summary>
public interface IEpochGrain : IGrainWithStringKey
{
    /// <summary>Closes the open epoch and drives it to committed, or to failed with a reason.</summary>
    Task<EpochReport> RunAsync();

    /// <summary>Starts the schedule: the quorum-plus-grace check and the durable deadline reminder.</summary>
    Task StartAsync();

    /// <summary>
    /// Does nothing but make sure the grain is active, so its quorum-plus-grace timer runs: after its silo died (or it was
    /// collected) the grain is placed again on this call. <c>fed serve</c> calls it every second.
    /// </summary>
    Task KeepAsync();

    [ReadOnly]
    Task<IReadOnlyList<EpochReport>> HistoryAsync();
}

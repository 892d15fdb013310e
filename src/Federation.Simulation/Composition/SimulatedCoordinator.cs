using System.Text;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;
using Microsoft.Extensions.Time.Testing;

namespace Federation.Simulation.Composition;

/// <summary>A validator of the simulated federation: its id, key (owned by the caller) and behaviour.</summary>
public sealed record SimulatedValidatorSettings(string Id, Ed25519PrivateKey Key, ValidatorBehaviour Behaviour);

/// <summary>What the simulated coordinator serves: one federation's policy, governance key, validators and consensus timing. Keys stay the caller's.</summary>
public sealed record CoordinatorSettings(
    FederationPolicy Policy,
    Ed25519PrivateKey GovernanceKey,
    IReadOnlyList<SimulatedValidatorSettings> Validators,
    AggregationPolicy Aggregation,
    TimeSpan ViewTimeout,
    int MaxViewChanges)
{
    /// <summary>Sessions waiting for the node's counter-signature are bounded (oldest dropped first), as in the federation grain.</summary>
    public const int MaxPendingSessions = 10_000;

    public string FederationId => Policy.FederationId;
}

/// <summary>The answer to a hello: the signed accept, or the refusal.</summary>
public sealed record HelloResult(bool Accepted, byte[]? Accept, string? Code, string Message);

/// <summary>The answer to a session acknowledgement: active with its ledger block, or the refusal.</summary>
public sealed record SessionResult(bool Active, string? LedgerBlockId, string? Code, string Message);

/// <summary>The answer to a submitted update; acknowledged ones carry the receipt that seals them.</summary>
public sealed record SubmissionResult(Disposition Disposition, string? Code, string Message, string? ReceiptId = null, long? Seq = null, Sha256Digest? LeafHash = null, string? EvidenceReceipt = null);

/// <summary>What a heartbeat told the coordinator.</summary>
public sealed record HeartbeatResult(HeadVerdict Verdict, string Message, string? EvidenceReceipt = null, string? Code = null);

/// <summary>The epoch accepting updates, the one closing, and the global state each epoch built on.</summary>
public sealed record EpochView(long OpenEpoch, long? ClosingEpoch, IReadOnlyDictionary<long, Sha256Digest> BaseStates);

/// <summary>
/// The coordinator of one federation composed in process from the Core state machines the grains call, for the
/// deterministic simulator: the joining handshake (<see cref="Handshake"/>), ingest (<see cref="UpdateValidator"/>:
/// verify, decide; sealing in the update scroll; equivocation evidence and quarantine through <see cref="NodeState"/>;
/// refusals in the verification scroll), heartbeats (<see cref="LedgerHeadCheck"/>, divergence evidence), and epochs
/// (<see cref="EpochChainState"/>, one <see cref="PbftReplica"/> per validator relayed by <see cref="ConsensusRound"/>
/// with view timers on the virtual clock, <see cref="EpochComputation"/>, then the apply). Every receipt and
/// governance-log entry comes from the same Core builders the grains use.
/// <para>
/// One call at a time, in the caller's order (the seeded network decides it): no threads, no timers of its own. The
/// durable part is the <see cref="CoordinatorStore"/>; everything held here is a cache of it, rebuilt after
/// <see cref="CrashAsync"/> by a new instance.
/// </para>
/// </summary>
public sealed partial class SimulatedCoordinator : IAsyncDisposable
{
    private const string FederationKey = "federation";
    private const string ChainKey = "epoch_chain";

    private readonly CoordinatorSettings _settings;
    private readonly CoordinatorStore _store;
    private readonly FakeTimeProvider _clock;
    private readonly ValidatorSet _validatorSet;
    private readonly Dictionary<KeyFingerprint, NodeState> _nodes = [];
    private readonly Dictionary<KeyFingerprint, Ed25519PublicKey> _keys = [];
    private readonly FederationMembership _membership;
    private readonly EpochChainState _chain;
    private EpochView? _epochView;
    private FederationUpdates? _updates;
    private bool _disposed;

    /// <summary>Starts (or restarts, after a crash) the coordinator over <paramref name="store"/>.</summary>
    /// <param name="scrollKey">The scroll key, a copy this coordinator's ledgers own.</param>
    public SimulatedCoordinator(CoordinatorSettings settings, CoordinatorStore store, Ed25519PrivateKey scrollKey, FakeTimeProvider clock)
    {
        _settings = settings;
        _store = store;
        _clock = clock;
        _validatorSet = new ValidatorSet(settings.Validators.Select(v => (v.Id, v.Key.PublicKey)).ToList());
        Ledgers = new LedgerDirectory(new MemoryScrollStore(store.Volume), scrollKey, new ScrollLedgerOptions(), clock);

        // As the federation grain activates: the chain from storage, or genesis; the membership from storage, or empty.
        _chain = store.Read<EpochChainState>(ChainKey) ?? EpochChainState.Genesis(Federation, clock.GetUtcNow());
        if (!store.Contains(ChainKey))
        {
            store.Write(ChainKey, _chain);
        }

        _membership = store.Read<FederationMembership>(FederationKey) ?? new FederationMembership();
        if (!store.Contains(FederationKey))
        {
            store.Write(FederationKey, _membership);
        }
    }

    /// <summary>The coordinator's scrolls (anchoring and reading them at the end of a run).</summary>
    public LedgerDirectory Ledgers { get; }

    public ValidatorSet ValidatorSet => _validatorSet;

    private string Federation => _settings.FederationId;

    private FederationPolicy Policy => _settings.Policy;

    /// <summary>Persisted membership of the federation (as the federation grain keeps it; names are the storage format).</summary>
    private sealed class FederationMembership
    {
        public List<string> Nodes { get; set; } = [];

        public Dictionary<string, long> JoinCounts { get; set; } = [];

        public Dictionary<string, string> PendingSessions { get; set; } = [];
    }

    /// <summary>Governance registers nodes (trust, sync policy, capabilities).</summary>
    public void RegisterNodes(IEnumerable<(KeyFingerprint Node, TrustLevel Trust, SyncPolicy Sync, IReadOnlyList<string> Capabilities)> registrations)
    {
        foreach (var (node, trust, sync, capabilities) in registrations)
        {
            var state = Node(node);
            state.Register(trust, sync, capabilities);
            WriteNode(node, state);
            if (!_membership.Nodes.Contains(node.ToString()))
            {
                _membership.Nodes.Add(node.ToString());
            }
        }

        _store.Write(FederationKey, _membership);
    }

    /// <summary>The epoch state updates are checked against.</summary>
    public EpochView Epoch =>
        _epochView is { } view && view.OpenEpoch == _chain.OpenEpoch && view.ClosingEpoch == _chain.ClosingEpoch
            ? view
            : _epochView = new EpochView(_chain.OpenEpoch, _chain.ClosingEpoch, _chain.BaseStates.ToDictionary(b => b.Key, b => Sha256Digest.Parse(b.Value)));

    /// <summary>A node's standing, or null when governance never registered it.</summary>
    public async Task<NodeRecord?> NodeRecordAsync(KeyFingerprint node) => Node(node).Record(Federation, node, (await RecordedUpdatesAsync()).For(node).LastEpoch);

    /// <summary>The evidence receipt behind a node's current standing, if any.</summary>
    public string? QuarantineEvidence(KeyFingerprint node) => Node(node).EvidenceReceipt;

    /// <summary>A scroll's size and root (what a node's heartbeat reports).</summary>
    public async Task<(long Size, Sha256Digest Root)> HeadAsync(string scroll)
    {
        var ledger = await Ledgers.GetAsync(scroll);
        var size = ledger.Size;
        return (size, ledger.Root(size));
    }

    // ----- the joining handshake (SPEC A): hello → signed accept → the node's session ack, sealed in the membership scroll

    public async Task<HelloResult> HelloAsync(byte[] signedHello)
    {
        FederationHello hello;
        Sha256Digest helloHash;
        try
        {
            var claimed = Handshake.Open<FederationHello>(signedHello, MessageTypes.Hello, h => h.NodeFingerprint).Payload.NodeFingerprint;
            var record = _membership.Nodes.Contains(claimed.ToString()) ? await NodeRecordAsync(claimed) : null;
            (hello, helloHash) = Handshake.CheckHello(signedHello, Federation, record, Policy);
        }
        catch (HandshakeException ex)
        {
            await SealAsync(FederationScrolls.Verification(Federation), VerificationReceipts.Refused(VerificationReceipts.HelloRefusedType, ex.CodeName, ex.Message, signedHello));
            return new HelloResult(false, null, ex.CodeName, ex.Message);
        }

        var node = hello.NodeFingerprint.ToString();
        var sessionId = Handshake.SessionId(Federation, hello.NodeFingerprint, helloHash, _membership.JoinCounts.GetValueOrDefault(node));
        if (!_membership.PendingSessions.TryGetValue(sessionId, out var acceptJson))
        {
            var accept = FederationAccept.Create(Federation, hello.NodeFingerprint, sessionId, _chain.OpenEpoch, Policy.Hash(), helloHash);
            acceptJson = Encoding.UTF8.GetString(SignedEnvelope.Sign(accept, new Ed25519Signer(_settings.GovernanceKey)).ToCanonicalJson());
            if (_membership.PendingSessions.Count >= CoordinatorSettings.MaxPendingSessions)
            {
                _membership.PendingSessions.Remove(_membership.PendingSessions.Keys.First());
            }

            _membership.PendingSessions[sessionId] = acceptJson;
            _store.Write(FederationKey, _membership);
        }

        return new HelloResult(true, Encoding.UTF8.GetBytes(acceptJson), null, $"session {sessionId} accepted at epoch {_chain.OpenEpoch}: sign it to join");
    }

    public async Task<SessionResult> CompleteSessionAsync(byte[] signedSessionAck)
    {
        SessionAck ack;
        string acceptJson;
        try
        {
            var claimed = Handshake.Open<SessionAck>(signedSessionAck, MessageTypes.SessionAck, a => a.NodeFingerprint).Payload;
            if (!_membership.PendingSessions.TryGetValue(claimed.SessionId, out acceptJson!))
            {
                throw new HandshakeException(RefusalCode.MalformedMessage, $"session {claimed.SessionId} is unknown or already completed");
            }

            ack = Handshake.CheckSessionAck(signedSessionAck, SignedEnvelope.Parse(acceptJson));
        }
        catch (HandshakeException ex)
        {
            await SealAsync(FederationScrolls.Verification(Federation), VerificationReceipts.Refused(VerificationReceipts.SessionRefusedType, ex.CodeName, ex.Message, signedSessionAck));
            return new SessionResult(false, null, ex.CodeName, ex.Message);
        }

        var receipt = await SealAsync(FederationScrolls.Membership(Federation), MembershipReceipts.SessionRecorded(ack, Encoding.UTF8.GetBytes(acceptJson), signedSessionAck));
        var state = Node(ack.NodeFingerprint);
        state.Activate(ack.NodeFingerprint, ack.SessionId, receipt.Id);
        WriteNode(ack.NodeFingerprint, state);
        var node = ack.NodeFingerprint.ToString();
        _membership.PendingSessions.Remove(ack.SessionId);
        _membership.JoinCounts[node] = _membership.JoinCounts.GetValueOrDefault(node) + 1;
        _store.Write(FederationKey, _membership);
        return new SessionResult(true, receipt.Id, null, $"node {ack.NodeFingerprint} is active; cite {receipt.Id} as ledger_block_id");
    }

    // ----- ingest: verify (stateless), decide against the node's standing and the epoch chain, seal before acknowledging

    /// <summary>Verifies, decides and seals one signed update. The coordinator keeps <paramref name="signedUpdate"/>: do not change it afterwards.</summary>
    public async Task<SubmissionResult> SubmitAsync(byte[] signedUpdate)
    {
        var (verified, refusal) = UpdateValidator.VerifyOwned(signedUpdate, Policy, ResolveKey);
        if (refusal is not null)
        {
            // Nothing trustworthy names a node yet: the refusal is logged against the federation only.
            await SealAsync(FederationScrolls.Verification(Federation), VerificationReceipts.Refused(VerificationReceipts.UpdateRefusedType, refusal.CodeName!, refusal.Message, signedUpdate));
            return new SubmissionResult(Disposition.Refused, refusal.CodeName, refusal.Message);
        }

        if (verified!.Update.FederationId != Federation)
        {
            return new SubmissionResult(Disposition.Refused, IngestDecision.WireName(RefusalCode.WrongFederation), $"the update is for federation \"{verified.Update.FederationId}\", not \"{Federation}\"");
        }

        var node = verified.Update.NodeFingerprint;
        var mine = (await RecordedUpdatesAsync()).For(node);
        var previous = mine.ForEpoch(verified.Update.FederatedEpoch);
        var updateScroll = await Ledgers.GetAsync(FederationScrolls.Updates(Federation));
        var epoch = Epoch;
        var context = new IngestContext(
            Federation,
            Policy,
            Node(node).Record(Federation, node, mine.LastEpoch),
            epoch.OpenEpoch,
            epoch.ClosingEpoch,
            epoch.BaseStates[epoch.OpenEpoch],
            epoch.BaseStates,
            previous is null ? null : SignedEnvelope.Parse(await RecordedUpdatesReader.ReadSignedUpdateAsync(updateScroll, previous)));
        var (decision, evidence) = UpdateValidator.Decide(verified, context);
        switch (decision.Disposition)
        {
            case Disposition.Duplicate:
                return new SubmissionResult(Disposition.Duplicate, null, decision.Message, previous!.ReceiptId, previous.Seq, previous.LeafHash);

            case Disposition.Accepted or Disposition.Late:
                var late = decision.Disposition == Disposition.Late;
                var receipt = await updateScroll.AppendAsync(UpdateReceipts.Prepare(verified, late, updateScroll.Scroll, updateScroll.SizeHint));
                mine.Record(new RecordedUpdate(verified.Update.FederatedEpoch, verified.SignedHash, receipt.Id, receipt.Seq, receipt.LeafHash, late));
                return new SubmissionResult(decision.Disposition, null, decision.Message, receipt.Id, receipt.Seq, receipt.LeafHash);

            default:
                string? evidenceReceipt = null;
                if (evidence is not null)
                {
                    // Detection and punishment are separate: seal the evidence, then quarantine citing it.
                    var sealedEvidence = await SealAsync(FederationScrolls.Governance(Federation), EvidenceReceipts.Equivocation(evidence, verified.Update.FederatedEpoch, node));
                    evidenceReceipt = sealedEvidence.Id;
                    SetStatus(node, NodeStatus.Quarantined, $"equivocation in epoch {verified.Update.FederatedEpoch} (evidence {sealedEvidence.Id})", sealedEvidence.Id);
                }

                await SealAsync(FederationScrolls.Verification(Federation), VerificationReceipts.Refused(VerificationReceipts.UpdateRefusedType, decision.CodeName!, decision.Message, verified.Envelope.SignedBytes, node.ToString(), verified.Update.FederatedEpoch));
                return new SubmissionResult(Disposition.Refused, decision.CodeName, decision.Message, EvidenceReceipt: evidenceReceipt);
        }
    }

    // ----- the heartbeat monitor: a reported ledger head that contradicts the coordinator's scroll is evidence

    public async Task<HeartbeatResult> HeartbeatAsync(KeyFingerprint node, byte[] signedHeartbeat)
    {
        Heartbeat head;
        SignedEnvelope envelope;
        try
        {
            (envelope, head) = Handshake.Open<Heartbeat>(signedHeartbeat, MessageTypes.Heartbeat, h => h.NodeFingerprint);
            if (head.NodeFingerprint != node)
            {
                throw new HandshakeException(RefusalCode.BadSignature, $"a heartbeat of {head.NodeFingerprint} was routed to {node}");
            }

            if (head.FederationId != Federation || !head.Scroll.StartsWith(Federation + ".", StringComparison.Ordinal))
            {
                throw new HandshakeException(RefusalCode.WrongFederation, $"the heartbeat names federation \"{head.FederationId}\" and scroll \"{head.Scroll}\", not federation \"{Federation}\"");
            }

            if (!Node(node).MayReport)
            {
                throw new HandshakeException(!Node(node).Registered ? RefusalCode.UnknownNode : RefusalCode.RevokedNode, $"node {node} may not report to federation \"{Federation}\"");
            }
        }
        catch (HandshakeException ex)
        {
            await SealAsync(FederationScrolls.Verification(Federation), VerificationReceipts.Refused(VerificationReceipts.UpdateRefusedType, ex.CodeName, ex.Message, signedHeartbeat, node.ToString()));
            return new HeartbeatResult(HeadVerdict.Consistent, ex.Message, Code: ex.CodeName);
        }

        var ledger = await Ledgers.GetAsync(head.Scroll);
        var verdict = LedgerHeadCheck.Check(head, ledger.Size, ledger.Root);
        if (verdict == HeadVerdict.Ahead)
        {
            return new HeartbeatResult(verdict, $"the node reports {head.Size} receipts of {head.Scroll}; the coordinator holds {ledger.Size}");
        }

        if (verdict == HeadVerdict.Consistent)
        {
            return new HeartbeatResult(verdict, $"head {head.Size} of {head.Scroll} is consistent");
        }

        await ledger.SealAsync();
        var checkpoint = ledger.LatestCheckpoint!;
        var evidence = new LedgerDivergenceEvidence(envelope, ledger.LatestCheckpointNote!, ledger.Root(head.Size), ledger.ConsistencyProof(head.Size, checkpoint.Size));
        var sealedEvidence = await SealAsync(FederationScrolls.Governance(Federation), EvidenceReceipts.LedgerDivergence(evidence, head.Scroll, head.Size, node));
        SetStatus(node, NodeStatus.Quarantined, $"ledger divergence on {head.Scroll} at size {head.Size} (evidence {sealedEvidence.Id})", sealedEvidence.Id);
        // No epoch decides this one (the heartbeat monitor does), so the review entry is written here.
        _store.GovernanceLog.Append(GovernanceLogEntries.LedgerDivergenceQuarantine(Federation, node, sealedEvidence.Id, evidence.Hash(), head.Scroll, head.Size));
        return new HeartbeatResult(verdict, $"the node's root at size {head.Size} contradicts the coordinator's scroll: quarantined", sealedEvidence.Id);
    }

    // ----- the coordinator process

    /// <summary>
    /// The coordinator is killed: whatever it held in memory (caches of node standing, the update index, validator
    /// replicas) is gone. Its ledgers are closed as the old host's disposal closed them (each signs a checkpoint of what
    /// is already durable); the store keeps every scroll and every persisted state. Start a new instance over the same
    /// <see cref="CoordinatorStore"/> to recover.
    /// </summary>
    public ValueTask CrashAsync() => DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _nodes.Clear();
        _updates = null;
        await Ledgers.DisposeAsync();
    }

    private Ed25519PublicKey ResolveKey(KeyFingerprint fingerprint)
    {
        if (!_keys.TryGetValue(fingerprint, out var key))
        {
            _keys[fingerprint] = key = Ed25519PublicKey.FromFingerprint(fingerprint);
        }

        return key;
    }

    private static string NodeKey(KeyFingerprint node) => "node/" + node;

    /// <summary>A node's standing as its grain holds it: from storage on first use; a node never registered gets an empty one (not stored).</summary>
    private NodeState Node(KeyFingerprint node)
    {
        if (!_nodes.TryGetValue(node, out var state))
        {
            _nodes[node] = state = _store.Read<NodeState>(NodeKey(node)) ?? new NodeState();
        }

        return state;
    }

    private void WriteNode(KeyFingerprint node, NodeState state) => _store.Write(NodeKey(node), state);

    private void SetStatus(KeyFingerprint node, NodeStatus status, string reason, string? evidenceReceipt)
    {
        var state = Node(node);
        if (state.SetStatus(Federation, node, status, reason, evidenceReceipt))
        {
            WriteNode(node, state);
        }
    }

    /// <summary>The update index: rebuilt from the update scroll on first use, then kept current as updates are sealed.</summary>
    private async Task<FederationUpdates> RecordedUpdatesAsync() =>
        _updates ??= await RecordedUpdatesReader.ReadAsync(await Ledgers.GetAsync(FederationScrolls.Updates(Federation)));

    private async Task<SealedReceipt> SealAsync(string scroll, ReceiptDraft draft) => await (await Ledgers.GetAsync(scroll)).AppendAsync(draft);
}

using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Grains.Services;

namespace Federation.Grains.Federation;

/// <summary>Persisted membership of a federation (names are part of the storage format): written when nodes
/// register or join, never per epoch — a federation of 10,000 nodes would otherwise rewrite them all each time.</summary>
public sealed class FederationState
{
    public List<string> Nodes { get; set; } = [];

    /// <summary>Handshakes per node: how many sessions it has started (part of its session id).</summary>
    public Dictionary<string, long> JoinCounts { get; set; } = [];

    /// <summary>Accepts sent and not yet acknowledged: session id → signed accept (JSON).</summary>
    public Dictionary<string, string> PendingSessions { get; set; } = [];

    // Until the epoch chain had a state of its own, it was kept here. A federation written that way is moved
    // to EpochChainState when it activates; these members are then dropped (nulls are not written).
    public long? OpenEpoch { get; set; }

    public long? ClosingEpoch { get; set; }

    public Dictionary<long, string>? BaseStates { get; set; }

    public DateTimeOffset? OpenedAt { get; set; }

    public Dictionary<string, int>? Streaks { get; set; }
}

/// <summary>
/// A federation (tenant): its registry, policy, epochs and the joining handshake of SPEC A. Nodes'
/// standing lives in their node grains; this grain keeps the list and the epoch chain.
/// </summary>
[GrainType("federation")]
public sealed class FederationGrain(
    [PersistentState("federation")] IPersistentState<FederationState> state,
    [PersistentState("epoch_chain")] IPersistentState<EpochChainState> chain,
    FederationDirectory federations,
    TimeProvider time) : Grain, IFederationGrain
{
    /// <summary>Sessions waiting for the node's counter-signature are bounded (oldest dropped first).</summary>
    public const int MaxPendingSessions = 10_000;

    private FederationSettings Settings => federations.Get(this.GetPrimaryKeyString());

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var settings = Settings; // an unknown federation fails the activating call
        if (!chain.RecordExists)
        {
            if (state.State.BaseStates is { } legacy)
            {
                // Written before the chain had a state of its own: move it (the chain first, so a crash in between
                // leaves the legacy copy, which the next activation moves again).
                chain.State = new EpochChainState
                {
                    OpenEpoch = state.State.OpenEpoch ?? 1,
                    ClosingEpoch = state.State.ClosingEpoch,
                    BaseStates = legacy,
                    OpenedAt = state.State.OpenedAt ?? time.GetUtcNow(),
                    Streaks = state.State.Streaks ?? [],
                };
            }
            else
            {
                chain.State = EpochChainState.Genesis(settings.Id, time.GetUtcNow());
            }

            await chain.WriteStateAsync();
        }

        if (!state.RecordExists)
        {
            foreach (var node in settings.Nodes)
            {
                await RegisterCoreAsync(node);
            }

            await state.WriteStateAsync();
        }
        else if (state.State.BaseStates is not null)
        {
            (state.State.OpenEpoch, state.State.ClosingEpoch, state.State.BaseStates, state.State.OpenedAt, state.State.Streaks) = (null, null, null, null, null);
            await state.WriteStateAsync();
        }

        _published = Info();
    }

    public async Task RegisterNodeAsync(NodeRegistration registration)
    {
        await RegisterCoreAsync(registration);
        await state.WriteStateAsync();
    }

    public async Task RegisterNodesAsync(IReadOnlyList<NodeRegistration> registrations)
    {
        foreach (var registration in registrations)
        {
            await RegisterCoreAsync(registration);
        }

        await state.WriteStateAsync();
    }

    private async Task RegisterCoreAsync(NodeRegistration registration)
    {
        await GrainFactory.GetGrain<INodeGrain>(NodeKey.For(Settings.Id, registration.Fingerprint)).RegisterAsync(registration);
        var key = registration.Fingerprint.ToString();
        if (!state.State.Nodes.Contains(key))
        {
            state.State.Nodes.Add(key);
        }
    }

    public async Task<HandshakeReply> HelloAsync(byte[] signedHello)
    {
        var settings = Settings;
        FederationHello hello;
        Sha256Digest helloHash;
        try
        {
            var claimed = Handshake.Open<FederationHello>(signedHello, MessageTypes.Hello, h => h.NodeFingerprint).Payload.NodeFingerprint;
            var view = state.State.Nodes.Contains(claimed.ToString())
                ? await GrainFactory.GetGrain<INodeGrain>(NodeKey.For(settings.Id, claimed)).GetAsync()
                : null;
            (hello, helloHash) = Handshake.CheckHello(signedHello, settings.Id, view?.Record, settings.Policy);
        }
        catch (HandshakeException ex)
        {
            await LogRefusalAsync(VerificationReceipts.HelloRefusedType, ex.CodeName, ex.Message, signedHello);
            return new HandshakeReply(false, null, ex.CodeName, ex.Message);
        }

        var node = hello.NodeFingerprint.ToString();
        var joins = state.State.JoinCounts.GetValueOrDefault(node);
        var sessionId = Handshake.SessionId(settings.Id, hello.NodeFingerprint, helloHash, joins);
        if (!state.State.PendingSessions.TryGetValue(sessionId, out var acceptJson))
        {
            var accept = FederationAccept.Create(settings.Id, hello.NodeFingerprint, sessionId, chain.State.OpenEpoch, settings.Policy.Hash(), helloHash);
            acceptJson = System.Text.Encoding.UTF8.GetString(SignedEnvelope.Sign(accept, new Ed25519Signer(settings.RequireGovernanceKey())).ToCanonicalJson());
            if (state.State.PendingSessions.Count >= MaxPendingSessions)
            {
                state.State.PendingSessions.Remove(state.State.PendingSessions.Keys.First());
            }

            state.State.PendingSessions[sessionId] = acceptJson;
            await state.WriteStateAsync();
        }

        return new HandshakeReply(true, System.Text.Encoding.UTF8.GetBytes(acceptJson), null, $"session {sessionId} accepted at epoch {chain.State.OpenEpoch}: sign it to join");
    }

    public async Task<SessionReply> CompleteSessionAsync(byte[] signedSessionAck)
    {
        var settings = Settings;
        SessionAck ack;
        string acceptJson;
        try
        {
            var claimed = Handshake.Open<SessionAck>(signedSessionAck, MessageTypes.SessionAck, a => a.NodeFingerprint).Payload;
            if (!state.State.PendingSessions.TryGetValue(claimed.SessionId, out acceptJson!))
            {
                throw new HandshakeException(RefusalCode.MalformedMessage, $"session {claimed.SessionId} is unknown or already completed");
            }

            ack = Handshake.CheckSessionAck(signedSessionAck, SignedEnvelope.Parse(acceptJson));
        }
        catch (HandshakeException ex)
        {
            await LogRefusalAsync(VerificationReceipts.SessionRefusedType, ex.CodeName, ex.Message, signedSessionAck);
            return new SessionReply(false, null, null, null, ex.CodeName, ex.Message);
        }

        // SPEC A: the node's signature of its session is recorded in the ledger; the receipt's id is its ledger_block_id.
        var receipt = await GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Membership(settings.Id))
            .AppendAsync(MembershipReceipts.SessionRecorded(ack, System.Text.Encoding.UTF8.GetBytes(acceptJson), signedSessionAck));

        await GrainFactory.GetGrain<INodeGrain>(NodeKey.For(settings.Id, ack.NodeFingerprint)).ActivateAsync(ack.SessionId, receipt.Id);
        var node = ack.NodeFingerprint.ToString();
        state.State.PendingSessions.Remove(ack.SessionId);
        state.State.JoinCounts[node] = state.State.JoinCounts.GetValueOrDefault(node) + 1;
        await state.WriteStateAsync();
        return new SessionReply(true, receipt.Id, receipt.Seq, receipt.LeafHash, null, $"node {ack.NodeFingerprint} is active; cite {receipt.Id} as ledger_block_id");
    }

    /// <summary>Interleaves with the other calls (see the interface): it answers the published state, never one half-written.</summary>
    public Task<EpochInfo> GetEpochAsync() => Task.FromResult(_published ?? Info());

    public Task<IReadOnlyList<KeyFingerprint>> ListNodesAsync() =>
        Task.FromResult<IReadOnlyList<KeyFingerprint>>(state.State.Nodes.Select(KeyFingerprint.Parse).ToList());

    public Task<FederationPolicy> GetPolicyAsync() => Task.FromResult(Settings.Policy);

    public async Task<EpochInfo> CloseEpochAsync()
    {
        if (chain.State.Close())
        {
            // Published before the write: from now on updates of this epoch are refused as closed (the update scroll
            // returns once every update admitted before is sealed).
            _published = Info();
            await UpdateScroll.PublishEpochAsync(_published);
            await chain.WriteStateAsync();
        }

        return Info();
    }

    public Task<EpochInfo> OpenNextEpochAsync(Sha256Digest newStateHash)
    {
        chain.State.OpenNext(newStateHash, time.GetUtcNow());
        return WriteChainAndPublishAsync();
    }

    public Task<EpochInfo> ApplyEpochAsync(long epoch, Sha256Digest newStateHash, IReadOnlyDictionary<string, int> streaks)
    {
        chain.State.Apply(epoch, newStateHash, streaks, time.GetUtcNow());
        return WriteChainAndPublishAsync();
    }

    private async Task<EpochInfo> WriteChainAndPublishAsync()
    {
        try
        {
            await chain.WriteStateAsync();
        }
        finally
        {
            // Published after the write: an epoch a crash could still lose never admits an update.
            _published = Info();
        }

        await UpdateScroll.PublishEpochAsync(_published!);

        return Info();
    }

    // Every update asks for the epoch: build the answer once per change, not per call.
    private EpochInfo? _info;

    // What GetEpochAsync answers: published before a close is written and after an opening is written.
    private EpochInfo? _published;

    // Admits updates under the published epoch state.
    private IScrollGrain UpdateScroll => GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Updates(Settings.Id));

    public Task<IReadOnlyDictionary<string, int>> GetStreaksAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, int>>(chain.State.Streaks.ToDictionary());

    private EpochInfo Info()
    {
        if (_info is null || _info.OpenEpoch != chain.State.OpenEpoch || _info.ClosingEpoch != chain.State.ClosingEpoch)
        {
            _info = new EpochInfo(
                chain.State.OpenEpoch,
                chain.State.ClosingEpoch,
                Sha256Digest.Parse(chain.State.BaseStates[chain.State.OpenEpoch]),
                chain.State.BaseStates.ToDictionary(b => b.Key, b => Sha256Digest.Parse(b.Value)),
                chain.State.OpenedAt);
        }

        return _info;
    }

    /// <summary>SPEC D's verification log: every refused check is a receipt.</summary>
    private Task LogRefusalAsync(string type, string code, string message, byte[] raw) =>
        GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Verification(Settings.Id)).AppendAsync(VerificationReceipts.Refused(type, code, message, raw));
}

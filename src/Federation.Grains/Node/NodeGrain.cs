using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Grains.Services;
using Federation.Hosting;
using Federation.Storage.Governance;
using Federation.Storage.Ledger;

namespace Federation.Grains.Node;

/// <summary>
/// One node of one federation (key <c>&lt;federation&gt;/&lt;fingerprint&gt;</c>). Turn-based: one message of a
/// node at a time, so its epoch order, duplicates and equivocation are decided without races; different
/// nodes run in parallel. Every accepted update is sealed in the update scroll before it is acknowledged
/// (and so before any aggregation can see it).
/// </summary>
[GrainType("node")]
public sealed class NodeGrain(
    [PersistentState("node")] IPersistentState<NodeState> state,
    FederationDirectory federations,
    UpdateIndex updates,
    LedgerDirectory ledgers,
    GovernanceLog governanceLog,
    EpochBoard epochs,
    Telemetry.FederationMetrics metrics) : Grain, INodeGrain
{
    private string _federationId = string.Empty;
    private KeyFingerprint _fingerprint;
    private DateTimeOffset? _lastSeen;
    private Telemetry.NodeHealth _health = null!;

    // Looked up on the first update, then kept for the activation: the index and the directory never replace an
    // entry once made, so the hot path skips their lookups (and the scroll name's concatenation).
    private NodeUpdates? _mine;
    private ScrollLedger? _updateScroll;
    private string? _nodeText;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_federationId, _fingerprint) = NodeKey.Parse(GetPrimaryKeyString());
        var settings = federations.Get(_federationId); // tenants are explicit: an unknown federation fails the call
        _health = metrics.Track(_federationId, _fingerprint, settings.InactivityTimeout);
        _health.Status = state.State.Status;
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.NodeLeft(_federationId, _fingerprint);
        return Task.CompletedTask;
    }

    private void Seen() => _health.LastSeen = _lastSeen = TimeProvider.GetUtcNow();

    private async Task WriteStandingAsync()
    {
        _health.Status = state.State.Status;
        await state.WriteStateAsync();
    }

    private NodeRecord? Record(long lastEpoch = -1) => state.State.Record(_federationId, _fingerprint, lastEpoch);

    public async Task RegisterAsync(NodeRegistration registration)
    {
        if (registration.Fingerprint != _fingerprint)
        {
            throw new ArgumentException($"registration for {registration.Fingerprint} sent to the grain of {_fingerprint}");
        }

        state.State.Register(registration.TrustLevel, registration.SyncPolicy, registration.Capabilities);
        await WriteStandingAsync();
    }

    public Task<UpdateAck> SubmitAsync(VerifiedUpdate update)
    {
        if (update.Update.NodeFingerprint != _fingerprint)
        {
            throw new ArgumentException($"an update of {update.Update.NodeFingerprint} was routed to the grain of {_fingerprint}");
        }

        Seen();
        // The usual update (its epoch published as admitting it, none recorded for it yet, the index and ledger kept
        // from an earlier one) is decided without awaiting; only its seal awaits. Anything else takes the general
        // path, which decides the same way (the check is pure) with whatever it must first look up.
        if (_mine is { } mine && _updateScroll is { } updateScroll
            && epochs.TryGetAdmitting(_federationId, update.Update.FederatedEpoch, out var epoch)
            && mine.ForEpoch(update.Update.FederatedEpoch) is null)
        {
            var (decision, _) = UpdateValidator.Decide(update, Context(mine, epoch, previous: null));
            if (decision.Disposition is Disposition.Accepted or Disposition.Late)
            {
                return SealAsync(update, decision, mine, updateScroll);
            }
        }

        return DecideAndActAsync(update);
    }

    private IngestContext Context(NodeUpdates mine, EpochInfo epoch, SignedEnvelope? previous) => new(
        _federationId,
        federations.Get(_federationId).Policy,
        Record(mine.LastEpoch),
        epoch.OpenEpoch,
        epoch.ClosingEpoch,
        epoch.OpenStateHash,
        epoch.BaseStates,
        previous);

    private async Task<UpdateAck> DecideAndActAsync(VerifiedUpdate update)
    {
        // The published epoch state when it admits the update; a refusal on epoch grounds is the federation grain's word.
        var epoch = epochs.TryGetAdmitting(_federationId, update.Update.FederatedEpoch, out var published)
            ? published
            : await GrainFactory.GetGrain<IFederationGrain>(_federationId).GetEpochAsync();
        var mine = _mine ??= (await updates.ForAsync(_federationId)).For(_fingerprint);
        var previous = mine.ForEpoch(update.Update.FederatedEpoch);
        var context = Context(mine, epoch, previous is null ? null : SignedEnvelope.Parse(await updates.ReadSignedUpdateAsync(_federationId, previous)));
        var (decision, evidence) = UpdateValidator.Decide(update, context);

        switch (decision.Disposition)
        {
            case Disposition.Duplicate:
                return new UpdateAck(Disposition.Duplicate, null, decision.Message, previous!.ReceiptId, previous.Seq, previous.LeafHash);

            case Disposition.Accepted or Disposition.Late:
                var updateScroll = _updateScroll ??= await ledgers.GetAsync(FederationScrolls.Updates(_federationId));
                return await SealAsync(update, decision, mine, updateScroll);

            default:
                string? evidenceReceipt = null;
                if (evidence is not null)
                {
                    // Detection and punishment are separate: seal the evidence, then quarantine citing it.
                    var sealedEvidence = await GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Governance(_federationId))
                        .AppendAsync(EvidenceReceipts.Equivocation(evidence, update.Update.FederatedEpoch, _fingerprint));
                    evidenceReceipt = sealedEvidence.Id;
                    await SetStatusAsync(NodeStatus.Quarantined, $"equivocation in epoch {update.Update.FederatedEpoch} (evidence {sealedEvidence.Id})", sealedEvidence.Id);
                }

                await LogRefusalAsync(decision.CodeName!, decision.Message, update.Envelope.SignedBytes, update.Update.FederatedEpoch);
                return new UpdateAck(Disposition.Refused, decision.CodeName, decision.Message, EvidenceReceipt: evidenceReceipt);
        }
    }

    /// <summary>Seals an admitted update in the update scroll (straight to the ledger, as ScrollGrain.AppendAsync does: the
    /// ledger orders and seals; a grain hop per update would only add a turn), then records and acknowledges it.</summary>
    private async Task<UpdateAck> SealAsync(VerifiedUpdate update, IngestDecision decision, NodeUpdates mine, ScrollLedger updateScroll)
    {
        var late = decision.Disposition == Disposition.Late;
        var signedHash = Sha256Digest.Of(update.Envelope.SignedBytes);
        var receipt = await updateScroll.AppendAsync(UpdateReceipts.Prepare(update, signedHash, late, updateScroll.Scroll, updateScroll.SizeHint, _nodeText ??= _fingerprint.ToString()));
        mine.Record(new RecordedUpdate(update.Update.FederatedEpoch, signedHash, receipt.Id, receipt.Seq, receipt.LeafHash, late));
        return new UpdateAck(decision.Disposition, null, decision.Message, receipt.Id, receipt.Seq, receipt.LeafHash);
    }

    public async Task<HeartbeatAck> HeartbeatAsync(byte[] signedHeartbeat)
    {
        Heartbeat head;
        SignedEnvelope envelope;
        try
        {
            (envelope, head) = Handshake.Open<Heartbeat>(signedHeartbeat, MessageTypes.Heartbeat, h => h.NodeFingerprint);
            if (head.NodeFingerprint != _fingerprint)
            {
                throw new HandshakeException(RefusalCode.BadSignature, $"a heartbeat of {head.NodeFingerprint} was routed to {_fingerprint}");
            }

            if (head.FederationId != _federationId || !head.Scroll.StartsWith(_federationId + ".", StringComparison.Ordinal))
            {
                throw new HandshakeException(RefusalCode.WrongFederation, $"the heartbeat names federation \"{head.FederationId}\" and scroll \"{head.Scroll}\", not federation \"{_federationId}\"");
            }

            if (!state.State.MayReport)
            {
                throw new HandshakeException(!state.State.Registered ? RefusalCode.UnknownNode : RefusalCode.RevokedNode, $"node {_fingerprint} may not report to federation \"{_federationId}\"");
            }
        }
        catch (HandshakeException ex)
        {
            await LogRefusalAsync(ex.CodeName, ex.Message, signedHeartbeat, null);
            return new HeartbeatAck(HeadVerdict.Consistent, ex.Message, Code: ex.CodeName);
        }

        Seen();
        var ledger = await ledgers.GetAsync(head.Scroll);
        var verdict = LedgerHeadCheck.Check(head, ledger.Size, ledger.Root);
        if (verdict == HeadVerdict.Ahead)
        {
            return new HeartbeatAck(verdict, $"the node reports {head.Size} receipts of {head.Scroll}; the coordinator holds {ledger.Size}");
        }

        if (verdict == HeadVerdict.Consistent)
        {
            return new HeartbeatAck(verdict, $"head {head.Size} of {head.Scroll} is consistent");
        }

        await ledger.SealAsync();
        var checkpoint = ledger.LatestCheckpoint!;
        var evidence = new LedgerDivergenceEvidence(envelope, ledger.LatestCheckpointNote!, ledger.Root(head.Size), ledger.ConsistencyProof(head.Size, checkpoint.Size));
        var sealedEvidence = await GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Governance(_federationId))
            .AppendAsync(EvidenceReceipts.LedgerDivergence(evidence, head.Scroll, head.Size, _fingerprint));
        await SetStatusAsync(NodeStatus.Quarantined, $"ledger divergence on {head.Scroll} at size {head.Size} (evidence {sealedEvidence.Id})", sealedEvidence.Id);
        // No epoch decides this one (the heartbeat monitor does), so the review entry is written here.
        governanceLog.Append(GovernanceLogEntries.LedgerDivergenceQuarantine(_federationId, _fingerprint, sealedEvidence.Id, evidence.Hash(), head.Scroll, head.Size));
        return new HeartbeatAck(verdict, $"the node's root at size {head.Size} contradicts the coordinator's scroll: quarantined", sealedEvidence.Id);
    }

    public async Task ActivateAsync(string sessionId, string ledgerBlockId)
    {
        state.State.Activate(_fingerprint, sessionId, ledgerBlockId);
        Seen();
        await WriteStandingAsync();
    }

    public async Task SetStatusAsync(NodeStatus status, string reason, string? evidenceReceipt = null)
    {
        if (state.State.SetStatus(_federationId, _fingerprint, status, reason, evidenceReceipt))
        {
            await WriteStandingAsync();
        }
    }

    public async Task ApplyVerdictAsync(Core.Governance.VerdictKind verdict, string reason, string evidenceReceipt, string verdictReceipt)
    {
        state.State.ApplyVerdict(_fingerprint, verdict, reason, evidenceReceipt, verdictReceipt);
        await WriteStandingAsync();
    }

    public async Task<NodeView?> GetAsync()
    {
        if (!state.State.Registered)
        {
            return null;
        }

        var mine = (await updates.ForAsync(_federationId)).For(_fingerprint);
        var timeout = federations.Get(_federationId).InactivityTimeout;
        var inactive = state.State.Status == NodeStatus.Active && (_lastSeen is null || TimeProvider.GetUtcNow() - _lastSeen > timeout);
        return new NodeView(Record(mine.LastEpoch)!, _lastSeen, inactive, mine.Count, state.State.EvidenceReceipt);
    }

    /// <summary>SPEC D's verification log: every refused signature or hash check is a receipt.</summary>
    private Task LogRefusalAsync(string code, string message, byte[] signedBytes, long? epoch) =>
        GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Verification(_federationId))
            .AppendAsync(VerificationReceipts.Refused(VerificationReceipts.UpdateRefusedType, code, message, signedBytes, _fingerprint.ToString(), epoch));
}

using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Grains.Services;
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
    EpochHints epochs,
    SealBatcher sealer,
    GovernanceLog governanceLog,
    Telemetry.FederationMetrics metrics,
    TimeProvider time) : Grain, INodeGrain
{
    private string _federationId = string.Empty;
    private KeyFingerprint _fingerprint;
    private DateTimeOffset? _lastSeen;
    private Telemetry.NodeHealth _health = null!;

    // This node's sealed updates: asked of the update scroll's grain once per activation, then kept current here
    // (every update of this node is sealed through this activation).
    private Task<NodeUpdates>? _mine;
    private IScrollGrain _updateScroll = null!;
    private string _updateScrollName = string.Empty;
    private IFederationGrain _federation = null!;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_federationId, _fingerprint) = NodeKey.Parse(this.GetPrimaryKeyString());
        var settings = federations.Get(_federationId); // tenants are explicit: an unknown federation fails the call
        _updateScrollName = FederationScrolls.Updates(_federationId);
        _updateScroll = GrainFactory.GetGrain<IScrollGrain>(_updateScrollName);
        _federation = GrainFactory.GetGrain<IFederationGrain>(_federationId);
        _health = metrics.Track(_federationId, _fingerprint, settings.InactivityTimeout);
        _health.Status = state.State.Status;
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.NodeLeft(_federationId, _fingerprint);
        return Task.CompletedTask;
    }

    private void Seen() => _health.LastSeen = _lastSeen = time.GetUtcNow();

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

    public async Task<UpdateAck> SubmitAsync(VerifiedUpdate update)
    {
        if (update.Update.NodeFingerprint != _fingerprint)
        {
            throw new ArgumentException($"an update of {update.Update.NodeFingerprint} was routed to the grain of {_fingerprint}");
        }

        Seen();
        var mine = await Mine();
        var previous = mine.ForEpoch(update.Update.FederatedEpoch);
        var previousEnvelope = previous is null ? null : SignedEnvelope.Parse(await ReadSignedUpdateAsync(previous));

        // Decided under the epoch state the update scroll admits updates under, as this silo last heard it (EpochHints).
        // The scroll seals only under its current state; under another it answers with the current one, and the update
        // is decided again. A refusal decided under a state heard earlier is checked against the current one first.
        var hint = epochs.For(_federationId);
        var heard = hint is not null;
        var epoch = hint ?? epochs.Heard(_federationId, await _updateScroll.EpochAsync());
        IngestDecision decision;
        EquivocationEvidence? evidence;
        while (true)
        {
            var context = new IngestContext(
                _federationId,
                federations.Get(_federationId).Policy,
                Record(mine.LastEpoch),
                epoch.OpenEpoch,
                epoch.ClosingEpoch,
                epoch.OpenStateHash,
                epoch.BaseStates,
                previousEnvelope);
            (decision, evidence) = UpdateValidator.Decide(update, context);
            if (decision.Disposition is Disposition.Accepted or Disposition.Late)
            {
                // Sealed in the update scroll before it is acknowledged (and so before any aggregation can see it).
                var late = decision.Disposition == Disposition.Late;
                var sealing = await sealer.SealAsync(_updateScrollName, new UpdateSeal(update, late, epoch.OpenEpoch, epoch.ClosingEpoch));
                if (sealing.Receipt is not { } receipt)
                {
                    epoch = epochs.Heard(_federationId, sealing.Epoch!);
                    heard = false;
                    continue;
                }

                mine.Record(new RecordedUpdate(update.Update.FederatedEpoch, update.SignedHash, receipt.Id, receipt.Seq, receipt.LeafHash, late));
                return new UpdateAck(decision.Disposition, null, decision.Message, receipt.Id, receipt.Seq, receipt.LeafHash);
            }

            if (decision.Disposition is not Disposition.Duplicate && heard)
            {
                epoch = epochs.Heard(_federationId, await _updateScroll.EpochAsync());
                heard = false;
                continue;
            }

            break;
        }

        switch (decision.Disposition)
        {
            case Disposition.Duplicate:
                return new UpdateAck(Disposition.Duplicate, null, decision.Message, previous!.ReceiptId, previous.Seq, previous.LeafHash);

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

    private Task<NodeUpdates> Mine() => _mine ??= LoadMineAsync();

    private async Task<NodeUpdates> LoadMineAsync()
    {
        var mine = new NodeUpdates();
        foreach (var recorded in await _updateScroll.RecordedAsync(_fingerprint))
        {
            mine.Record(recorded);
        }

        return mine;
    }

    /// <summary>The signed update a recorded receipt sealed (canonical JSON), read back from the update scroll.</summary>
    private async Task<byte[]> ReadSignedUpdateAsync(RecordedUpdate recorded)
    {
        var lines = await _updateScroll.ReadAsync(recorded.Seq, recorded.Seq + 1);
        return lines.Count == 1
            ? Core.Canonical.CanonicalJson.Write(Receipt.Parse(lines[0]).Body["update"])
            : throw new InvalidOperationException($"receipt {recorded.ReceiptId} is not in the update scroll");
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
        var scroll = GrainFactory.GetGrain<IScrollGrain>(head.Scroll);
        var coordinator = await scroll.HeadAsync();
        var rootAtHead = head.Size <= coordinator.Size ? await scroll.RootAsync(head.Size) : default;
        var verdict = LedgerHeadCheck.Check(head, coordinator.Size, _ => rootAtHead);
        if (verdict == HeadVerdict.Ahead)
        {
            return new HeartbeatAck(verdict, $"the node reports {head.Size} receipts of {head.Scroll}; the coordinator holds {coordinator.Size}");
        }

        if (verdict == HeadVerdict.Consistent)
        {
            return new HeartbeatAck(verdict, $"head {head.Size} of {head.Scroll} is consistent");
        }

        var proof = await scroll.ProveConsistencyAsync(head.Size);
        var evidence = new LedgerDivergenceEvidence(envelope, proof.CheckpointNote, proof.RootAtSize, proof.Proof);
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

    public async Task<string> RevokeAsync(string reason, string revokedBy)
    {
        var previous = Record()?.Status.ToString().ToLowerInvariant() ?? "unregistered";
        var sealedReceipt = await GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Governance(_federationId))
            .AppendAsync(EvidenceReceipts.Revoked(_fingerprint, reason, revokedBy, previous));
        governanceLog.Append(GovernanceLogEntries.Revocation(_federationId, _fingerprint, sealedReceipt.Id, reason, revokedBy));
        await SetStatusAsync(NodeStatus.Revoked, $"revoked by {revokedBy}: {reason} (receipt {sealedReceipt.Id})", sealedReceipt.Id);
        return sealedReceipt.Id;
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

        var mine = await Mine();
        var timeout = federations.Get(_federationId).InactivityTimeout;
        var inactive = state.State.Status == NodeStatus.Active && (_lastSeen is null || time.GetUtcNow() - _lastSeen > timeout);
        return new NodeView(Record(mine.LastEpoch)!, _lastSeen, inactive, mine.Count, state.State.EvidenceReceipt);
    }

    /// <summary>SPEC D's verification log: every refused signature or hash check is a receipt.</summary>
    private Task LogRefusalAsync(string code, string message, byte[] signedBytes, long? epoch) =>
        GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Verification(_federationId))
            .AppendAsync(VerificationReceipts.Refused(VerificationReceipts.UpdateRefusedType, code, message, signedBytes, _fingerprint.ToString(), epoch));
}

using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Hashing;
using Federation.Core.Membership;
using Federation.Core.Scrolls;
using Federation.Grains.Scroll;
using Federation.Grains.Services;
using Federation.Storage.Governance;
using Federation.Storage.Ledger;

namespace Federation.Grains.Epoch;

/// <summary>Reports of the epochs this aggregator ran (names are part of the storage format).</summary>
public sealed class EpochHistory
{
    public List<EpochReport> Reports { get; set; } = [];
}

/// <summary>
/// The aggregator of one federation (SPEC A): closes the open epoch, hands every validator the same inputs,
/// relays their PBFT messages (it is their network, and the one place timeouts are driven), and applies the
/// committed result: evidence and the decision with its commit certificate sealed in the governance scroll,
/// quarantines, <c>META-GOVERNANCE-LOG.md</c> entries, and the next epoch on the new global state.
/// </summary>
[GrainType("epoch")]
public sealed class EpochGrain(
    [PersistentState("epochs")] IPersistentState<EpochHistory> history,
    ValidatorDirectory validators,
    FederationDirectory federations,
    GovernanceLog governanceLog,
    EpochOptions options,
    Telemetry.FederationMetrics metrics,
    TimeProvider time) : Grain, IEpochGrain, IRemindable
{
    public const string DeadlineReminder = "epoch-deadline";

    private IDisposable? _quorumTimer;
    private readonly EpochClosing _closing = new(options.QuorumFraction, options.Grace, options.Deadline);
    private bool _running;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _quorumTimer = this.RegisterGrainTimer(CheckQuorumAsync, options.CheckInterval, options.CheckInterval);
        return Task.CompletedTask;
    }

    public Task KeepAsync() => Task.CompletedTask;

    public async Task StartAsync() =>
        await this.RegisterOrUpdateReminder(DeadlineReminder, options.Deadline, options.Deadline);

    /// <summary>The durable deadline: after downtime it fires once; an epoch open past its deadline closes.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        var info = await GrainFactory.GetGrain<IFederationGrain>(this.GetPrimaryKeyString()).GetEpochAsync();
        if (reminderName == DeadlineReminder && _closing.OnDeadline(info.OpenedAt, time.GetUtcNow()))
        {
            await RunOnceAsync();
        }
    }

    /// <summary>A quorum of active nodes has submitted for the open epoch: wait the grace period, then close.</summary>
    private async Task CheckQuorumAsync()
    {
        var federationId = this.GetPrimaryKeyString();
        var federation = GrainFactory.GetGrain<IFederationGrain>(federationId);
        var info = await federation.GetEpochAsync();
        var submitted = await GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Updates(federationId)).SubmittedAsync(info.OpenEpoch);
        var active = 0;
        if (info.ClosingEpoch is null && submitted > 0)
        {
            foreach (var node in await federation.ListNodesAsync())
            {
                if ((await GrainFactory.GetGrain<INodeGrain>(NodeKey.For(federationId, node)).GetAsync())?.Record.Status == NodeStatus.Active)
                {
                    active++;
                }
            }
        }

        if (_closing.OnCheck(info.ClosingEpoch is not null, submitted, active, time.GetUtcNow()))
        {
            await RunOnceAsync();
        }
    }

    private async Task RunOnceAsync()
    {
        if (!_running)
        {
            await RunAsync();
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _quorumTimer?.Dispose();
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<EpochReport>> HistoryAsync() => Task.FromResult<IReadOnlyList<EpochReport>>(history.State.Reports.ToList());

    public async Task<EpochReport> RunAsync()
    {
        var federationId = this.GetPrimaryKeyString();
        var federation = GrainFactory.GetGrain<IFederationGrain>(federationId);
        var info = await federation.GetEpochAsync();
        var epoch = info.ClosingEpoch ?? info.OpenEpoch;
        EpochReport report;
        _running = true;
        try
        {
            report = await RunCoreAsync(federationId, federation, epoch);
        }
        catch (LedgerHaltedException ex)
        {
            // SPEC A: a ledger mismatch at the coordinator halts new epochs; rollback is the operator's step.
            report = new EpochReport(epoch, EpochState.Failed, $"halted: {ex.Message}", null, null, 0, [], [], 0, 0);
        }
        finally
        {
            _running = false;
        }

        history.State.Reports.Add(report);
        await history.WriteStateAsync();
        return report;
    }

    private async Task<EpochReport> RunCoreAsync(string federationId, IFederationGrain federation, long epoch)
    {
        var settings = federations.Get(federationId);
        var set = validators.SetOf(federationId);
        var updates = GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Updates(federationId));
        var governance = GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Governance(federationId));

        // Close: from here updates for this epoch are refused ("epoch closed") or, later, sealed as late.
        var info = await federation.CloseEpochAsync();
        var closedAt = time.GetUtcNow();
        var cutoff = (await updates.HeadAsync()).Size;
        var nodes = await federation.ListNodesAsync();
        var active = new List<KeyFingerprint>();
        foreach (var node in nodes)
        {
            var view = await GrainFactory.GetGrain<INodeGrain>(NodeKey.For(federationId, node)).GetAsync();
            if (view?.Record.Status == NodeStatus.Active)
            {
                active.Add(node);
            }
        }

        var inputs = new EpochInputs(epoch, cutoff, info.BaseStates[epoch], active, await federation.GetStreaksAsync(), await EpochInputsReader.ReadQuarantinedAtIngestAsync(ScrollReader.ReadAllAsync(governance), epoch));

        // Propose and vote: every validator recomputes from the scroll; this grain relays their messages.
        var members = set.Ids.Select(id => GrainFactory.GetGrain<IValidatorGrain>($"{federationId}/{id}")).ToList();
        var round = new ConsensusRound(set, validators.ViewTimeout, validators.MaxViewChanges);
        var steps = new ValidatorStep[members.Count];
        void Report(int index, ValidatorStep step)
        {
            steps[index] = step;
            metrics.VotesSent(federationId, step.Outbound);
            round.Report(index, new ReplicaReport(step.Outbound, step.Committed, step.View, step.Evidence));
        }

        // Validators recompute in parallel (each re-reads and re-verifies the epoch's updates).
        var begun = await Task.WhenAll(members.Select(m => m.BeginAsync(inputs)));
        for (var i = 0; i < members.Count; i++)
        {
            Report(i, begun[i]);
        }

        while (true)
        {
            while (round.TryNextDelivery(out var to, out var message))
            {
                Report(to, await members[to].ReceiveAsync(epoch, message));
            }

            if (round.IsDecided)
            {
                break;
            }

            // No quorum has committed and the network is quiet: the view timer expires; it doubles each time.
            await Task.Delay(round.NextTimeout, time);
            foreach (var i in round.ExpireView())
            {
                Report(i, await members[i].TimeoutAsync(epoch));
            }
        }

        var result = round.Result();
        metrics.EpochEnded(federationId, result.Committed, time.GetUtcNow() - closedAt, round.ViewChanges);
        var flagged = await SealValidatorEvidenceAsync(federationId, result.Evidence, set);
        if (!result.Committed)
        {
            return new EpochReport(epoch, EpochState.Failed, result.Failure, null, null, result.View, [], flagged, 0, 0);
        }

        var digest = result.Digest!.Value;
        var committed = steps[result.CertificateFrom];

        // Apply: the aggregator recomputes too; it applies only the committed digest.
        var updatesOfEpoch = await ValidatorGrain.ReadUpdatesAsync(updates, epoch, cutoff);
        var outcome = EpochComputation.Compute(inputs.Epoch, inputs.BaseState, updatesOfEpoch, inputs.Active, settings.Policy, validators.PolicyOf(federationId), inputs.Streaks, inputs.QuarantinedAtIngest);
        if (outcome.Proposal.Digest() != digest)
        {
            return new EpochReport(epoch, EpochState.Failed, $"the committed digest {digest} is not the aggregator's own recomputation {outcome.Proposal.Digest()}", digest, null, committed.View, [], flagged, 0, 0);
        }

        return await ApplyAsync(federationId, federation, governance, outcome, digest, committed, flagged);
    }

    private async Task<EpochReport> ApplyAsync(string federationId, IFederationGrain federation, IScrollGrain governance, EpochOutcome outcome, Sha256Digest digest, ValidatorStep committed, IReadOnlyList<string> flagged)
    {
        var proposal = outcome.Proposal;
        var governanceScroll = GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Governance(federationId));
        var evidenceReceipts = new Dictionary<KeyFingerprint, string>();
        foreach (var divergence in outcome.DivergenceEvidence)
        {
            var sealedEvidence = await governanceScroll.AppendAsync(EvidenceReceipts.Divergence(divergence, proposal.Epoch));
            evidenceReceipts[divergence.Node] = sealedEvidence.Id;
        }

        // The aligned updates (alignment-tree leaves, in order) go in chunks so no receipt outgrows a scroll line;
        // with them anyone rebuilds the alignment tree, its root and every update's alignment proof.
        var alignmentReceipts = new List<string>();
        foreach (var chunk in EpochReceipts.Alignment(proposal.Epoch, outcome.Alignment.Included))
        {
            alignmentReceipts.Add((await governanceScroll.AppendAsync(chunk)).Id);
        }

        var sealedDecision = await governanceScroll.AppendAsync(EpochReceipts.Committed(proposal, digest, committed.View, outcome.Aggregate, alignmentReceipts, committed.CommitCertificate));
        governanceLog.Append(GovernanceLogEntries.EpochApplied(federationId, proposal, digest, sealedDecision.Id, committed.CommitCertificate.Count, committed.View));

        var quarantined = new List<string>();
        foreach (var entry in proposal.Quarantined)
        {
            var receipt = evidenceReceipts.GetValueOrDefault(entry.Node) ?? (await GrainFactory.GetGrain<INodeGrain>(NodeKey.For(federationId, entry.Node)).GetAsync())?.QuarantineEvidence ?? sealedDecision.Id;
            var quarantinedNode = GrainFactory.GetGrain<INodeGrain>(NodeKey.For(federationId, entry.Node));
            await quarantinedNode.SetStatusAsync(NodeStatus.Quarantined, $"{entry.Reason} in epoch {proposal.Epoch} (evidence {receipt})", receipt);

            // A reviewer may have decided this evidence before the epoch committed (the node then keeps its verdict's standing).
            var standing = (await quarantinedNode.GetAsync())?.Record.Status ?? NodeStatus.Quarantined;
            governanceLog.Append(GovernanceLogEntries.EpochQuarantine(federationId, entry, proposal.Epoch, receipt, sealedDecision.Id, standing));
            quarantined.Add(entry.Node.ToString());
        }

        await federation.ApplyEpochAsync(proposal.Epoch, proposal.NewStateHash, outcome.Streaks.ToDictionary(s => s.Key.ToString(), s => s.Value));
        await PublishAdvisoriesAsync(federationId, outcome);
        return new EpochReport(proposal.Epoch, EpochState.Committed, null, digest, sealedDecision.Id, committed.View, quarantined, flagged, proposal.Included.Count, proposal.Excluded.Count);
    }

    /// <summary>
    /// SPEC B: the committed epoch's drift (canon drift detections; vector nodes above the flag threshold) becomes
    /// advisories. Ids are deterministic, so publishing again after a crash finds the same advisories.
    /// </summary>
    private async Task PublishAdvisoriesAsync(string federationId, EpochOutcome outcome)
    {
        foreach (var advisory in Core.Governance.Advisories.FromOutcome(federationId, outcome))
        {
            await GrainFactory.GetGrain<IAdvisoryGrain>(AdvisoryKey.For(federationId, advisory.AdvisoryId)).PublishAsync(advisory);
        }
    }

    /// <summary>A validator that signed two different votes for one epoch, view and phase is flagged to governance with both votes.</summary>
    private async Task<IReadOnlyList<string>> SealValidatorEvidenceAsync(string federationId, IReadOnlyList<byte[]> evidence, ValidatorSet set)
    {
        var flagged = new List<string>();
        foreach (var (validator, draft) in EvidenceReceipts.ValidatorFlags(evidence))
        {
            var receipt = await GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Governance(federationId)).AppendAsync(draft);
            governanceLog.Append(GovernanceLogEntries.ValidatorFlag(federationId, validator, receipt.Id, set.N));
            flagged.Add(receipt.Id);
        }

        return flagged;
    }
}

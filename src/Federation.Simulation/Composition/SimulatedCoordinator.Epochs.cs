using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Hashing;
using Federation.Core.Membership;
using Federation.Core.Scrolls;
using Federation.Simulation.Checking;
using Federation.Storage.Ledger;

namespace Federation.Simulation.Composition;

/// <summary>The epoch of the simulated coordinator: close, vote, apply (what the epoch and validator grains do).</summary>
public sealed partial class SimulatedCoordinator
{
    private List<SimulatedValidator>? _validators;

    private List<SimulatedValidator> Validators => _validators ??= _settings.Validators.Select(v => new SimulatedValidator(v, _validatorSet)).ToList();

    /// <summary>Persisted state of a published advisory (its id, epoch and the receipts of its transitions).</summary>
    private sealed class PublishedAdvisory
    {
        public string AdvisoryId { get; set; } = string.Empty;

        public long Epoch { get; set; }

        public List<string> Receipts { get; set; } = [];
    }

    /// <summary>The digest validator <paramref name="validator"/> committed for <paramref name="epoch"/> (null: none, or its replica was lost in a crash).</summary>
    public Sha256Digest? CommittedBy(int validator, long epoch) => Validators[validator].Committed(epoch);

    /// <summary>Closes the open epoch and drives it to committed, or to failed with a reason (the federation then halts safely).</summary>
    public async Task<EpochRun> RunEpochAsync()
    {
        var epoch = _chain.ClosingEpoch ?? _chain.OpenEpoch;
        try
        {
            return await RunEpochCoreAsync(epoch);
        }
        catch (LedgerHaltedException ex)
        {
            // SPEC A: a ledger mismatch at the coordinator halts new epochs; rollback is the operator's step.
            return new EpochRun(epoch, RunEpochState.Failed, $"halted: {ex.Message}", null, null, 0, [], [], 0, 0);
        }
    }

    private async Task<EpochRun> RunEpochCoreAsync(long epoch)
    {
        var updates = await Ledgers.GetAsync(FederationScrolls.Updates(Federation));
        var governance = await Ledgers.GetAsync(FederationScrolls.Governance(Federation));

        // Close: from here updates for this epoch are refused ("epoch closed") or, later, sealed as late.
        if (_chain.Close())
        {
            _store.Write(ChainKey, _chain);
        }

        var cutoff = updates.Size;
        var active = new List<KeyFingerprint>();
        foreach (var node in _membership.Nodes.Select(KeyFingerprint.Parse))
        {
            if ((await NodeRecordAsync(node))?.Status == NodeStatus.Active)
            {
                active.Add(node);
            }
        }

        var baseState = Epoch.BaseStates[epoch];
        IReadOnlyDictionary<string, int> streaks = _chain.Streaks.ToDictionary();
        var quarantinedAtIngest = await EpochInputsReader.ReadQuarantinedAtIngestAsync(governance, epoch);
        async Task<EpochOutcome> ComputeAsync() =>
            EpochComputation.Compute(epoch, baseState, await EpochInputsReader.ReadUpdatesAsync(updates, epoch, cutoff), active, Policy, _settings.Aggregation, streaks, quarantinedAtIngest);

        // Propose and vote: every validator recomputes from the scroll itself; the round relays their messages.
        var round = new ConsensusRound(_validatorSet, _settings.ViewTimeout, _settings.MaxViewChanges);
        var steps = new ValidatorStepResult[Validators.Count];
        void Report(int index, ValidatorStepResult step)
        {
            steps[index] = step;
            round.Report(index, step.Report);
        }

        for (var i = 0; i < Validators.Count; i++)
        {
            Report(i, Validators[i].Begin(epoch, (await ComputeAsync()).Proposal.Digest()));
        }

        while (true)
        {
            while (round.TryNextDelivery(out var to, out var message))
            {
                Report(to, Validators[to].Receive(epoch, message));
            }

            if (round.IsDecided)
            {
                break;
            }

            // No quorum has committed and the network is quiet: the view timer expires on the virtual clock; it doubles each time.
            _clock.Advance(round.NextTimeout);
            foreach (var i in round.ExpireView())
            {
                Report(i, Validators[i].Timeout(epoch));
            }
        }

        var result = round.Result();
        var flagged = new List<string>();
        foreach (var (validator, draft) in EvidenceReceipts.ValidatorFlags(result.Evidence))
        {
            var receipt = await governance.AppendAsync(draft);
            _store.GovernanceLog.Append(GovernanceLogEntries.ValidatorFlag(Federation, validator, receipt.Id, _validatorSet.N));
            flagged.Add(receipt.Id);
        }

        if (!result.Committed)
        {
            return new EpochRun(epoch, RunEpochState.Failed, result.Failure, null, null, result.View, [], flagged, 0, 0);
        }

        var digest = result.Digest!.Value;
        var committed = steps[result.CertificateFrom];

        // Apply: the aggregator recomputes too; it applies only the committed digest.
        var outcome = await ComputeAsync();
        if (outcome.Proposal.Digest() != digest)
        {
            return new EpochRun(epoch, RunEpochState.Failed, $"the committed digest {digest} is not the aggregator's own recomputation {outcome.Proposal.Digest()}", digest, null, committed.View, [], flagged, 0, 0);
        }

        return await ApplyAsync(governance, outcome, digest, committed, flagged);
    }

    private async Task<EpochRun> ApplyAsync(ScrollLedger governance, EpochOutcome outcome, Sha256Digest digest, ValidatorStepResult committed, IReadOnlyList<string> flagged)
    {
        var proposal = outcome.Proposal;
        var evidenceReceipts = new Dictionary<KeyFingerprint, string>();
        foreach (var divergence in outcome.DivergenceEvidence)
        {
            evidenceReceipts[divergence.Node] = (await governance.AppendAsync(EvidenceReceipts.Divergence(divergence, proposal.Epoch))).Id;
        }

        var alignmentReceipts = new List<string>();
        foreach (var chunk in EpochReceipts.Alignment(proposal.Epoch, outcome.Alignment.Included))
        {
            alignmentReceipts.Add((await governance.AppendAsync(chunk)).Id);
        }

        var decision = await governance.AppendAsync(EpochReceipts.Committed(proposal, digest, committed.View, outcome.Aggregate, alignmentReceipts, committed.CommitCertificate));
        _store.GovernanceLog.Append(GovernanceLogEntries.EpochApplied(Federation, proposal, digest, decision.Id, committed.CommitCertificate.Count, committed.View));

        var quarantined = new List<string>();
        foreach (var entry in proposal.Quarantined)
        {
            var node = Node(entry.Node);
            var receipt = evidenceReceipts.GetValueOrDefault(entry.Node) ?? (node.Registered ? node.EvidenceReceipt : null) ?? decision.Id;
            SetStatus(entry.Node, NodeStatus.Quarantined, $"{entry.Reason} in epoch {proposal.Epoch} (evidence {receipt})", receipt);

            // A reviewer may have decided this evidence before the epoch committed (the node then keeps its verdict's standing).
            var standing = node.Registered ? node.Status : NodeStatus.Quarantined;
            _store.GovernanceLog.Append(GovernanceLogEntries.EpochQuarantine(Federation, entry, proposal.Epoch, receipt, decision.Id, standing));
            quarantined.Add(entry.Node.ToString());
        }

        _chain.Apply(proposal.Epoch, proposal.NewStateHash, outcome.Streaks.ToDictionary(s => s.Key.ToString(), s => s.Value), _clock.GetUtcNow());
        _store.Write(ChainKey, _chain);
        await PublishAdvisoriesAsync(governance, outcome);
        return new EpochRun(proposal.Epoch, RunEpochState.Committed, null, digest, decision.Id, committed.View, quarantined, flagged, proposal.Included.Count, proposal.Excluded.Count);
    }

    /// <summary>SPEC B: the committed epoch's drift becomes advisories; ids are deterministic, so one published before a crash is not published again.</summary>
    private async Task PublishAdvisoriesAsync(ScrollLedger governance, EpochOutcome outcome)
    {
        foreach (var advisory in Advisories.FromOutcome(Federation, outcome))
        {
            var key = "advisory/" + advisory.AdvisoryId;
            if (_store.Contains(key))
            {
                continue;
            }

            var receipt = await governance.AppendAsync(AdvisoryReceipts.Published(advisory));
            _store.Write(key, new PublishedAdvisory { AdvisoryId = advisory.AdvisoryId, Epoch = advisory.Epoch, Receipts = [receipt.Id] });
        }
    }
}

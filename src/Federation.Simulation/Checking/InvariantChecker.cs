using System.Text.Json.Nodes;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Merkle;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Storage.Ledger;

namespace Federation.Simulation.Checking;

/// <summary>One check of a run (docs/formats/scenario.md lists them).</summary>
public sealed record InvariantResult(string Name, bool Pass, string Detail)
{
    public JsonObject ToJson() => new() { ["name"] = Name, ["pass"] = Pass, ["detail"] = Detail };
}

/// <summary>
/// The safety and liveness properties of a run (docs/formats/scenario.md), checked over its neutral
/// <see cref="RunRecord"/> and its sealed scrolls: agreement, validity, detection, liveness, nothing_lost.
/// The same checks whoever produced the run.
/// </summary>
public static class InvariantChecker
{
    public static readonly IReadOnlyList<string> Names = ["agreement", "validity", "detection", "liveness", "nothing_lost"];

    public static async Task<IReadOnlyList<InvariantResult>> CheckAsync(RunRecord record, RunLedgers ledgers, AnchorFile anchors)
    {
        var committed = record.Epochs.Count(r => r.State == RunEpochState.Committed);
        var validity = Validity(record, ledgers);
        return
        [
            Agreement(record),
            new("validity", validity.Count == 0, validity.Count == 0 ? $"every included update of {committed} committed epoch(s) is an accepted, validly signed update of a node active in that epoch" : Summarise(validity)),
            Detection(record, ledgers),
            Liveness(record, committed),
            await NothingLostAsync(record, ledgers, anchors),
        ];
    }

    /// <summary>In every epoch, every honest validator that committed committed the decision's digest.</summary>
    private static InvariantResult Agreement(RunRecord record)
    {
        var honest = Enumerable.Range(0, record.Scenario.Validators).Where(v => record.BehaviourOf(v) == Core.Consensus.ValidatorBehaviour.Honest).Select(RunRecord.ValidatorId).ToHashSet();
        var problems = new List<string>();
        foreach (var report in record.Epochs)
        {
            var committed = record.ValidatorCommits[report.Epoch].Where(d => honest.Contains(d.Validator) && d.Digest is not null).ToList();
            if (committed.Select(d => d.Digest).Distinct().Count() > 1 || (report.Digest is { } digest && committed.Any(d => d.Digest != digest)))
            {
                problems.Add($"epoch {report.Epoch}: honest validators committed {string.Join(", ", committed.Select(d => $"{d.Validator}={d.Digest}"))}, the decision says {report.Digest}");
            }
        }

        return new("agreement", problems.Count == 0, problems.Count == 0 ? $"in every epoch every honest validator that committed ({honest.Count} honest) committed the decision's digest" : Summarise(problems));
    }

    /// <summary>Every included update of a committed epoch is an accepted, validly signed, on-time update of a node active in that epoch.</summary>
    private static List<string> Validity(RunRecord record, RunLedgers ledgers)
    {
        var validity = new List<string>();
        foreach (var report in record.Epochs.Where(r => r.State == RunEpochState.Committed))
        {
            var decision = ledgers.GovernanceReceipt(report.CommitReceipt!);
            var alignmentHash = Sha256Digest.Parse(decision.Body["proposal"]!["alignment_hash"]!.GetValue<string>());
            var leaves = ledgers.Leaves(decision);
            if (leaves.Count > 0 && RunLedgers.AlignmentTree(leaves).Root() != alignmentHash)
            {
                validity.Add($"epoch {report.Epoch}: the sealed alignment leaves do not rebuild the alignment hash");
            }

            foreach (var leaf in leaves)
            {
                CheckLeaf(record, report.Epoch, leaf, ledgers.Updates, validity);
            }
        }

        return validity;
    }

    private static void CheckLeaf(RunRecord record, long epoch, SealedLeaf leaf, IReadOnlyList<Receipt> updates, List<string> validity)
    {
        var (seq, node, updateHash) = (leaf.Seq, leaf.Node, leaf.UpdateHash);
        var simulated = record.Nodes.FirstOrDefault(n => n.Fingerprint == node);
        if (simulated is null || seq >= updates.Count)
        {
            validity.Add($"epoch {epoch}: included update at seq {seq} of {node.Short} names no simulated node or receipt");
            return;
        }

        var receipt = updates[(int)seq];
        if (receipt.Type != UpdateReceipts.AcceptedType || receipt.Node != node.ToString() || (long)receipt.Body["federated_epoch"]!.GetValue<double>() != epoch
            || receipt.Body["update_hash"]!.GetValue<string>() != updateHash.ToString())
        {
            validity.Add($"epoch {epoch}: included update {receipt.Id} is not the accepted on-time update of {node.Short} it claims");
        }

        var signed = SignedEnvelope.Parse(receipt.Body["update"]!.ToJsonString());
        if (!signed.Verify(Ed25519Verifier.Trusting(simulated.PublicKey)).IsValid)
        {
            validity.Add($"epoch {epoch}: included update {receipt.Id} is not validly signed by {node.Short}");
        }

        var scenario = record.Scenario;
        var index = simulated.Index;
        if (simulated.QuarantinedAt is { } at && at <= epoch && !(at == epoch && !scenario.HasFault(index, NodeFaultKind.Equivocation, epoch) && !scenario.HasFault(index, NodeFaultKind.LyingLedgerHead, epoch)))
        {
            validity.Add($"epoch {epoch}: included an update of node {node.Short}, quarantined in epoch {at}");
        }

        if (scenario.JoinEpochOf(index) > epoch)
        {
            validity.Add($"epoch {epoch}: included an update of node {node.Short}, which joins in epoch {scenario.JoinEpochOf(index)}");
        }
    }

    /// <summary>Every node that misbehaved with cryptographic evidence is quarantined; no honest node or validator is punished.</summary>
    private static InvariantResult Detection(RunRecord record, RunLedgers ledgers)
    {
        var scenario = record.Scenario;
        var epochsRun = record.Epochs.Count;
        var problems = new List<string>();
        var evidenceFaults = scenario.NodeFaultList.Where(f => f.Kind is NodeFaultKind.Equivocation or NodeFaultKind.LyingLedgerHead && f.Epochs.Any(e => e <= epochsRun)).Select(f => f.Node).Distinct();
        foreach (var node in evidenceFaults)
        {
            if (scenario.JoinEpochOf(node) <= epochsRun && record.Nodes[node].Status != NodeStatus.Quarantined)
            {
                problems.Add($"node {node} ({record.Nodes[node].Fingerprint.Short}) misbehaved with cryptographic evidence but is {record.Nodes[node].Status?.ToString().ToLowerInvariant() ?? "unknown"}");
            }
        }

        var faulty = scenario.NodeFaultList.Select(f => f.Node).ToHashSet();
        foreach (var node in record.Nodes.Where(n => !faulty.Contains(n.Index) && n.Status == NodeStatus.Quarantined))
        {
            problems.Add($"honest node {node.Index} ({node.Fingerprint.Short}) was quarantined: {node.StatusReason}");
        }

        var byzantineValidators = scenario.ValidatorFaultList.Select(f => RunRecord.ValidatorId(f.Validator)).ToHashSet();
        var flags = ledgers.ValidatorFlags(record);
        foreach (var (validator, receipt) in flags)
        {
            if (!byzantineValidators.Contains(validator))
            {
                problems.Add($"honest validator {validator} was flagged ({receipt})");
            }
        }

        var quarantined = record.Nodes.Count(n => n.Status == NodeStatus.Quarantined);
        return new("detection", problems.Count == 0, problems.Count == 0
            ? $"{quarantined} node(s) quarantined, every one with evidence among the faulty; {flags.Count} validator flag(s), all Byzantine; no honest node or validator punished"
            : Summarise(problems));
    }

    /// <summary>With at most f faulty validators every epoch commits; beyond f, liveness is not owed.</summary>
    private static InvariantResult Liveness(RunRecord record, int committed)
    {
        var scenario = record.Scenario;
        var faulty = scenario.ValidatorFaultList.Count;
        var f = record.Validators.F;
        if (faulty > f)
        {
            return new("liveness", true, $"{faulty} faulty validators exceed f = {f}: liveness not required ({committed} of {scenario.Epochs} epochs committed)");
        }

        return new("liveness", committed == scenario.Epochs, $"{committed} of {scenario.Epochs} epochs committed with {faulty} ≤ f = {f} faulty validators"
            + (committed == scenario.Epochs ? string.Empty : ": " + string.Join("; ", record.Epochs.Where(r => r.State != RunEpochState.Committed).Select(r => $"epoch {r.Epoch}: {r.Reason}"))));
    }

    /// <summary>Every acknowledged update is sealed as acknowledged; every receipt proves against the final checkpoints; checkpoints and anchors agree.</summary>
    private static async Task<InvariantResult> NothingLostAsync(RunRecord record, RunLedgers ledgers, AnchorFile anchors)
    {
        var problems = new List<string>();
        var updates = ledgers.UpdateScroll;
        var acknowledged = record.Submissions.Where(a => a.Acknowledged).ToList();
        foreach (var ack in acknowledged)
        {
            if (ack.Seq is not { } seq || seq >= updates.Size || updates.LeafHash(seq) != ack.LeafHash)
            {
                problems.Add($"the acknowledged {ack.Kind} of node {ack.Node} for epoch {ack.Epoch} ({ack.ReceiptId}) is not in the update scroll as acknowledged");
            }
        }

        long receipts = 0;
        foreach (var scroll in RunLedgers.ScrollsOf(record.Federation))
        {
            var ledger = await ledgers.Directory.GetAsync(scroll);
            var checkpoint = ledger.LatestCheckpoint;
            if (ledger.Size > 0 && (checkpoint is null || checkpoint.Size != ledger.Size))
            {
                problems.Add($"{scroll}: the final checkpoint covers {checkpoint?.Size ?? 0} of {ledger.Size} receipts");
                continue;
            }

            for (long i = 0; i < ledger.Size; i++)
            {
                var check = MerkleVerifier.VerifyInclusion(i, checkpoint!.Size, ledger.LeafHash(i), ledger.InclusionProof(i, checkpoint.Size), checkpoint.Root);
                if (!check.IsValid)
                {
                    problems.Add($"{scroll}: the inclusion proof of receipt {i} does not verify against the final checkpoint");
                }

                receipts++;
            }

            var verification = await ScrollMaintenance.VerifyAsync(ledger, scroll == AnchorCycle.AnchorScroll ? null : anchors);
            problems.AddRange(verification.Failures.Select(f => $"{scroll}: {f}"));
        }

        return new("nothing_lost", problems.Count == 0, problems.Count == 0
            ? $"{acknowledged.Count} acknowledged update(s) all sealed; {receipts} receipt inclusion proof(s) verify against the final checkpoints; checkpoints and anchors consistent"
            : Summarise(problems));
    }

    private static string Summarise(List<string> problems) =>
        string.Join("; ", problems.Take(10)) + (problems.Count > 10 ? $"; … {problems.Count - 10} more" : string.Empty);
}

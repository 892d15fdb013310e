using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;

namespace Federation.Simulation.Checking;

/// <summary>How an epoch of a run ended (written lowercase in the plan and the report).</summary>
public enum RunEpochState
{
    Committed,
    Failed,
}

/// <summary>One epoch as the coordinator reported it: the decision's digest and receipt, or why it failed.</summary>
/// <param name="Quarantined">Fingerprints the decision quarantined.</param>
/// <param name="ValidatorEvidence">Receipt ids of the validator flags sealed while deciding it.</param>
public sealed record EpochRun(long Epoch, RunEpochState State, string? Reason, Sha256Digest? Digest, string? CommitReceipt, long View, IReadOnlyList<string> Quarantined, IReadOnlyList<string> ValidatorEvidence, int Included, int Excluded);

/// <summary>One message a node sent (its kind: update, equivocation, cached, stale_replay, …) and the coordinator's answer.</summary>
public sealed record SubmissionRun(int Node, long Epoch, string Kind, Disposition Disposition, string? Code, string? ReceiptId, long? Seq, Sha256Digest? LeafHash, string? EvidenceReceipt)
{
    public bool Acknowledged => Disposition != Disposition.Refused;
}

/// <summary>A node at the end of the run: its key, its session's ledger block, its standing and when it was quarantined.</summary>
/// <param name="Status">Null when the coordinator has no record of it.</param>
/// <param name="QuarantinedAt">The epoch in which the run saw it quarantined (evidence at ingest or heartbeat, or a decision).</param>
public sealed record NodeRun(int Index, Ed25519PublicKey PublicKey, string? LedgerBlockId, NodeStatus? Status, string? StatusReason, string? QuarantineEvidence, long? QuarantinedAt)
{
    public KeyFingerprint Fingerprint => PublicKey.Fingerprint;
}

/// <summary>What a validator committed for one epoch (null: it did not commit).</summary>
public sealed record ValidatorCommit(string Validator, Sha256Digest? Digest);

/// <summary>A fault the network injected into a node's message.</summary>
public sealed record NetworkEventRun(string Kind, int Node, long Epoch, string Message);

/// <summary>The coordinator was killed after this many of an epoch's submissions and restarted from its stores.</summary>
public sealed record CoordinatorCrashRun(long Epoch, int AfterSubmissions);

/// <summary>
/// A neutral record of one run of a scenario — what the invariant checker and the plan and report builders read,
/// whoever ran it: the deterministic simulator over the Core state machines, or a live runner over a cluster.
/// The scrolls and the anchor file are read beside it.
/// </summary>
public sealed record RunRecord(
    Scenario Scenario,
    long Seed,
    FederationPolicy Policy,
    Ed25519PublicKey GovernanceKey,
    Ed25519PublicKey ScrollKey,
    ValidatorSet Validators,
    IReadOnlyList<NodeRun> Nodes,
    IReadOnlyList<SubmissionRun> Submissions,
    IReadOnlyList<EpochRun> Epochs,
    IReadOnlyDictionary<long, IReadOnlyList<ValidatorCommit>> ValidatorCommits,
    IReadOnlyList<NetworkEventRun> NetworkEvents,
    IReadOnlyList<CoordinatorCrashRun> Crashes,
    TimeSpan VirtualTime)
{
    public string Federation => Policy.FederationId;

    /// <summary>The behaviour the scenario gave validator <paramref name="index"/>.</summary>
    public ValidatorBehaviour BehaviourOf(int index) =>
        Scenario.ValidatorFaultList.FirstOrDefault(f => f.Validator == index)?.Behaviour ?? ValidatorBehaviour.Honest;

    public static string ValidatorId(int index) => "v" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

using System.Globalization;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Membership;

namespace Federation.Core.Governance;

/// <summary>
/// One entry of <c>META-GOVERNANCE-LOG.md</c> (docs/formats/governance-log.md): the action, the federation, a title,
/// the receipt that proves it and "key: value" details. Written by <c>Federation.Storage.Governance.GovernanceLog</c>.
/// </summary>
public sealed record GovernanceLogEntry(string Action, string FederationId, string Title, string Receipt, IReadOnlyList<(string Key, string Value)> Details);

/// <summary>The governance log's actions and the entries the coordinator writes for its decisions (one wording, wherever decided).</summary>
public static class GovernanceLogEntries
{
    public const string Apply = "FEDERATED_APPLY";
    public const string Quarantine = "FEDERATED_QUARANTINE";
    public const string ValidatorFlagged = "VALIDATOR_FLAGGED";
    public const string ReviewApproved = "REVIEW_APPROVED";
    public const string ReviewRejected = "REVIEW_REJECTED";
    public const string NodeRevoked = "NODE_REVOKED";

    /// <summary>A value as one log line holds it: line breaks become spaces (the writer and every checker use this).</summary>
    public static string OneLine(string value) => value.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\r', ' ').Replace('\n', ' ');

    /// <summary>What a quarantine entry says while no reviewer has decided the case.</summary>
    public const string ReviewPending = "pending: `fed review show` then `approve` or `reject`";

    /// <summary>A committed epoch applied (SPEC A's FEDERATED_APPLY), citing its <c>epoch_committed</c> receipt.</summary>
    public static GovernanceLogEntry EpochApplied(string federationId, EpochProposal proposal, Sha256Digest digest, string decisionReceipt, int certificateVotes, long view) =>
        new(Apply, federationId, $"epoch {proposal.Epoch}", decisionReceipt,
        [
            ("digest", $"`{digest}`"),
            ("new global state", $"`{proposal.NewStateHash}`"),
            ("alignment hash", $"`{proposal.AlignmentHash}`"),
            ("aggregate hash", $"`{proposal.AggregateHash}`"),
            ("included", proposal.Included.Count.ToString(CultureInfo.InvariantCulture)),
            ("excluded", string.Join(", ", proposal.Excluded.Select(e => $"{e.Node.Short}:{e.Reason}")) is { Length: > 0 } x ? x : "none"),
            ("commit certificate", $"{certificateVotes} signed commit votes in view {view}"),
        ]);

    /// <summary>A node an epoch's decision quarantined, citing its evidence; <paramref name="standing"/> is the node's status after the quarantine was applied.</summary>
    public static GovernanceLogEntry EpochQuarantine(string federationId, QuarantineEntry entry, long epoch, string evidenceReceipt, string decisionReceipt, NodeStatus standing) =>
        new(Quarantine, federationId, $"node {entry.Node} (epoch {epoch})", evidenceReceipt,
        [
            ("reason", entry.Reason),
            ("evidence hash", $"`{entry.EvidenceHash}`"),
            ("decided in", decisionReceipt),
            ("review", standing == NodeStatus.Quarantined ? ReviewPending : $"already decided: the node is {standing.ToString().ToLowerInvariant()}"),
        ]);

    /// <summary>A node the heartbeat monitor quarantined for a ledger head that contradicts the coordinator's scroll (no epoch decides it).</summary>
    public static GovernanceLogEntry LedgerDivergenceQuarantine(string federationId, KeyFingerprint node, string evidenceReceipt, Sha256Digest evidenceHash, string scroll, long size) =>
        new(Quarantine, federationId, $"node {node} (ledger divergence)", evidenceReceipt,
        [
            ("reason", "ledger_divergence"),
            ("evidence hash", $"`{evidenceHash}`"),
            ("decided by", $"heartbeat monitor: the node's root at size {size} of {scroll} contradicts the coordinator's checkpoint"),
            ("review", ReviewPending),
        ]);

    /// <summary>A reviewer's sealed verdict on a quarantine case (REVIEW_APPROVED or REVIEW_REJECTED), citing its <c>review_verdict</c> receipt.</summary>
    public static GovernanceLogEntry ReviewDecided(string federationId, string node, string caseId, bool approved, string reviewer, string evidenceType, string reason, string verdictReceipt) =>
        new(approved ? ReviewApproved : ReviewRejected, federationId, $"node {node} (case {caseId})", verdictReceipt,
        [
            ("reviewer", reviewer),
            ("evidence", $"{caseId} ({evidenceType})"),
            ("reason", reason),
            ("effect", approved ? "active again; its next update is accepted" : "excluded and key revoked: every message is refused"),
        ]);

    /// <summary>An operator revoked a node (<c>POST …/nodes/{node}/revoke</c>), citing its <c>node_revoked</c> receipt.</summary>
    public static GovernanceLogEntry Revocation(string federationId, KeyFingerprint node, string receipt, string reason, string revokedBy) =>
        new(NodeRevoked, federationId, $"node {node}", receipt,
        [
            ("reason", reason),
            ("revoked by", revokedBy),
        ]);

    /// <summary>A validator that signed two different votes for one epoch, view and phase.</summary>
    public static GovernanceLogEntry ValidatorFlag(string federationId, string validator, string evidenceReceipt, int validatorSetSize) =>
        new(ValidatorFlagged, federationId, $"validator {validator}", evidenceReceipt,
        [
            ("reason", "signed two different votes for the same epoch, view and phase"),
            ("validator set size", validatorSetSize.ToString(CultureInfo.InvariantCulture)),
        ]);
}

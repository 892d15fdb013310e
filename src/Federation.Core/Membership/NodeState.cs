using Federation.Core.Crypto;
using Federation.Core.Governance;

namespace Federation.Core.Membership;

/// <summary>
/// A node's standing in its federation (member names are part of the storage format, docs/formats/grain-state.md)
/// and the transitions registration, the handshake, quarantine and review make. Per-update facts are not here:
/// they live in the update scroll.
/// </summary>
public sealed class NodeState
{
    public bool Registered { get; set; }

    public TrustLevel TrustLevel { get; set; }

    public SyncPolicy SyncPolicy { get; set; }

    public List<string> Capabilities { get; set; } = [];

    public NodeStatus Status { get; set; } = NodeStatus.Pending;

    public string? StatusReason { get; set; }

    public string? EvidenceReceipt { get; set; }

    public string? SessionId { get; set; }

    public string? LedgerBlockId { get; set; }

    /// <summary>Evidence receipts a reviewer has decided (review verdicts); a quarantine citing one changes nothing.</summary>
    public List<string> ReviewedEvidence { get; set; } = [];

    /// <summary>The registry's record, once registered.</summary>
    public NodeRecord? Record(string federationId, KeyFingerprint node, long lastEpoch = -1) => Registered
        ? new NodeRecord(federationId, node, TrustLevel, SyncPolicy, Capabilities, Status, SessionId, LedgerBlockId, lastEpoch, StatusReason)
        : null;

    /// <summary>Governance registers (or re-registers) the node: trust, sync policy and capabilities; its standing is kept.</summary>
    public void Register(TrustLevel trustLevel, SyncPolicy syncPolicy, IEnumerable<string> capabilities)
    {
        Registered = true;
        TrustLevel = trustLevel;
        SyncPolicy = syncPolicy;
        Capabilities = [.. capabilities];
    }

    /// <summary>The handshake completed: active under this session and ledger block. A handshake never lifts a quarantine, an exclusion or a revocation.</summary>
    public void Activate(KeyFingerprint node, string sessionId, string ledgerBlockId)
    {
        if (Status is NodeStatus.Revoked or NodeStatus.Excluded or NodeStatus.Quarantined)
        {
            throw new InvalidOperationException($"node {node} is {Status.ToString().ToLowerInvariant()}; a handshake does not change that");
        }

        (SessionId, LedgerBlockId, Status, StatusReason) = (sessionId, ledgerBlockId, NodeStatus.Active, null);
    }

    /// <summary>
    /// Governance or a monitor changes the standing; false when nothing changes. A reviewer's verdict outranks a later
    /// replay of the same evidence (an epoch committing after the verdict lists the node it quarantined at ingest), and
    /// a quarantine never un-revokes or un-excludes a node.
    /// </summary>
    public bool SetStatus(string federationId, KeyFingerprint node, NodeStatus status, string reason, string? evidenceReceipt)
    {
        if (!Registered)
        {
            throw new InvalidOperationException($"node {node} is not registered in federation \"{federationId}\"");
        }

        if (status == NodeStatus.Quarantined
            && ((evidenceReceipt is not null && ReviewedEvidence.Contains(evidenceReceipt)) || Status is NodeStatus.Revoked or NodeStatus.Excluded))
        {
            return false;
        }

        (Status, StatusReason, EvidenceReceipt) = (status, reason, evidenceReceipt ?? EvidenceReceipt);
        return true;
    }

    /// <summary>
    /// A sealed review verdict on the case <paramref name="evidenceReceipt"/>: approve → active at once (its next update is
    /// accepted); reject → revoked, the strongest standing (every message refused, so it is excluded as well). The
    /// evidence is then reviewed: a later quarantine citing it changes nothing.
    /// </summary>
    public void ApplyVerdict(KeyFingerprint node, VerdictKind verdict, string reason, string evidenceReceipt, string verdictReceipt)
    {
        if (Status != NodeStatus.Quarantined || EvidenceReceipt != evidenceReceipt)
        {
            throw new InvalidOperationException($"node {node} is {Status.ToString().ToLowerInvariant()} on evidence {EvidenceReceipt ?? "none"}, not quarantined on {evidenceReceipt}");
        }

        Status = verdict == VerdictKind.Approve ? NodeStatus.Active : NodeStatus.Revoked;
        StatusReason = verdict == VerdictKind.Approve
            ? $"approved by review ({verdictReceipt}): {reason}"
            : $"rejected by review ({verdictReceipt}): excluded and key revoked: {reason}";
        ReviewedEvidence.Add(evidenceReceipt);
    }

    /// <summary>Whether the node may send anything at all (revoked and excluded nodes may not).</summary>
    public bool MayReport => Registered && Status is not (NodeStatus.Revoked or NodeStatus.Excluded);
}

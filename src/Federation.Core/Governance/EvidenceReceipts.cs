using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Scrolls;

namespace Federation.Core.Governance;

/// <summary>
/// Misbehaviour sealed as evidence in a federation's governance scroll (docs/formats/evidence.md): the evidence object,
/// its hash (what a quarantine cites) and where it happened. Detection and punishment are separate: the evidence is
/// sealed first, the quarantine then cites its receipt.
/// </summary>
public static class EvidenceReceipts
{
    public const string EvidenceTag = "evidence";

    /// <summary>A node signed two different updates for one epoch.</summary>
    public static ReceiptDraft Equivocation(EquivocationEvidence evidence, long epoch, KeyFingerprint node) => new(
        EquivocationEvidence.Type,
        new JsonObject { ["evidence"] = evidence.ToJson(), ["evidence_hash"] = evidence.Hash().ToString(), ["federated_epoch"] = epoch },
        [EvidenceTag, "equivocation"],
        node.ToString());

    /// <summary>A node's reported ledger head contradicts the coordinator's scroll at a size it holds.</summary>
    public static ReceiptDraft LedgerDivergence(LedgerDivergenceEvidence evidence, string scroll, long size, KeyFingerprint node) => new(
        LedgerDivergenceEvidence.Type,
        new JsonObject { ["evidence"] = evidence.ToJson(), ["evidence_hash"] = evidence.Hash().ToString(), ["scroll"] = scroll, ["size"] = size },
        [EvidenceTag, "ledger-divergence"],
        node.ToString());

    public const string RevokedType = "node_revoked";

    /// <summary>An operator revoked a node's key (not evidence of misbehaviour: a decision, sealed so it can be audited).</summary>
    public static ReceiptDraft Revoked(KeyFingerprint node, string reason, string revokedBy, string previousStatus) => new(
        RevokedType,
        new JsonObject { ["node"] = node.ToString(), ["reason"] = reason, ["revoked_by"] = revokedBy, ["previous_status"] = previousStatus },
        ["revocation"],
        node.ToString());

    /// <summary>A node's update diverged from the committed aggregate for as many epochs as the policy allows.</summary>
    public static ReceiptDraft Divergence(DivergenceEvidence evidence, long epoch) => new(
        DivergenceEvidence.Type,
        new JsonObject { ["evidence"] = evidence.ToJson(), ["evidence_hash"] = evidence.Hash().ToString(), ["federated_epoch"] = epoch },
        [EvidenceTag, "divergence"],
        evidence.Node.ToString());

    /// <summary>
    /// Validators that signed two different votes for one epoch, view and phase (the consensus round's evidence, as
    /// canonical JSON): one receipt per validator, the first evidence of each, in the order found.
    /// </summary>
    public static IReadOnlyList<(string Validator, ReceiptDraft Draft)> ValidatorFlags(IReadOnlyList<byte[]> evidence)
    {
        var flags = new List<(string, ReceiptDraft)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in evidence)
        {
            var json = (JsonObject)CanonicalJson.Parse(raw)!;
            var validator = json["validator"]!.GetValue<string>();
            if (seen.Add(validator))
            {
                flags.Add((validator, new ReceiptDraft(
                    VoteEquivocation.Type, new JsonObject { ["evidence"] = json, ["validator"] = validator, ["evidence_hash"] = Sha256Digest.Of(raw).ToString() }, [EvidenceTag, "validator"])));
            }
        }

        return flags;
    }
}

using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Hashing;
using Federation.Core.Scrolls;

namespace Federation.Core.Consensus;

/// <summary>
/// An applied epoch's receipts in the governance scroll (docs/formats/receipt.md): the aligned updates in chunks
/// (<c>epoch_alignment</c>), then the decision with its commit certificate (<c>epoch_committed</c>). With them anyone
/// rebuilds the alignment tree, its root and every update's alignment proof, and checks the votes.
/// </summary>
public static class EpochReceipts
{
    public const string AlignmentType = "epoch_alignment";
    public const string CommittedType = "epoch_committed";

    /// <summary>Aligned updates per <c>epoch_alignment</c> receipt (about 90 KB of JSON): no receipt outgrows a scroll line.</summary>
    public const int AlignmentChunk = 500;

    /// <summary>The alignment-tree leaves, in order, in chunks of <see cref="AlignmentChunk"/> (one, empty, when nothing was included).</summary>
    public static IReadOnlyList<ReceiptDraft> Alignment(long epoch, IReadOnlyList<AlignedUpdate> leaves)
    {
        var drafts = new List<ReceiptDraft>();
        for (var start = 0; start == 0 || start < leaves.Count; start += AlignmentChunk)
        {
            var chunk = leaves.Skip(start).Take(AlignmentChunk).Select(a => (JsonNode?)new JsonObject
            {
                ["index"] = a.Index,
                ["seq"] = a.Seq,
                ["node"] = a.Node.ToString(),
                ["update_hash"] = a.UpdateHash.ToString(),
            }).ToArray();
            drafts.Add(new ReceiptDraft(AlignmentType,
                new JsonObject { ["epoch"] = epoch, ["first_index"] = start, ["count"] = leaves.Count, ["updates"] = new JsonArray(chunk) },
                ["alignment", $"epoch-{epoch}"]));
        }

        return drafts;
    }

    /// <summary>The committed decision: digest, view, the proposal, the aggregate, its alignment receipts and the 2f + 1 signed commit votes.</summary>
    public static ReceiptDraft Committed(EpochProposal proposal, Sha256Digest digest, long view, JsonObject aggregate, IReadOnlyList<string> alignmentReceipts, IReadOnlyList<byte[]> commitCertificate) => new(
        CommittedType,
        new JsonObject
        {
            ["epoch"] = proposal.Epoch,
            ["digest"] = digest.ToString(),
            ["view"] = view,
            ["proposal"] = proposal.ToJson(),
            ["aggregate"] = aggregate.DeepClone(),
            ["alignment_receipts"] = new JsonArray(alignmentReceipts.Select(r => (JsonNode?)JsonValue.Create(r)).ToArray()),
            ["commit_certificate"] = new JsonArray(commitCertificate.Select(c => CanonicalJson.Parse(c)).ToArray()),
        },
        ["apply", $"epoch-{proposal.Epoch}"]);
}

using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Crypto;
using Federation.Core.Scrolls;

namespace Federation.Core.Governance;

/// <summary>An advisory's transitions as receipts of the federation's governance scroll (SPEC B; docs/formats/receipt.md).</summary>
public static class AdvisoryReceipts
{
    /// <summary>A transition's receipt: tagged with the status it reaches; the source env names the receipt's node when it is a fingerprint.</summary>
    public static ReceiptDraft Transition(string type, string status, JsonObject body, string sourceEnv) => new(
        type,
        (JsonObject)CanonicalJson.Parse(CanonicalJson.Write(body))!,
        ["advisory", status],
        KeyFingerprint.TryParse(sourceEnv, out _, out _) ? sourceEnv : null);

    /// <summary>The publication of an advisory (its status set to published).</summary>
    public static ReceiptDraft Published(Advisory advisory)
    {
        var published = advisory with { Status = AdvisoryStatus.Published };
        return Transition(Advisories.PublishedType, Advisories.StatusName(AdvisoryStatus.Published), published.ToJson(), published.SourceEnv);
    }
}

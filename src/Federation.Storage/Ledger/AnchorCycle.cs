using System.Text.Json.Nodes;
using Federation.Core.Checkpoints;
using Federation.Core.Merkle;
using Federation.Core.Scrolls;

namespace Federation.Storage.Ledger;

public enum AnchorOutcome
{
    Success,
    Failure,
    Divergence,
    NothingToAnchor,
}

public sealed record AnchorResult(AnchorOutcome Outcome, string Scroll, long Size, string Detail, SealedReceipt? Receipt);

/// <summary>
/// One anchor cycle (SPEC E): seal the scroll, check the new checkpoint is consistent with the scroll's
/// previous anchor, append it to the anchor file, and record the outcome as an <c>anchor_success</c>,
/// <c>anchor_failure</c> or <c>anchor_divergence</c> receipt in the anchoring scroll.
/// </summary>
public static class AnchorCycle
{
    public const string AnchorScroll = "anchors";
    public const string SuccessType = "anchor_success";
    public const string FailureType = "anchor_failure";
    public const string DivergenceType = "anchor_divergence";

    public static async Task<AnchorResult> RunAsync(ScrollLedger ledger, AnchorFile anchors, ScrollLedger? anchorScroll, TimeProvider time, CancellationToken ct = default)
    {
        var result = await AnchorAsync(ledger, anchors, time, ct);
        if (anchorScroll is null || ReceiptFor(result.Outcome, result.Scroll, result.Size, result.Detail, anchors.Path, ledger.LatestCheckpoint?.Root.ToString()) is not { } draft)
        {
            return result;
        }

        var receipt = await anchorScroll.AppendAsync(draft, ct);
        return result with { Receipt = receipt };
    }

    /// <summary>The receipt that records a cycle's outcome in the anchoring scroll; null when there was nothing to anchor.</summary>
    public static ReceiptDraft? ReceiptFor(AnchorOutcome outcome, string scroll, long size, string detail, string anchorFile, string? root)
    {
        if (outcome == AnchorOutcome.NothingToAnchor)
        {
            return null;
        }

        var type = outcome switch
        {
            AnchorOutcome.Success => SuccessType,
            AnchorOutcome.Divergence => DivergenceType,
            _ => FailureType,
        };
        var body = new JsonObject
        {
            ["scroll"] = scroll,
            ["size"] = size,
            ["anchor_file"] = Path.GetFileName(anchorFile),
            ["detail"] = detail,
        };
        if (root is not null)
        {
            body["root"] = root;
        }

        return new ReceiptDraft(type, body, ["anchor"]);
    }

    /// <summary>The scroll's part of a cycle (seal, consistency with the previous anchor, append), without its receipt.</summary>
    public static async Task<AnchorResult> AnchorAsync(ScrollLedger ledger, AnchorFile anchors, TimeProvider time, CancellationToken ct = default)
    {
        string? note;
        try
        {
            note = await ledger.SealAsync(ct);
        }
        catch (LedgerHaltedException ex)
        {
            return new AnchorResult(AnchorOutcome.Failure, ledger.Scroll, ledger.Size, ex.Message, null);
        }

        if (note is null || ledger.LatestCheckpoint is not { } current)
        {
            return new AnchorResult(AnchorOutcome.NothingToAnchor, ledger.Scroll, 0, "the scroll is empty", null);
        }

        AnchorEntry? previous;
        try
        {
            previous = anchors.Latest(ledger.Scroll);
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            return new AnchorResult(AnchorOutcome.Failure, ledger.Scroll, current.Size, $"cannot read the anchor file {anchors.Path}: {ex.Message}", null);
        }

        if (previous is not null)
        {
            var divergence = CheckConsistency(ledger, previous, current);
            if (divergence is not null)
            {
                return new AnchorResult(AnchorOutcome.Divergence, ledger.Scroll, current.Size, divergence, null);
            }

            if (previous.Size == current.Size)
            {
                return new AnchorResult(AnchorOutcome.Success, ledger.Scroll, current.Size, $"already anchored at size {current.Size}", null);
            }
        }

        try
        {
            anchors.Append(AnchorFile.EntryFor(ledger.Scroll, note, time.GetUtcNow()));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new AnchorResult(AnchorOutcome.Failure, ledger.Scroll, current.Size, $"cannot append to {anchors.Path}: {ex.Message}", null);
        }

        return new AnchorResult(AnchorOutcome.Success, ledger.Scroll, current.Size,
            previous is null ? $"first anchor at size {current.Size}" : $"anchored size {current.Size}, consistent with the anchor at size {previous.Size}", null);
    }

    /// <summary>The previous anchor must verify and the current tree must extend it (RFC 9162 consistency proof).</summary>
    private static string? CheckConsistency(ScrollLedger ledger, AnchorEntry previous, Checkpoint current)
    {
        Checkpoint anchored;
        try
        {
            (anchored, _) = Checkpoint.Open(previous.Checkpoint, ledger.TrustedKeys);
        }
        catch (Exception ex) when (ex is FormatException or NoteVerificationException)
        {
            return $"the previous anchor (size {previous.Size}) does not verify: {ex.Message}";
        }

        if (anchored.Size > current.Size)
        {
            return $"the scroll has {current.Size} receipts but was anchored at size {anchored.Size}: it shrank";
        }

        var proof = ledger.ConsistencyProof(anchored.Size, current.Size);
        var check = MerkleVerifier.VerifyConsistency(anchored.Size, current.Size, anchored.Root, current.Root, proof);
        return check.IsValid ? null : $"the scroll is not an extension of its anchor at size {anchored.Size}: {check.Error}";
    }
}

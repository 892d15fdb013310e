using System.Text.Json.Nodes;
using Federation.Core.Checkpoints;
using Federation.Core.Scrolls;
using Federation.Storage.Scrolls;

namespace Federation.Storage.Ledger;

public sealed record ScrollVerificationReport(string Scroll, long Size, IReadOnlyList<string> Failures, IReadOnlyList<string> Notes, long FirstBadIndex)
{
    public bool IsValid => Failures.Count == 0;
}

/// <param name="Generation">The origin generation the scroll goes on in; <paramref name="GenerationReceipt"/> is its first receipt.</param>
public sealed record RollbackResult(long FromSize, long ToSize, string? QuarantinedTo, SealedReceipt? Receipt, int Generation, SealedReceipt GenerationReceipt);

/// <summary>Whole-scroll verification and rollback to the last anchor (SPEC A: halt and roll back to the last Merkle anchor).</summary>
public static class ScrollMaintenance
{
    public const string RollbackType = "scroll_rollback";

    /// <summary>The first receipt of a new origin generation: it cites the anchored checkpoint of the one before.</summary>
    public const string GenerationType = "scroll_generation";

    /// <summary>
    /// Re-hashes every stored receipt, checks every stored checkpoint's signature, root and mutual
    /// consistency, and every anchor of the scroll. Reports every failure and the first bad index.
    /// </summary>
    public static async Task<ScrollVerificationReport> VerifyAsync(ScrollLedger ledger, AnchorFile? anchors, CancellationToken ct = default)
    {
        var failures = new List<string>();
        var notes = new List<string>();
        var firstBad = -1L;
        foreach (var torn in new[] { ledger.OpenReport?.Torn, ledger.OpenReport?.TornCheckpoint })
        {
            if (torn is not null)
            {
                notes.Add(torn.MovedTo is null
                    ? $"{torn.File} ends in a torn line ({torn.Length} bytes at offset {torn.Offset}, never acknowledged): not read, left in place (`fed scroll repair --confirm` moves it aside)"
                    : $"a torn last line ({torn.Length} bytes at offset {torn.Offset}) was moved to {torn.MovedTo} at open");
            }
        }

        if (ledger.UnreadTail is { WriterActive: true } live)
        {
            notes.Add($"the scroll's writer is running: {live.Count} line(s) after its newest authenticated commit (size {live.From}) were not read; run again, or stop it, for them");
        }
        else if (ledger.UnreadTail is { } unread)
        {
            failures.Add($"{unread.Reason}; they were not read (`fed scroll repair --confirm` moves them aside)");
            firstBad = firstBad < 0 ? unread.From : Math.Min(firstBad, unread.From);
        }

        if (ledger.OpenReport?.RootProblem is { } root)
        {
            // The receipts may all be good: a ROOT problem names no index.
            failures.Add($"{root} (`fed scroll repair --confirm` rewrites it from the checkpoint history)");
        }

        if (ledger.IsHalted)
        {
            failures.Add(ledger.HaltReason!);
            firstBad = ledger.FirstBadIndex;
        }

        var history = await ledger.Store.ReadCheckpointsAsync(ledger.Scroll, ct);
        foreach (var superseded in ScrollLedger.SupersededHistory(history))
        {
            notes.Add($"checkpoint at size {superseded.Size} was superseded by a rollback");
        }

        notes.Add($"{history.Count} stored checkpoint(s), latest covers {ledger.LatestCheckpoint?.Size ?? 0} of {ledger.Size} receipts");

        if (anchors is not null)
        {
            IReadOnlyList<AnchorEntry> entries;
            try
            {
                entries = anchors.ReadAll().Where(e => e.Scroll == ledger.Scroll).ToList();
            }
            catch (Exception ex) when (ex is IOException or FormatException)
            {
                failures.Add($"anchor file {anchors.Path}: {ex.Message}");
                entries = [];
            }

            foreach (var entry in entries)
            {
                try
                {
                    var (checkpoint, _) = Checkpoint.Open(entry.Checkpoint, ledger.TrustedKeys);
                    if (checkpoint.Size > ledger.Size)
                    {
                        failures.Add($"anchor at size {checkpoint.Size} covers more receipts than the {ledger.Size} stored");
                        firstBad = firstBad < 0 ? ledger.Size : Math.Min(firstBad, ledger.Size);
                    }
                    else if (ledger.Root(checkpoint.Size) != checkpoint.Root)
                    {
                        failures.Add($"anchor at size {checkpoint.Size} does not match the stored receipts");
                    }
                }
                catch (Exception ex) when (ex is FormatException or NoteVerificationException)
                {
                    failures.Add($"anchor at size {entry.Size} does not verify: {ex.Message}");
                }
            }

            notes.Add($"{entries.Count} anchor(s) in {anchors.Path}");
        }

        return new ScrollVerificationReport(ledger.Scroll, ledger.Size, failures, notes, firstBad);
    }

    /// <summary>
    /// Truncates a halted scroll back to its last anchored size: the anchored prefix must still match the
    /// anchor; removed receipts move to the store's quarantine (nothing is deleted); the anchored checkpoint
    /// is re-signed as the scroll's latest; a <c>scroll_rollback</c> receipt records it in the anchoring scroll.
    /// </summary>
    public static async Task<RollbackResult> RollbackToAnchorAsync(ScrollLedger ledger, AnchorFile anchors, ScrollLedger? anchorScroll, CancellationToken ct = default)
    {
        if (ledger.Signer is null)
        {
            throw new InvalidOperationException("rollback re-signs the anchored checkpoint: open the scroll with its key");
        }

        if (!ledger.IsHalted)
        {
            throw new InvalidOperationException($"scroll {ledger.Scroll} verifies; there is nothing to roll back");
        }

        var entry = anchors.Latest(ledger.Scroll)
            ?? throw new InvalidOperationException($"scroll {ledger.Scroll} has no anchor in {anchors.Path} to roll back to");
        var (anchored, _) = Checkpoint.Open(entry.Checkpoint, ledger.TrustedKeys);
        if (anchored.Size > ledger.Size)
        {
            throw new InvalidOperationException($"the anchor covers {anchored.Size} receipts but only {ledger.Size} are stored: rolling back cannot restore lost receipts");
        }

        if (ledger.Root(anchored.Size) != anchored.Root)
        {
            throw new InvalidOperationException($"the receipts before the anchor (size {anchored.Size}) no longer match it: the damage is older than the last anchor");
        }

        if (ledger.FirstBadIndex >= 0 && ledger.FirstBadIndex < anchored.Size)
        {
            throw new InvalidOperationException($"the first bad receipt ({ledger.FirstBadIndex}) lies before the anchor at size {anchored.Size}: rolling back to it would keep the damage");
        }

        var from = ledger.Size;
        var previousOrigin = ledger.Origin;
        var report = await ledger.Store.TruncateAsync(ledger.Scroll, anchored.Size, ct);

        // The old origin signed trees of the sizes that will now be signed again with other receipts: go on under a new
        // origin (docs/formats/checkpoint.md, generations), so no origin ever signs two trees of one size.
        await ledger.BeginGenerationAsync(anchored, ct);
        var first = await ledger.AppendAsync(new ReceiptDraft(GenerationType, new JsonObject
        {
            ["generation"] = ledger.Generation,
            ["origin"] = ledger.Origin,
            ["previous_origin"] = previousOrigin,
            ["anchored_checkpoint"] = entry.Checkpoint,
            ["rolled_back_from_size"] = from,
            ["quarantined_to"] = report.QuarantinedTo,
        }, ["rollback"]), ct);
        await ledger.SealAsync(ct);

        SealedReceipt? receipt = null;
        if (anchorScroll is not null)
        {
            receipt = await anchorScroll.AppendAsync(new ReceiptDraft(RollbackType, new JsonObject
            {
                ["scroll"] = ledger.Scroll,
                ["from_size"] = from,
                ["to_size"] = anchored.Size,
                ["quarantined_to"] = report.QuarantinedTo,
                ["root"] = anchored.Root.ToString(),
                ["generation"] = ledger.Generation,
                ["generation_receipt"] = first.Id,
            }, ["rollback"]), ct);
        }

        return new RollbackResult(from, anchored.Size, report.QuarantinedTo, receipt, ledger.Generation, first);
    }
}

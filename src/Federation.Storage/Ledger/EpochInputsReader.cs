using Federation.Core.Canonical;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Scrolls;

namespace Federation.Storage.Ledger;

/// <summary>
/// What an epoch is computed from, read back from its federation's scrolls: the accepted updates of the update scroll
/// below the cutoff (what every validator recomputes from), and the nodes quarantined at ingest with cryptographic
/// evidence (equivocation) sealed in the governance scroll, which join the decision's quarantine list.
/// </summary>
public static class EpochInputsReader
{
    /// <summary>The update scroll's <c>update_accepted</c> receipts for <paramref name="epoch"/> with seq below <paramref name="cutoff"/>, in ledger order.</summary>
    public static Task<IReadOnlyList<ScrollUpdate>> ReadUpdatesAsync(ScrollLedger updateScroll, long epoch, long cutoff) =>
        ReadUpdatesAsync(updateScroll.ReadAsync(0, cutoff), epoch);

    /// <summary>The <c>update_accepted</c> receipts for <paramref name="epoch"/> among <paramref name="lines"/> (seq and line, in ledger order).</summary>
    public static async Task<IReadOnlyList<ScrollUpdate>> ReadUpdatesAsync(IAsyncEnumerable<(long Seq, byte[] Line)> lines, long epoch)
    {
        var updates = new List<ScrollUpdate>();
        await foreach (var (seq, line) in lines)
        {
            var receipt = Receipt.Parse(line);
            if (receipt.Type != UpdateReceipts.AcceptedType || (long)receipt.Body["federated_epoch"]!.GetValue<double>() != epoch)
            {
                continue;
            }

            updates.Add(new ScrollUpdate(seq, CanonicalJson.Write(receipt.Body["update"])));
        }

        return updates;
    }

    /// <summary><see cref="ReadUpdatesAsync(ScrollLedger, long, long)"/> of a federation's update scroll.</summary>
    public static async Task<IReadOnlyList<ScrollUpdate>> ReadUpdatesAsync(LedgerDirectory ledgers, string federationId, long epoch, long cutoff) =>
        await ReadUpdatesAsync(await ledgers.GetAsync(FederationScrolls.Updates(federationId)), epoch, cutoff);

    /// <summary>Nodes whose equivocation in <paramref name="epoch"/> the governance scroll holds evidence of (first evidence per node).</summary>
    public static Task<IReadOnlyList<QuarantineEntry>> ReadQuarantinedAtIngestAsync(ScrollLedger governance, long epoch) =>
        ReadQuarantinedAtIngestAsync(Lines(governance), epoch);

    /// <summary>Nodes whose equivocation in <paramref name="epoch"/> the governance scroll's <paramref name="lines"/> hold evidence of.</summary>
    public static async Task<IReadOnlyList<QuarantineEntry>> ReadQuarantinedAtIngestAsync(IAsyncEnumerable<byte[]> lines, long epoch)
    {
        var entries = new List<QuarantineEntry>();
        await foreach (var line in lines)
        {
            var receipt = Receipt.Parse(line);
            if (receipt.Type == EquivocationEvidence.Type && receipt.Node is not null
                && receipt.Body["federated_epoch"] is { } e && (long)e.GetValue<double>() == epoch)
            {
                entries.Add(new QuarantineEntry(KeyFingerprint.Parse(receipt.Node), "equivocation", Sha256Digest.Parse(receipt.Body["evidence_hash"]!.GetValue<string>())));
            }
        }

        return entries.GroupBy(q => q.Node).Select(g => g.First()).ToList();
    }

    private static async IAsyncEnumerable<byte[]> Lines(ScrollLedger ledger)
    {
        await foreach (var (_, line) in ledger.ReadAsync(0, ledger.Size))
        {
            yield return line;
        }
    }
}

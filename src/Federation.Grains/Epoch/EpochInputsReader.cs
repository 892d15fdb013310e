using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Ingest;
using Federation.Core.Scrolls;
using Federation.Grains.Services;

namespace Federation.Grains.Epoch;

/// <summary>Reads an epoch's accepted updates from the update scroll (what every validator recomputes from).</summary>
internal static class EpochInputsReader
{
    public static async Task<IReadOnlyList<ScrollUpdate>> ReadUpdatesAsync(LedgerDirectory ledgers, string federationId, long epoch, long cutoff)
    {
        var ledger = await ledgers.GetAsync(FederationScrolls.Updates(federationId));
        var updates = new List<ScrollUpdate>();
        await foreach (var (seq, line) in ledger.ReadAsync(0, cutoff))
        {
            var receipt = Receipt.Parse(line);
            if (receipt.Type != UpdateReceipts.AcceptedType || (long)receipt.Body["federated_epoch"]!.GetValue<double>() != epoch)
            {
                continue;
            }

            updates.Add(new ScrollUpdate(seq, Core.Canonical.CanonicalJson.Write(receipt.Body["update"])));
        }

        return updates;
    }

    public static EpochOutcome Compute(EpochInputs inputs, IReadOnlyList<ScrollUpdate> updates, Core.Membership.FederationPolicy federation, AggregationPolicy policy) =>
        EpochComputation.Compute(
            inputs.Epoch,
            inputs.BaseState,
            updates,
            inputs.Active.ToHashSet(),
            federation,
            policy,
            inputs.Streaks.ToDictionary(s => KeyFingerprint.Parse(s.Key), s => s.Value),
            inputs.QuarantinedAtIngest);
}

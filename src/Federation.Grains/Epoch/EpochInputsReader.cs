using Federation.Core.Consensus;
using Federation.Core.Crypto;

namespace Federation.Grains.Epoch;

/// <summary>Reads an epoch's accepted updates from the update scroll (what every validator recomputes from).</summary>
internal static class EpochInputsReader
{
    public static async Task<IReadOnlyList<ScrollUpdate>> ReadUpdatesAsync(IScrollGrain updates, long epoch, long cutoff) =>
        (await updates.ReadUpdatesAsync(epoch, cutoff)).Select(u => new ScrollUpdate(u.Seq, u.SignedUpdate)).ToList();

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

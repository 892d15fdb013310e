using Federation.Core.Hashing;

namespace Federation.Core.Consensus;

/// <summary>
/// A federation's epoch chain (member names are part of the storage format, docs/formats/grain-state.md): the epoch
/// accepting updates, the one closing, the global state each epoch built on, and the committed divergence streaks.
/// The transitions are the only way it changes: open → closing → (applied) the next open on the committed state.
/// </summary>
public sealed class EpochChainState
{
    public long OpenEpoch { get; set; } = 1;

    public long? ClosingEpoch { get; set; }

    /// <summary>The global state each epoch built on (epoch → state hash, "sha256:…").</summary>
    public Dictionary<long, string> BaseStates { get; set; } = [];

    /// <summary>When the open epoch opened (its deadline counts from here).</summary>
    public DateTimeOffset OpenedAt { get; set; }

    /// <summary>Committed divergence streaks per node fingerprint.</summary>
    public Dictionary<string, int> Streaks { get; set; } = [];

    /// <summary>A new federation: epoch 1 open on the genesis state.</summary>
    public static EpochChainState Genesis(string federationId, DateTimeOffset now) => new()
    {
        BaseStates = { [1] = EpochProposal.Genesis(federationId).ToString() },
        OpenedAt = now,
    };

    /// <summary>Closes the open epoch for new updates; false when one is already closing (nothing changes).</summary>
    public bool Close()
    {
        if (ClosingEpoch is not null)
        {
            return false;
        }

        ClosingEpoch = OpenEpoch;
        return true;
    }

    /// <summary>Opens the next epoch on the given global state (the committed result of the closed one).</summary>
    public void OpenNext(Sha256Digest newStateHash, DateTimeOffset now)
    {
        ClosingEpoch = null;
        OpenEpoch++;
        OpenedAt = now;
        BaseStates[OpenEpoch] = newStateHash.ToString();
    }

    /// <summary>Applies the committed closing epoch: its streaks and new state, and the next epoch opens.</summary>
    public void Apply(long epoch, Sha256Digest newStateHash, IReadOnlyDictionary<string, int> streaks, DateTimeOffset now)
    {
        if (ClosingEpoch != epoch)
        {
            throw new InvalidOperationException($"epoch {epoch} is not the closing epoch ({ClosingEpoch?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}); nothing to apply");
        }

        Streaks = streaks.ToDictionary();
        OpenNext(newStateHash, now);
    }

    /// <summary>Whether an update for <paramref name="epoch"/> may be admitted now (the open epoch, or a late one).</summary>
    public bool Admits(long epoch) => epoch <= OpenEpoch && epoch != ClosingEpoch;
}

namespace Federation.Core.Consensus;

/// <summary>
/// When the open epoch closes (SPEC A: slow and late nodes are normal): once a quorum of the active nodes has
/// submitted and a grace period has passed since the quorum was first seen, or at the epoch's deadline whatever
/// has arrived. Pure: the caller brings the counts and the time, and keeps the watch between checks.
/// </summary>
public sealed class EpochClosing(double quorumFraction, TimeSpan grace, TimeSpan deadline)
{
    private DateTimeOffset? _quorumSince;

    /// <summary>On-time submissions needed out of <paramref name="active"/> active nodes (at least one).</summary>
    public int Quorum(int active) => Math.Max(1, (int)Math.Ceiling(quorumFraction * active));

    /// <summary>A periodic check of the open epoch: true when it should close now.</summary>
    /// <param name="closing">An epoch is already closing (nothing to decide).</param>
    /// <param name="submitted">On-time updates sealed for the open epoch.</param>
    public bool OnCheck(bool closing, int submitted, int active, DateTimeOffset now)
    {
        if (closing || submitted < Quorum(active))
        {
            _quorumSince = null;
            return false;
        }

        _quorumSince ??= now;
        if (now - _quorumSince < grace)
        {
            return false;
        }

        _quorumSince = null;
        return true;
    }

    /// <summary>The durable deadline fired: an epoch open for its whole deadline closes.</summary>
    public bool OnDeadline(DateTimeOffset openedAt, DateTimeOffset now) => now - openedAt >= deadline;
}

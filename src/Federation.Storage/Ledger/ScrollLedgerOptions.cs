namespace Federation.Storage.Ledger;

/// <summary>Settings of a scroll ledger; defaults are the named constants below.</summary>
public sealed class ScrollLedgerOptions
{
    /// <summary>Seal after this many receipts since the last checkpoint.</summary>
    public const int DefaultSealEveryReceipts = 1024;

    /// <summary>Seal at least this often while receipts are unsealed.</summary>
    public const int DefaultSealIntervalMilliseconds = 1000;

    /// <summary>Checkpoint origins are "&lt;prefix&gt;/&lt;scroll&gt;"; the prefix names the deployment.</summary>
    public const string DefaultOriginPrefix = "federation-orleans";

    /// <summary>Origins go into every signed checkpoint and commit head: bounded so that a head always fits its slot.</summary>
    public const int MaxOriginPrefixLength = 255;

    public int SealEveryReceipts { get; set; } = DefaultSealEveryReceipts;

    public int SealIntervalMilliseconds { get; set; } = DefaultSealIntervalMilliseconds;

    public string OriginPrefix { get; set; } = DefaultOriginPrefix;

    public string OriginOf(string scroll) => OriginPrefix + "/" + scroll;

    public ScrollLedgerOptions Validate()
    {
        if (SealEveryReceipts < 1)
        {
            throw new ArgumentException($"ScrollLedgerOptions.SealEveryReceipts must be at least 1, got {SealEveryReceipts}");
        }

        if (SealIntervalMilliseconds < 1)
        {
            throw new ArgumentException($"ScrollLedgerOptions.SealIntervalMilliseconds must be at least 1, got {SealIntervalMilliseconds}");
        }

        if (string.IsNullOrWhiteSpace(OriginPrefix) || OriginPrefix.Length > MaxOriginPrefixLength || OriginPrefix.Any(c => char.IsWhiteSpace(c) || c == '+'))
        {
            throw new ArgumentException($"ScrollLedgerOptions.OriginPrefix \"{OriginPrefix}\" must be 1 to {MaxOriginPrefixLength} characters without spaces or '+'");
        }

        return this;
    }
}

/// <summary>
/// The scroll refuses writes: a ledger mismatch halts (SPEC A). <see cref="FirstBadIndex"/> names where
/// the stored scroll stops matching what was sealed; rollback to the last anchor is the way out.
/// </summary>
public sealed class LedgerHaltedException(string scroll, long firstBadIndex, string reason)
    : InvalidOperationException($"scroll {scroll} is halted: {reason} (first bad index {firstBadIndex}); roll back with `fed scroll rollback --to-anchor --confirm`")
{
    public string Scroll { get; } = scroll;

    public long FirstBadIndex { get; } = firstBadIndex;

    public string Reason { get; } = reason;
}

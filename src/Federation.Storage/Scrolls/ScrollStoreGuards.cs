namespace Federation.Storage.Scrolls;

/// <summary>Argument checks both stores share, so both refuse the same things with the same words.</summary>
internal static class ScrollStoreGuards
{
    public static InvalidOperationException ReadOnlyRefusal(string scroll, string what) =>
        new($"scroll {scroll} was opened read-only (a reading command): cannot {what} it");

    public static void ValidateRange(long fromSeq, long toSeqExclusive)
    {
        if (fromSeq < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(fromSeq), fromSeq, "fromSeq must be >= 0");
        }

        if (toSeqExclusive < fromSeq)
        {
            throw new ArgumentOutOfRangeException(nameof(toSeqExclusive), toSeqExclusive, $"toSeqExclusive must be >= fromSeq ({fromSeq})");
        }
    }

    /// <param name="scrollSize">The scroll's size when the caller knows it; otherwise the store checks it itself.</param>
    public static void ValidateCheckpoint(StoredCheckpoint checkpoint, long? scrollSize, string scroll)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(checkpoint.Note);
        if (checkpoint.Note.Length == 0)
        {
            throw new ArgumentException("a checkpoint note must not be empty", nameof(checkpoint));
        }

        if (checkpoint.Size < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(checkpoint), checkpoint.Size, "checkpoint size must be >= 0");
        }

        if (checkpoint.Size > scrollSize)
        {
            throw new ArgumentOutOfRangeException(nameof(checkpoint), checkpoint.Size, $"checkpoint size must be between 0 and the size of scroll {scroll} ({scrollSize})");
        }
    }
}

namespace Federation.Storage.Scrolls;

/// <summary>
/// Builds the canonical receipt line (UTF-8 bytes, no newline) once its seq is known; the receipt's
/// "seq" member is its 0-based position, so the line can only be built when seq is assigned.
/// Called exactly once per append attempt, on the store's writer loop: keep it short and pure.
/// </summary>
public delegate byte[] LineBuilder(long seq);

/// <summary>
/// Receives committed lines in seq order, each exactly once per store instance, before the append
/// that committed them completes. The Merkle tree of the scroll is built by this observer.
/// The list is owned by the observer once passed (the store does not reuse it); it holds at most MaxBatchLines lines.
/// </summary>
public delegate void CommittedLinesObserver(long firstSeq, IReadOnlyList<byte[]> lines);

/// <summary>
/// The writer's signed record of a group commit: called on the store's writer after the observer, with the scroll's
/// size after the commit; the returned bytes (one line, no '\n', under 4096 bytes) are kept durably before the appends
/// complete (file store: <c>&lt;scroll&gt;.head</c>). The scroll ledger signs a checkpoint of that size.
/// </summary>
public delegate byte[] CommitHeadSealer(long size);

public sealed record StoredLine(long Seq, byte[] Line);

/// <summary>A checkpoint of the scroll at <paramref name="Size"/> lines; <paramref name="Note"/> is a signed note, opaque here.</summary>
public sealed record StoredCheckpoint(long Size, string Note);

/// <param name="Torn">The torn tail found at open (file store only), or null: moved aside by a writer, left in place read-only.</param>
/// <param name="TornCheckpoint">The torn tail of the checkpoint history found at open (file store only), or null.</param>
public sealed record ScrollOpenReport(string Scroll, long Size, TornTail? Torn, TornTail? TornCheckpoint = null)
{
    /// <summary>A writer's open: what was wrong with the ROOT file it rewrote from the checkpoint history (file store), or null.</summary>
    public string? RootRepaired { get; init; }

    /// <summary>A read-only open: what is wrong with the ROOT file (missing, stale, forged), left as it is; null when it is right.</summary>
    public string? RootProblem { get; init; }

    /// <summary>A read-only open found the scroll's writer live (it holds the lock): lines after the newest head may be its commit in progress.</summary>
    public bool WriterActive { get; init; }
}

/// <summary>
/// Bytes after the last newline, found at open. A writer appends them to <paramref name="MovedTo"/>, then cuts them
/// from the file; a read-only open leaves them (<paramref name="MovedTo"/> null) and reads the lines before them.
/// </summary>
public sealed record TornTail(string? MovedTo, long Offset, int Length)
{
    /// <summary>The file the tail was found in, when it was left in place.</summary>
    public string? File { get; init; }
}

/// <param name="QuarantinedTo">Where the removed lines went (a file path, or <c>scroll_quarantine truncation_id=N</c>); null when nothing was removed.</param>
public sealed record TruncateReport(long OldSize, long NewSize, string? QuarantinedTo);

/// <summary>
/// The append-only storage of scrolls (docs/formats/scroll-storage.md). A scroll must be opened with
/// <see cref="OpenAsync"/> in a store instance before it is appended to, synced, read, checkpointed or truncated.
/// </summary>
public interface IScrollStore : IAsyncDisposable
{
    /// <summary>"file" or "postgres".</summary>
    string Kind { get; }

    /// <summary>
    /// Opens (creating if needed); replays all existing lines to the observer in seq order; handles a torn tail.
    /// Opening a scroll twice in one store instance is an error.
    /// </summary>
    Task<ScrollOpenReport> OpenAsync(string scroll, CommittedLinesObserver observer, CancellationToken ct = default) => OpenAsync(scroll, observer, null, ct);

    /// <summary>
    /// <see cref="OpenAsync(string, CommittedLinesObserver, CancellationToken)"/> with the writer's commit-head sealer; a
    /// store that keeps no commit heads (<see cref="KeepsCommitHeads"/> false) ignores it.
    /// </summary>
    Task<ScrollOpenReport> OpenAsync(string scroll, CommittedLinesObserver observer, CommitHeadSealer? sealer, CancellationToken ct = default);

    /// <summary>
    /// True when the store keeps an authenticated record of each group commit (the file store: the scroll's lines are
    /// a file other programs could append to). PostgreSQL's lines are rows behind the database's own access control.
    /// </summary>
    bool KeepsCommitHeads => false;

    /// <summary>The commit heads kept for the scroll (at most two, any order; a torn one is left out); empty when none are kept.</summary>
    Task<IReadOnlyList<byte[]>> ReadCommitHeadsAsync(string scroll, CancellationToken ct = default) => Task.FromResult<IReadOnlyList<byte[]>>([]);

    /// <summary>
    /// Closes a scroll this instance opened (its writer is done: a scroll grain deactivating), so it can be opened
    /// again; appends already acknowledged are durable. A scroll not open here is a no-op.
    /// </summary>
    Task CloseAsync(string scroll, CancellationToken ct = default);

    /// <summary>
    /// Appends lines; seqs are contiguous and assigned in order; durable when the task completes; returns the first seq.
    /// All-or-nothing: an invalid line or a throwing builder fails this call and consumes no seq.
    /// <paramref name="ct"/> can only cancel before the append is queued; once queued it runs to its end.
    /// </summary>
    Task<long> AppendAsync(string scroll, IReadOnlyList<LineBuilder> lines, CancellationToken ct = default);

    /// <summary>Delivers to the observer lines other processes committed since (PostgreSQL); a no-op for the file store.</summary>
    Task SyncAsync(string scroll, CancellationToken ct = default);

    /// <summary>Committed lines with <paramref name="fromSeq"/> &lt;= seq &lt; <paramref name="toSeqExclusive"/>, in seq order; the range is clamped to the scroll's size.</summary>
    IAsyncEnumerable<StoredLine> ReadAsync(string scroll, long fromSeq, long toSeqExclusive, CancellationToken ct = default);

    /// <summary>Every scroll in the store, opened or not, in ordinal order.</summary>
    Task<IReadOnlyList<string>> ListScrollsAsync(CancellationToken ct = default);

    /// <summary>Appends to the checkpoint history (append-only); the size must not exceed the scroll's size.</summary>
    Task AppendCheckpointAsync(string scroll, StoredCheckpoint checkpoint, CancellationToken ct = default);

    /// <summary>The checkpoint history, oldest first.</summary>
    Task<IReadOnlyList<StoredCheckpoint>> ReadCheckpointsAsync(string scroll, CancellationToken ct = default);

    /// <summary>
    /// Rollback support: moves lines with seq &gt;= <paramref name="newSize"/> to a quarantine (nothing is deleted) and
    /// returns where. The checkpoint history is left untouched. The observer is not called: its owner cuts its own state
    /// to <paramref name="newSize"/>, and the next delivery starts at seq <paramref name="newSize"/>.
    /// </summary>
    Task<TruncateReport> TruncateAsync(string scroll, long newSize, CancellationToken ct = default);
}

namespace Federation.Storage.Scrolls;

/// <summary>Settings of the scroll store; defaults are the named constants below.</summary>
public sealed class ScrollStoreOptions
{
    public const string FileKind = "file";
    public const string PostgresKind = "postgres";
    public const string DefaultKind = FileKind;
    public const string DefaultDataDirectory = "data";

    /// <summary>
    /// Most receipts are a few hundred bytes, but an epoch's decision lists every included node (about 130 bytes
    /// each): 16 MiB holds the decision of a federation of 100,000 nodes while still bounding memory.
    /// </summary>
    public const int DefaultMaxLineBytes = 16 * 1024 * 1024;

    /// <summary>Group commit: at most this many lines per write + fsync (or per transaction). Also the limit per append.</summary>
    public const int DefaultMaxBatchLines = 8192;

    /// <summary>Group commit: a batch closes once it holds this many bytes (one append may take it past).</summary>
    public const int DefaultMaxBatchBytes = 8 * 1024 * 1024;

    /// <summary>Appends waiting for the writer of one scroll; further appenders wait for room (back-pressure).</summary>
    public const int DefaultMaxQueuedAppends = 65_536;

    /// <summary>
    /// Group commit (file store): when the last batch held appends from several callers (concurrent load), the writer
    /// yields its core for at most this long before taking the next batch, so the appenders running now share its
    /// fsync (as PostgreSQL's commit_delay), stopping as soon as a yield brings no new append. A lone appender is
    /// never delayed. 0 turns it off.
    /// </summary>
    public const int DefaultCommitDelayMicroseconds = 2000;

    public string Kind { get; set; } = DefaultKind;

    /// <summary>File store: the data directory; scrolls live under <c>receipts/</c> in it.</summary>
    public string DataDirectory { get; set; } = DefaultDataDirectory;

    /// <summary>PostgreSQL store: an Npgsql connection string.</summary>
    public string? ConnectionString { get; set; }

    public int MaxLineBytes { get; set; } = DefaultMaxLineBytes;

    public int MaxBatchLines { get; set; } = DefaultMaxBatchLines;

    public int MaxBatchBytes { get; set; } = DefaultMaxBatchBytes;

    public int MaxQueuedAppends { get; set; } = DefaultMaxQueuedAppends;

    public int CommitDelayMicroseconds { get; set; } = DefaultCommitDelayMicroseconds;

    /// <summary>
    /// Reading commands open the store read-only: nothing is created, locked, moved or repaired (file store), no
    /// schema is migrated and no head row inserted (PostgreSQL); appends, checkpoints and truncation are refused.
    /// </summary>
    public bool ReadOnly { get; set; }

    /// <summary>Rejects bad settings with a message naming the setting and the rule.</summary>
    /// <exception cref="ArgumentException">A setting is out of range or missing.</exception>
    public ScrollStoreOptions Validate()
    {
        if (Kind is not (FileKind or PostgresKind))
        {
            throw new ArgumentException($"ScrollStoreOptions.Kind must be \"{FileKind}\" or \"{PostgresKind}\", got \"{Kind}\"");
        }

        if (Kind == FileKind && string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new ArgumentException("ScrollStoreOptions.DataDirectory must be set for the file store");
        }

        if (Kind == PostgresKind && string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new ArgumentException("ScrollStoreOptions.ConnectionString must be set for the postgres store");
        }

        RequireRange(MaxLineBytes, 1, int.MaxValue / 2, nameof(MaxLineBytes));
        RequireRange(MaxBatchLines, 1, 1_000_000, nameof(MaxBatchLines));
        RequireRange(MaxBatchBytes, 1, 1024 * 1024 * 1024, nameof(MaxBatchBytes));
        RequireRange(MaxQueuedAppends, 1, 10_000_000, nameof(MaxQueuedAppends));
        RequireRange(CommitDelayMicroseconds, 0, 1_000_000, nameof(CommitDelayMicroseconds));
        return this;
    }

    private static void RequireRange(int value, int min, int max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentException($"ScrollStoreOptions.{name} must be between {min} and {max}, got {value}");
        }
    }
}

/// <summary>Creates the store the options name.</summary>
public static class ScrollStores
{
    public static IScrollStore Create(ScrollStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options.Kind switch
        {
            ScrollStoreOptions.FileKind => new FileScrollStore(options),
            ScrollStoreOptions.PostgresKind => new PostgresScrollStore(options),
            _ => throw new InvalidOperationException($"unreachable: kind {options.Kind} passed validation"),
        };
    }
}

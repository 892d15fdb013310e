using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Npgsql;

namespace Federation.Storage.Scrolls;

/// <summary>
/// Scrolls in PostgreSQL, for more than one process: appends are transactions serialized by the scroll's head row
/// lock, so seqs never repeat or skip whichever process appends; each instance's observer still sees every line
/// once, in order (lines other processes committed are read back from the table).
/// </summary>
public sealed class PostgresScrollStore : IScrollStore
{
    /// <summary>Rows per query when reading or replaying.</summary>
    internal const int ReadPageLines = 8192;

    private readonly ScrollStoreOptions _options;
    private readonly NpgsqlDataSource _dataSource;
    private readonly OpenScrolls<PostgresScroll> _open;
    private bool _migrated;

    public PostgresScrollStore(ScrollStoreOptions options)
    {
        _open = new OpenScrolls<PostgresScroll>(this);
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Validate();
        if (_options.Kind != ScrollStoreOptions.PostgresKind)
        {
            throw new ArgumentException($"PostgresScrollStore needs Kind \"{ScrollStoreOptions.PostgresKind}\", got \"{_options.Kind}\"");
        }

        _dataSource = NpgsqlDataSource.Create(_options.ConnectionString!);
    }

    public string Kind => ScrollStoreOptions.PostgresKind;

    public Task<ScrollOpenReport> OpenAsync(string scroll, CommittedLinesObserver observer, CancellationToken ct = default) => OpenAsync(scroll, observer, null, ct);

    /// <summary>Keeps no commit heads: the sealer is not called.</summary>
    public Task<ScrollOpenReport> OpenAsync(string scroll, CommittedLinesObserver observer, CommitHeadSealer? sealer, CancellationToken ct = default)
    {
        ScrollNames.Validate(scroll);
        ArgumentNullException.ThrowIfNull(observer);
        return _open.OpenAsync(scroll, async () =>
        {
            await EnsureSchemaAsync(ct).ConfigureAwait(false);
            var opened = await PostgresScroll.OpenAsync(_dataSource, _options, scroll, observer, ct).ConfigureAwait(false);
            return (opened, new ScrollOpenReport(scroll, opened.Delivered, null));
        }, ct);
    }

    public Task CloseAsync(string scroll, CancellationToken ct = default) => _open.CloseAsync(scroll, ct);

    public Task<long> AppendAsync(string scroll, IReadOnlyList<LineBuilder> lines, CancellationToken ct = default) =>
        Get(scroll).AppendAsync(lines, ct);

    public Task SyncAsync(string scroll, CancellationToken ct = default) => Get(scroll).SyncAsync(ct);

    public async IAsyncEnumerable<StoredLine> ReadAsync(string scroll, long fromSeq, long toSeqExclusive, [EnumeratorCancellation] CancellationToken ct = default)
    {
        Get(scroll);
        ScrollStoreGuards.ValidateRange(fromSeq, toSeqExclusive);
        var next = fromSeq;
        while (next < toSeqExclusive)
        {
            var page = await ReadPageAsync(_dataSource, scroll, next, Math.Min(toSeqExclusive, next + ReadPageLines), ct).ConfigureAwait(false);
            foreach (var line in page)
            {
                yield return line;
            }

            if (page.Count < ReadPageLines)
            {
                yield break;
            }

            next += page.Count;
        }
    }

    public async Task<IReadOnlyList<string>> ListScrollsAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_open.IsDisposed, this);
        if (_options.ReadOnly)
        {
            await using var probe = _dataSource.CreateCommand("SELECT to_regclass('scroll_heads') IS NOT NULL");
            if (!(bool)(await probe.ExecuteScalarAsync(ct).ConfigureAwait(false))!)
            {
                return [];
            }
        }

        await EnsureSchemaAsync(ct).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand("SELECT scroll FROM scroll_heads ORDER BY scroll");
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var names = new List<string>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    public async Task AppendCheckpointAsync(string scroll, StoredCheckpoint checkpoint, CancellationToken ct = default)
    {
        Get(scroll);
        if (_options.ReadOnly)
        {
            throw ScrollStoreGuards.ReadOnlyRefusal(scroll, "checkpoint");
        }

        ScrollStoreGuards.ValidateCheckpoint(checkpoint, scrollSize: null, scroll);
        // The size check and the insert are one statement, so a concurrent truncation cannot slip between them.
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO scroll_checkpoints (scroll, size, note)
            SELECT scroll, @size, @note FROM scroll_heads WHERE scroll = @scroll AND size >= @size
            """);
        command.Parameters.AddWithValue("scroll", scroll);
        command.Parameters.AddWithValue("size", checkpoint.Size);
        command.Parameters.AddWithValue("note", checkpoint.Note);
        if (await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
        {
            throw new ArgumentOutOfRangeException(nameof(checkpoint), checkpoint.Size, $"checkpoint size exceeds the size of scroll {scroll}");
        }
    }

    public async Task<IReadOnlyList<StoredCheckpoint>> ReadCheckpointsAsync(string scroll, CancellationToken ct = default)
    {
        Get(scroll);
        await using var command = _dataSource.CreateCommand("SELECT size, note FROM scroll_checkpoints WHERE scroll = @scroll ORDER BY id");
        command.Parameters.AddWithValue("scroll", scroll);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var checkpoints = new List<StoredCheckpoint>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            checkpoints.Add(new StoredCheckpoint(reader.GetInt64(0), reader.GetString(1)));
        }

        return checkpoints;
    }

    public Task<TruncateReport> TruncateAsync(string scroll, long newSize, CancellationToken ct = default) =>
        Get(scroll).TruncateAsync(newSize, ct);

    public async ValueTask DisposeAsync()
    {
        if (await _open.DisposeAllAsync().ConfigureAwait(false))
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Lines [from, to) as stored; stops at the first missing seq (the caller checks contiguity where it matters).</summary>
    internal static async Task<List<StoredLine>> ReadPageAsync(NpgsqlDataSource dataSource, string scroll, long fromSeq, long toSeqExclusive, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT seq, line FROM scroll_lines WHERE scroll = @scroll AND seq >= @from AND seq < @to ORDER BY seq");
        command.Parameters.AddWithValue("scroll", scroll);
        command.Parameters.AddWithValue("from", fromSeq);
        command.Parameters.AddWithValue("to", toSeqExclusive);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var lines = new List<StoredLine>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var seq = reader.GetInt64(0);
            if (seq != fromSeq + lines.Count)
            {
                throw new InvalidDataException($"scroll_lines of scroll {scroll} has a gap: expected seq {fromSeq + lines.Count}, found {seq}");
            }

            lines.Add(new StoredLine(seq, reader.GetFieldValue<byte[]>(1)));
        }

        return lines;
    }

    private async Task EnsureSchemaAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _migrated))
        {
            return;
        }

        if (_options.ReadOnly)
        {
            // Reading never migrates: a database without the scroll tables has no scrolls.
            await using var probe = _dataSource.CreateCommand("SELECT to_regclass('scroll_heads') IS NOT NULL");
            if (!(bool)(await probe.ExecuteScalarAsync(ct).ConfigureAwait(false))!)
            {
                throw new InvalidDataException("the PostgreSQL database has no scroll tables (no scroll was ever written to it)");
            }

            Volatile.Write(ref _migrated, true);
            return;
        }

        await PostgresScrollSchema.MigrateAsync(_dataSource, ct).ConfigureAwait(false);
        Volatile.Write(ref _migrated, true);
    }

    private PostgresScroll Get(string scroll) => _open.Get(scroll);
}

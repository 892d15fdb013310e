using Npgsql;
using NpgsqlTypes;

namespace Federation.Storage.Scrolls;

/// <summary>One open scroll of the PostgreSQL store: its writer loop (group commit) and its delivery cursor.</summary>
internal sealed class PostgresScroll : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _name;
    private readonly CommittedLinesObserver _observer;
    private readonly AppendQueue _queue;
    private readonly int _maxDeliveryLines;

    // Held for each batch (transaction + delivery), by SyncAsync and by truncation: the observer sees one sequence.
    private readonly SemaphoreSlim _gate = new(1, 1);

    // Next seq the observer has not seen.
    private long _delivered;

    // scroll_heads.generation when this instance last agreed with the table; a truncation elsewhere bumps it.
    private long _generation;
    private volatile ScrollFailedException? _failure;
    private Task _writer = Task.CompletedTask;
    private readonly bool _readOnly;

    private PostgresScroll(NpgsqlDataSource dataSource, ScrollStoreOptions options, string name, CommittedLinesObserver observer)
    {
        _readOnly = options.ReadOnly;
        _dataSource = dataSource;
        _name = name;
        _observer = observer;
        _queue = new AppendQueue(name, options);
        _maxDeliveryLines = Math.Min(PostgresScrollStore.ReadPageLines, options.MaxBatchLines);
    }

    public long Delivered => Volatile.Read(ref _delivered);

    public static async Task<PostgresScroll> OpenAsync(NpgsqlDataSource dataSource, ScrollStoreOptions options, string name, CommittedLinesObserver observer, CancellationToken ct)
    {
        if (!options.ReadOnly)
        {
            await using var ensure = dataSource.CreateCommand("INSERT INTO scroll_heads (scroll, size) VALUES (@scroll, 0) ON CONFLICT (scroll) DO NOTHING");
            ensure.Parameters.AddWithValue("scroll", name);
            await ensure.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        var scroll = new PostgresScroll(dataSource, options, name, observer);
        if (options.ReadOnly && !await scroll.HasHeadAsync(ct).ConfigureAwait(false))
        {
            throw new ScrollNotFoundException(name, "scroll_heads has no row for it");
        }

        var (size, generation) = await scroll.ReadHeadAsync(ct).ConfigureAwait(false);
        scroll._generation = generation;
        await scroll.DeliverFromTableAsync(size, ct).ConfigureAwait(false);
        if (options.ReadOnly)
        {
            // Reading never writes: no writer.
            scroll._writer = Task.CompletedTask;
        }
        else
        {
            scroll._writer = Task.Run(scroll.WriteLoopAsync, CancellationToken.None);
        }

        return scroll;
    }

    public Task<long> AppendAsync(IReadOnlyList<LineBuilder> lines, CancellationToken ct)
    {
        if (_readOnly)
        {
            return Task.FromException<long>(ScrollStoreGuards.ReadOnlyRefusal(_name, "append to"));
        }

        if (_failure is { } failure)
        {
            return Task.FromException<long>(failure);
        }

        return _queue.EnqueueAsync(lines, ct);
    }

    public async Task SyncAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ThrowIfFailed();
            var (size, generation) = await ReadHeadAsync(ct).ConfigureAwait(false);
            CheckGeneration(generation);
            await DeliverFromTableAsync(size, ct).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<TruncateReport> TruncateAsync(long newSize, CancellationToken ct)
    {
        if (_readOnly)
        {
            throw ScrollStoreGuards.ReadOnlyRefusal(_name, "truncate");
        }

        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ThrowIfFailed();
            await using var connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            var (oldSize, generation) = await LockHeadAsync(connection, transaction, ct).ConfigureAwait(false);
            CheckGeneration(generation);
            if (newSize < 0 || newSize > oldSize)
            {
                throw new ArgumentOutOfRangeException(nameof(newSize), newSize, $"newSize must be between 0 and the size of scroll {_name} ({oldSize})");
            }

            if (newSize == oldSize)
            {
                return new TruncateReport(oldSize, newSize, null);
            }

            long truncationId;
            await using (var record = new NpgsqlCommand(
                "INSERT INTO scroll_truncations (scroll, old_size, new_size) VALUES (@scroll, @old, @new) RETURNING id", connection, transaction))
            {
                record.Parameters.AddWithValue("scroll", _name);
                record.Parameters.AddWithValue("old", oldSize);
                record.Parameters.AddWithValue("new", newSize);
                truncationId = (long)(await record.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            }

            await using (var move = new NpgsqlCommand("""
                WITH moved AS (DELETE FROM scroll_lines WHERE scroll = @scroll AND seq >= @new RETURNING seq, line)
                INSERT INTO scroll_quarantine (truncation_id, scroll, seq, line) SELECT @id, @scroll, seq, line FROM moved;
                UPDATE scroll_heads SET size = @new, generation = generation + 1 WHERE scroll = @scroll;
                """, connection, transaction))
            {
                move.Parameters.AddWithValue("scroll", _name);
                move.Parameters.AddWithValue("new", newSize);
                move.Parameters.AddWithValue("id", truncationId);
                await move.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            await transaction.CommitAsync(ct).ConfigureAwait(false);
            _generation = generation + 1;
            Volatile.Write(ref _delivered, Math.Min(_delivered, newSize));
            return new TruncateReport(oldSize, newSize, $"scroll_quarantine truncation_id={truncationId}");
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Complete();
        await _writer.ConfigureAwait(false);
    }

    private async Task WriteLoopAsync()
    {
        while (await _queue.WaitAsync().ConfigureAwait(false))
        {
            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (_failure is { } failure)
                {
                    _queue.FailPending(failure);
                    continue;
                }

                await CommitNextBatchAsync().ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>
    /// One transaction: lock the head row, build the lines at seqs from its size, insert them, move the head, commit.
    /// The row lock makes commits of one scroll happen in seq order across every process.
    /// </summary>
    private async Task CommitNextBatchAsync()
    {
        AppendBatch? batch = null;
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
            var (size, generation) = await LockHeadAsync(connection, transaction, CancellationToken.None).ConfigureAwait(false);
            CheckGeneration(generation);
            batch = _queue.TakeBatch(size);
            if (batch.IsEmpty)
            {
                return;
            }

            await using (var insert = new NpgsqlBatch(connection, transaction))
            {
                var lines = new NpgsqlBatchCommand("""
                    INSERT INTO scroll_lines (scroll, seq, line)
                    SELECT @scroll, @first + t.ord - 1, t.line FROM unnest(@lines) WITH ORDINALITY AS t (line, ord)
                    """);
                lines.Parameters.AddWithValue("scroll", _name);
                lines.Parameters.AddWithValue("first", batch.FirstSeq);
                lines.Parameters.Add(new NpgsqlParameter("lines", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = batch.Lines.ToArray() });
                var head = new NpgsqlBatchCommand("UPDATE scroll_heads SET size = @size WHERE scroll = @scroll");
                head.Parameters.AddWithValue("scroll", _name);
                head.Parameters.AddWithValue("size", batch.NextSeq);
                insert.BatchCommands.Add(lines);
                insert.BatchCommands.Add(head);
                await insert.ExecuteNonQueryAsync().ConfigureAwait(false);
            }

            await transaction.CommitAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Before COMMIT nothing is stored and no seq is used. If COMMIT itself failed the outcome is unknown: should
            // the lines be stored after all, the next delivery reads them from the table, so the observer stays exact.
            var error = ex is ScrollFailedException ? ex : new IOException($"scroll {_name}: the append transaction failed ({ex.Message})", ex);
            if (batch is null)
            {
                _queue.FailPending(error);
            }
            else
            {
                batch.Fail(error);
            }

            return;
        }

        try
        {
            await DeliverAsync(batch).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            batch.Fail(Fail($"lines {batch.FirstSeq}..{batch.NextSeq - 1} are committed but delivering them to the observer failed", ex));
            return;
        }

        batch.Complete();
    }

    /// <summary>Lines others committed before this batch come from the table; the batch's own lines from memory.</summary>
    private async Task DeliverAsync(AppendBatch batch)
    {
        await DeliverFromTableAsync(batch.FirstSeq, CancellationToken.None).ConfigureAwait(false);
        if (_delivered != batch.FirstSeq)
        {
            throw new InvalidOperationException($"delivery invariant broken: observer is at seq {_delivered}, batch starts at {batch.FirstSeq}");
        }

        _observer(batch.FirstSeq, batch.Lines);
        Volatile.Write(ref _delivered, batch.NextSeq);
    }

    /// <summary>Delivers committed lines [delivered, <paramref name="toSeq"/>) read from scroll_lines.</summary>
    private async Task DeliverFromTableAsync(long toSeq, CancellationToken ct)
    {
        while (_delivered < toSeq)
        {
            var page = await PostgresScrollStore.ReadPageAsync(_dataSource, _name, _delivered, Math.Min(toSeq, _delivered + _maxDeliveryLines), ct).ConfigureAwait(false);
            if (page.Count == 0)
            {
                throw new InvalidDataException($"scroll {_name}: scroll_heads says {toSeq} lines but scroll_lines has no seq {_delivered}");
            }

            var first = _delivered;
            try
            {
                _observer(first, page.Select(line => line.Line).ToList());
            }
            catch (Exception ex)
            {
                throw Fail($"the observer failed on lines from seq {first}", ex);
            }

            Volatile.Write(ref _delivered, first + page.Count);
        }
    }

    private async Task<(long Size, long Generation)> ReadHeadAsync(CancellationToken ct)
    {
        await using var command = _dataSource.CreateCommand("SELECT size, generation FROM scroll_heads WHERE scroll = @scroll");
        command.Parameters.AddWithValue("scroll", _name);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false)
            ? (reader.GetInt64(0), reader.GetInt64(1))
            : throw new InvalidDataException($"scroll {_name} has no row in scroll_heads");
    }

    private async Task<bool> HasHeadAsync(CancellationToken ct)
    {
        await using var command = _dataSource.CreateCommand("SELECT 1 FROM scroll_heads WHERE scroll = @scroll");
        command.Parameters.AddWithValue("scroll", _name);
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null;
    }

    private async Task<(long Size, long Generation)> LockHeadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT size, generation FROM scroll_heads WHERE scroll = @scroll FOR UPDATE", connection, transaction);
        command.Parameters.AddWithValue("scroll", _name);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false)
            ? (reader.GetInt64(0), reader.GetInt64(1))
            : throw new InvalidDataException($"scroll {_name} has no row in scroll_heads");
    }

    /// <summary>A truncation by another instance invalidates what this observer has seen: refuse to go on.</summary>
    private void CheckGeneration(long generation)
    {
        if (generation != _generation)
        {
            throw Fail("was truncated by another store instance", new InvalidOperationException($"scroll_heads.generation is {generation}, this instance opened at {_generation}"));
        }
    }

    private ScrollFailedException Fail(string what, Exception cause)
    {
        var failure = new ScrollFailedException($"scroll {_name}: {what}; the scroll refuses further writes until the store is disposed and the scroll opened again ({cause.Message})", cause);
        _failure ??= failure;
        return failure;
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            throw failure;
        }
    }
}

using System.Runtime.CompilerServices;

namespace Federation.Storage.Scrolls;

/// <summary>
/// The scrolls of a <see cref="MemoryScrollStore"/>: outlives store instances (a "reopen" in simulations and
/// tests sees everything committed before), like a data directory does for the file store.
/// </summary>
public sealed class MemoryScrollVolume
{
    internal readonly Lock Gate = new();
    internal readonly SortedDictionary<string, MemoryScrollData> Scrolls = new(StringComparer.Ordinal);

    /// <summary>Every scroll's committed lines and checkpoint history (for exporting a run into the file layout).</summary>
    public IReadOnlyList<(string Scroll, IReadOnlyList<byte[]> Lines, IReadOnlyList<StoredCheckpoint> Checkpoints)> Snapshot()
    {
        lock (Gate)
        {
            return Scrolls.Select(s => (s.Key, (IReadOnlyList<byte[]>)s.Value.Lines.ToList(), (IReadOnlyList<StoredCheckpoint>)s.Value.Checkpoints.ToList())).ToList();
        }
    }
}

internal sealed class MemoryScrollData
{
    public List<byte[]> Lines { get; } = [];

    public List<StoredCheckpoint> Checkpoints { get; } = [];

    public List<List<byte[]>> Quarantines { get; } = [];
}

/// <summary>
/// An in-memory scroll store for deterministic simulation (ARCHITECTURE.md, Determinism): every operation
/// completes synchronously on the caller's thread, so the simulation scheduler's seeded single-thread order
/// is never broken by I/O completing elsewhere. Same contract as the file store (line rules, all-or-nothing
/// appends, observer before completion, checkpoints, truncation into a quarantine); nothing is durable
/// beyond the <see cref="MemoryScrollVolume"/>.
/// </summary>
public sealed class MemoryScrollStore(MemoryScrollVolume volume, ScrollStoreOptions? options = null) : IScrollStore
{
    public const string MemoryKind = "memory";

    private readonly int _maxLineBytes = (options ?? new ScrollStoreOptions()).MaxLineBytes;
    private readonly int _maxBatchLines = (options ?? new ScrollStoreOptions()).MaxBatchLines;
    private readonly bool _readOnly = options?.ReadOnly ?? false;
    private readonly Dictionary<string, CommittedLinesObserver> _open = new(StringComparer.Ordinal);
    private bool _disposed;

    public MemoryScrollVolume Volume => volume;

    public string Kind => MemoryKind;

    public Task<ScrollOpenReport> OpenAsync(string scroll, CommittedLinesObserver observer, CancellationToken ct = default) => OpenAsync(scroll, observer, null, ct);

    /// <summary>Keeps no commit heads: the sealer is not called.</summary>
    public Task<ScrollOpenReport> OpenAsync(string scroll, CommittedLinesObserver observer, CommitHeadSealer? sealer, CancellationToken ct = default)
    {
        ScrollNames.Validate(scroll);
        ArgumentNullException.ThrowIfNull(observer);
        lock (volume.Gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_open.ContainsKey(scroll))
            {
                throw new ScrollAlreadyOpenException(scroll);
            }

            if (!volume.Scrolls.TryGetValue(scroll, out var data))
            {
                if (_readOnly)
                {
                    throw new ScrollNotFoundException(scroll, "the memory volume has no such scroll");
                }

                volume.Scrolls[scroll] = data = new MemoryScrollData();
            }

            for (var first = 0; first < data.Lines.Count; first += _maxBatchLines)
            {
                observer(first, data.Lines.Skip(first).Take(_maxBatchLines).ToList());
            }

            _open[scroll] = observer;
            return Task.FromResult(new ScrollOpenReport(scroll, data.Lines.Count, null));
        }
    }

    public Task CloseAsync(string scroll, CancellationToken ct = default)
    {
        ScrollNames.Validate(scroll);
        lock (volume.Gate)
        {
            _open.Remove(scroll);
        }

        return Task.CompletedTask;
    }

    public Task<long> AppendAsync(string scroll, IReadOnlyList<LineBuilder> lines, CancellationToken ct = default)
    {
        ScrollNames.Validate(scroll);
        ArgumentNullException.ThrowIfNull(lines);
        if (lines.Count == 0)
        {
            throw new ArgumentException("an append needs at least one line", nameof(lines));
        }

        if (_readOnly)
        {
            return Task.FromException<long>(ScrollStoreGuards.ReadOnlyRefusal(scroll, "append to"));
        }

        if (lines.Count > _maxBatchLines)
        {
            throw new ArgumentException($"an append may hold at most {_maxBatchLines} lines (MaxBatchLines), got {lines.Count}", nameof(lines));
        }

        ct.ThrowIfCancellationRequested();
        lock (volume.Gate)
        {
            var (data, observer) = Get(scroll);
            var first = (long)data.Lines.Count;
            var built = new List<byte[]>(lines.Count);
            try
            {
                for (var i = 0; i < lines.Count; i++)
                {
                    var line = lines[i](first + i);
                    ScrollLines.Validate(line, first + i, _maxLineBytes);
                    built.Add(line);
                }
            }
            catch (Exception ex)
            {
                return Task.FromException<long>(ex);
            }

            data.Lines.AddRange(built);
            observer(first, built);
            return Task.FromResult(first);
        }
    }

    public Task SyncAsync(string scroll, CancellationToken ct = default)
    {
        lock (volume.Gate)
        {
            Get(scroll);
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<StoredLine> ReadAsync(string scroll, long fromSeq, long toSeqExclusive, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ScrollStoreGuards.ValidateRange(fromSeq, toSeqExclusive);
        List<StoredLine> lines;
        lock (volume.Gate)
        {
            var (data, _) = Get(scroll);
            var end = Math.Min(toSeqExclusive, data.Lines.Count);
            lines = [];
            for (var seq = fromSeq; seq < end; seq++)
            {
                lines.Add(new StoredLine(seq, data.Lines[(int)seq]));
            }
        }

        foreach (var line in lines)
        {
            ct.ThrowIfCancellationRequested();
            yield return line;
        }

        await Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> ListScrollsAsync(CancellationToken ct = default)
    {
        lock (volume.Gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return Task.FromResult<IReadOnlyList<string>>(volume.Scrolls.Keys.ToList());
        }
    }

    public Task AppendCheckpointAsync(string scroll, StoredCheckpoint checkpoint, CancellationToken ct = default)
    {
        lock (volume.Gate)
        {
            var (data, _) = Get(scroll);
            if (_readOnly)
            {
                throw ScrollStoreGuards.ReadOnlyRefusal(scroll, "checkpoint");
            }

            ScrollStoreGuards.ValidateCheckpoint(checkpoint, data.Lines.Count, scroll);
            data.Checkpoints.Add(checkpoint);
            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<StoredCheckpoint>> ReadCheckpointsAsync(string scroll, CancellationToken ct = default)
    {
        lock (volume.Gate)
        {
            return Task.FromResult<IReadOnlyList<StoredCheckpoint>>(Get(scroll).Data.Checkpoints.ToList());
        }
    }

    public Task<TruncateReport> TruncateAsync(string scroll, long newSize, CancellationToken ct = default)
    {
        lock (volume.Gate)
        {
            var (data, _) = Get(scroll);
            if (_readOnly)
            {
                throw ScrollStoreGuards.ReadOnlyRefusal(scroll, "truncate");
            }

            if (newSize < 0 || newSize > data.Lines.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(newSize), newSize, $"the new size must be between 0 and the size of scroll {scroll} ({data.Lines.Count})");
            }

            var oldSize = data.Lines.Count;
            if (newSize == oldSize)
            {
                return Task.FromResult(new TruncateReport(oldSize, newSize, null));
            }

            var removed = data.Lines.GetRange((int)newSize, oldSize - (int)newSize);
            data.Lines.RemoveRange((int)newSize, removed.Count);
            data.Quarantines.Add(removed);
            return Task.FromResult(new TruncateReport(oldSize, newSize, $"memory quarantine {scroll}#{data.Quarantines.Count - 1}"));
        }
    }

    /// <summary>The lines a truncation moved (its <see cref="TruncateReport.QuarantinedTo"/>).</summary>
    public IReadOnlyList<byte[]> Quarantined(string scroll, int index)
    {
        lock (volume.Gate)
        {
            return volume.Scrolls[scroll].Quarantines[index].ToList();
        }
    }

    public ValueTask DisposeAsync()
    {
        lock (volume.Gate)
        {
            _disposed = true;
            _open.Clear();
        }

        return ValueTask.CompletedTask;
    }

    private (MemoryScrollData Data, CommittedLinesObserver Observer) Get(string scroll)
    {
        ScrollNames.Validate(scroll);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _open.TryGetValue(scroll, out var observer)
            ? (volume.Scrolls[scroll], observer)
            : throw new InvalidOperationException($"scroll {scroll} is not open in this store; call OpenAsync first");
    }
}

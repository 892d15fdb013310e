using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Federation.Storage.Scrolls;

/// <summary>
/// The embedded default: each scroll is a JSONL file under <c>&lt;data&gt;/receipts/&lt;scroll&gt;/</c>, owned by one
/// process at a time, appended with group commit and one fsync per batch (docs/formats/scroll-storage.md).
/// </summary>
public sealed class FileScrollStore : IScrollStore
{
    public const string ReceiptsDirectoryName = "receipts";

    private readonly ScrollStoreOptions _options;
    private readonly OpenScrolls<FileScroll> _open;

    public FileScrollStore(ScrollStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _open = new OpenScrolls<FileScroll>(this);
        _options = options.Validate();
        if (_options.Kind != ScrollStoreOptions.FileKind)
        {
            throw new ArgumentException($"FileScrollStore needs Kind \"{ScrollStoreOptions.FileKind}\", got \"{_options.Kind}\"");
        }

        DataDirectory = Path.GetFullPath(_options.DataDirectory);
        ReceiptsDirectory = Path.Combine(DataDirectory, ReceiptsDirectoryName);
    }

    public string Kind => ScrollStoreOptions.FileKind;

    public string DataDirectory { get; }

    public string ReceiptsDirectory { get; }

    /// <summary><c>&lt;data&gt;/receipts/&lt;scroll&gt;/&lt;scroll&gt;.jsonl</c>.</summary>
    public string LinesPath(string scroll) => FileScroll.PathsFor(this, ScrollNames.Validate(scroll)).Lines;

    /// <summary><c>&lt;data&gt;/ROOT.&lt;scroll&gt;.txt</c>: the latest checkpoint note.</summary>
    public string RootPath(string scroll) => FileScroll.PathsFor(this, ScrollNames.Validate(scroll)).Root;

    public Task<ScrollOpenReport> OpenAsync(string scroll, CommittedLinesObserver observer, CancellationToken ct = default) => OpenAsync(scroll, observer, null, ct);

    public Task<ScrollOpenReport> OpenAsync(string scroll, CommittedLinesObserver observer, CommitHeadSealer? sealer, CancellationToken ct = default)
    {
        ScrollNames.Validate(scroll);
        ArgumentNullException.ThrowIfNull(observer);

        // Opening reads the whole file; keep it off the caller's thread.
        return _open.OpenAsync(scroll, () => Task.Run(() => FileScroll.Open(this, _options, scroll, observer, sealer, ct), ct), ct);
    }

    public bool KeepsCommitHeads => true;

    public Task<IReadOnlyList<byte[]>> ReadCommitHeadsAsync(string scroll, CancellationToken ct = default) => Task.FromResult(Get(scroll).ReadHeads());

    /// <summary><c>&lt;data&gt;/receipts/&lt;scroll&gt;/&lt;scroll&gt;.head</c>: the two slots of signed commit heads.</summary>
    public string HeadPath(string scroll) => FileScroll.PathsFor(this, ScrollNames.Validate(scroll)).Head;

    public Task CloseAsync(string scroll, CancellationToken ct = default) => _open.CloseAsync(scroll, ct);

    public Task<long> AppendAsync(string scroll, IReadOnlyList<LineBuilder> lines, CancellationToken ct = default) =>
        Get(scroll).AppendAsync(lines, ct);

    public Task SyncAsync(string scroll, CancellationToken ct = default)
    {
        Get(scroll);
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<StoredLine> ReadAsync(string scroll, long fromSeq, long toSeqExclusive, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var opened = Get(scroll);
        ScrollStoreGuards.ValidateRange(fromSeq, toSeqExclusive);
        var next = fromSeq;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var chunk = opened.ReadChunk(next, toSeqExclusive);
            if (chunk.Count == 0)
            {
                yield break;
            }

            foreach (var line in chunk)
            {
                yield return line;
            }

            next += chunk.Count;
            await Task.Yield();
        }
    }

    public Task<IReadOnlyList<string>> ListScrollsAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_open.IsDisposed, this);
        if (!Directory.Exists(ReceiptsDirectory))
        {
            return Task.FromResult<IReadOnlyList<string>>([]);
        }

        var names = Directory.GetDirectories(ReceiptsDirectory)
            .Select(Path.GetFileName)
            .Where(name => ScrollNames.IsValid(name) && File.Exists(FileScroll.PathsFor(this, name!).Lines))
            .Select(name => name!)
            .Order(StringComparer.Ordinal)
            .ToList();
        return Task.FromResult<IReadOnlyList<string>>(names);
    }

    public Task AppendCheckpointAsync(string scroll, StoredCheckpoint checkpoint, CancellationToken ct = default) =>
        Get(scroll).AppendCheckpointAsync(checkpoint, ct);

    public Task<IReadOnlyList<StoredCheckpoint>> ReadCheckpointsAsync(string scroll, CancellationToken ct = default) =>
        Get(scroll).ReadCheckpointsAsync(ct);

    public Task<TruncateReport> TruncateAsync(string scroll, long newSize, CancellationToken ct = default) =>
        Get(scroll).TruncateAsync(newSize, ct);

    public async ValueTask DisposeAsync() => await _open.DisposeAllAsync().ConfigureAwait(false);

    private FileScroll Get(string scroll) => _open.Get(scroll);
}

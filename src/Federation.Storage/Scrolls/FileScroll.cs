using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Federation.Storage.Files;
using Microsoft.Win32.SafeHandles;

namespace Federation.Storage.Scrolls;

/// <summary>One open scroll of the file store: its lock, its file, its line index and its writer loop.</summary>
internal sealed class FileScroll : IAsyncDisposable
{
    public const string LinesSuffix = ".jsonl";
    public const string TornSuffix = ".jsonl.torn";
    public const string CheckpointsSuffix = ".checkpoints.jsonl";
    public const string CheckpointsTornSuffix = ".checkpoints.jsonl.torn";
    public const string LockSuffix = ".lock";
    public const string HeadSuffix = ".head";

    /// <summary>
    /// The head file holds two slots of this many bytes (one page each): a record, '\n', zero padding. A signed note of
    /// the longest origin (a 255-character prefix, a 64-character scroll name) fits with room to spare.
    /// </summary>
    public const int HeadSlotBytes = 4096;
    public const string QuarantineInfix = ".quarantine-";
    public const string QuarantineTimeFormat = "yyyyMMdd'T'HHmmss'Z'";

    /// <summary>Reads and truncation copies move at most this much per file read.</summary>
    private const int ReadBufferBytes = 1024 * 1024;

    /// <summary>ReadAsync takes at most this many lines per chunk (the index lock is held for one chunk).</summary>
    private const int MaxReadChunkLines = 4096;

    private static readonly JsonWriterOptions RecordJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string _name;
    private readonly ScrollPaths _paths;
    private readonly ScrollStoreOptions _options;
    private readonly CommittedLinesObserver _observer;
    private readonly CommitHeadSealer? _sealer;
    private SafeFileHandle? _head;
    private long _headWrites;
    private long _headSize = -1;

    // A read-only open's snapshot of the checkpoint history and the head slots, taken before the lines were read.
    private List<StoredCheckpoint>? _checkpointSnapshot;
    private IReadOnlyList<byte[]>? _headSnapshot;
    private readonly FileStream? _lock;
    private readonly SafeFileHandle _file;
    private readonly LineIndex _index = new();
    private readonly AppendQueue _queue;

    // Held by the writer for each batch, and by truncation and checkpoints: one mutation of the scroll at a time.
    private readonly SemaphoreSlim _gate = new(1, 1);

    // Readers hold it for one chunk; truncation holds it exclusively while cutting the file.
    private readonly ReaderWriterLockSlim _readers = new(LockRecursionPolicy.NoRecursion);
    private long _length;
    private volatile ScrollFailedException? _failure;

    // The writer is a thread of its own: it blocks in write + fsync, never a thread-pool thread.
    private readonly TaskCompletionSource _writerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FileScroll(string name, ScrollPaths paths, ScrollStoreOptions options, CommittedLinesObserver observer, FileStream? lockFile, SafeFileHandle file, CommitHeadSealer? sealer = null)
    {
        _sealer = sealer;
        _name = name;
        _paths = paths;
        _options = options;
        _observer = observer;
        _lock = lockFile;
        _file = file;
        _queue = new AppendQueue(name, options);
    }

    public sealed record ScrollPaths(string Directory, string Lines, string Torn, string Checkpoints, string CheckpointsTorn, string Lock, string Root, string Head);

    public static ScrollPaths PathsFor(FileScrollStore store, string scroll)
    {
        var directory = Path.Combine(store.ReceiptsDirectory, scroll);
        return new ScrollPaths(
            directory,
            Path.Combine(directory, scroll + LinesSuffix),
            Path.Combine(directory, scroll + TornSuffix),
            Path.Combine(directory, scroll + CheckpointsSuffix),
            Path.Combine(directory, scroll + CheckpointsTornSuffix),
            Path.Combine(directory, scroll + LockSuffix),
            Path.Combine(store.DataDirectory, $"ROOT.{scroll}.txt"),
            Path.Combine(directory, scroll + HeadSuffix));
    }

    public static (FileScroll Scroll, ScrollOpenReport Report) Open(FileScrollStore store, ScrollStoreOptions options, string name, CommittedLinesObserver observer, CommitHeadSealer? sealer, CancellationToken ct)
    {
        var paths = PathsFor(store, name);
        if (options.ReadOnly)
        {
            return OpenReadOnly(paths, options, name, observer, ct);
        }

        CreateDirectoryDurably(store.DataDirectory);
        CreateDirectoryDurably(store.ReceiptsDirectory);
        CreateDirectoryDurably(paths.Directory);

        FileStream lockFile;
        try
        {
            // FileShare.None is flock(LOCK_EX | LOCK_NB) on Linux: it excludes other processes and other store instances.
            lockFile = new FileStream(paths.Lock, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"scroll {name} is already open by another process (or another store instance): the lock {paths.Lock} is held ({ex.Message})", ex);
        }

        SafeFileHandle? file = null;
        try
        {
            var created = !File.Exists(paths.Lines);
            file = File.OpenHandle(paths.Lines, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
            if (created)
            {
                DurableFile.SyncDirectory(paths.Directory);
            }

            var scroll = new FileScroll(name, paths, options, observer, lockFile, file, sealer);
            var torn = MoveTornTail(file, paths.Lines, paths.Torn);
            var tornCheckpoint = File.Exists(paths.Checkpoints) ? MoveTornTail(paths.Checkpoints, paths.CheckpointsTorn) : null;
            scroll.Replay(ct);
            var rootRepaired = scroll.RepairRoot();
            new Thread(scroll.WriteLoop) { IsBackground = true, Name = $"scroll writer {name}" }.Start();
            return (scroll, new ScrollOpenReport(name, scroll._index.Count, torn, tornCheckpoint) { RootRepaired = rootRepaired });
        }
        catch
        {
            file?.Dispose();
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reading never writes (issue 20): no directory, lock, torn-tail move or ROOT repair. The scroll is the file's
    /// complete lines as of now; a torn tail is reported, left in place; the ROOT file is compared with the latest
    /// checkpoint and a missing, forged or stale one is reported. Appends, checkpoints and truncation are refused.
    /// </summary>
    private static (FileScroll Scroll, ScrollOpenReport Report) OpenReadOnly(ScrollPaths paths, ScrollStoreOptions options, string name, CommittedLinesObserver observer, CancellationToken ct)
    {
        if (!File.Exists(paths.Lines))
        {
            throw new ScrollNotFoundException(name, $"there is no {paths.Lines}");
        }

        var file = File.OpenHandle(paths.Lines, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            var scroll = new FileScroll(name, paths, options, observer, lockFile: null, file);
            scroll._writerDone.TrySetResult();

            // Beside a live writer, what speaks for the lines is read before the lines: every checkpoint and head of the
            // snapshot then covers lines the replay finds (lines committed meanwhile come after them, never before).
            var writerActive = WriterHolds(paths.Lock);
            scroll._checkpointSnapshot = ReadCheckpointFile(paths.Checkpoints, tolerateTornTail: true);
            scroll._headSnapshot = scroll.ReadHeadSlots();
            var rootProblem = scroll.CheckRoot();
            var torn = TornTailOf(file, paths.Lines);
            var tornCheckpoint = File.Exists(paths.Checkpoints) ? TornTailOf(paths.Checkpoints) : null;
            scroll.Replay(ct);
            return (scroll, new ScrollOpenReport(name, scroll._index.Count, torn, tornCheckpoint) { RootProblem = rootProblem, WriterActive = writerActive });
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public long Size => _index.Count;

    public Task<long> AppendAsync(IReadOnlyList<LineBuilder> lines, CancellationToken ct)
    {
        if (_options.ReadOnly)
        {
            return Task.FromException<long>(ReadOnlyRefusal("append to"));
        }

        if (_failure is { } failure)
        {
            return Task.FromException<long>(failure);
        }

        return _queue.EnqueueAsync(lines, ct);
    }

    public List<StoredLine> ReadChunk(long fromSeq, long toSeqExclusive)
    {
        _readers.EnterReadLock();
        try
        {
            var end = Math.Min(toSeqExclusive, _index.Count);
            if (fromSeq >= end)
            {
                return [];
            }

            var start = _index.StartOf(fromSeq);
            var last = fromSeq;
            while (last < end && last - fromSeq < MaxReadChunkLines && (last == fromSeq || _index.EndOf(last) - start <= ReadBufferBytes))
            {
                last++;
            }

            var bytes = new byte[_index.StartOf(last) - start];
            ReadExactly(_file, bytes, start);
            var lines = new List<StoredLine>((int)(last - fromSeq));
            for (var seq = fromSeq; seq < last; seq++)
            {
                var from = (int)(_index.StartOf(seq) - start);
                var to = (int)(_index.EndOf(seq) - start) - 1; // without the '\n'
                lines.Add(new StoredLine(seq, bytes[from..to]));
            }

            return lines;
        }
        finally
        {
            _readers.ExitReadLock();
        }
    }

    public async Task AppendCheckpointAsync(StoredCheckpoint checkpoint, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ThrowIfFailed();
            ScrollStoreGuards.ValidateCheckpoint(checkpoint, _index.Count, _name);
            var line = CheckpointLine(checkpoint);
            try
            {
                var created = !File.Exists(_paths.Checkpoints);
                using (var stream = new FileStream(_paths.Checkpoints, FileMode.Append, FileAccess.Write, FileShare.Read))
                {
                    stream.Write(line);
                    stream.Flush(flushToDisk: true);
                }

                if (created)
                {
                    DurableFile.SyncDirectory(_paths.Directory);
                }

                DurableFile.WriteAtomic(_paths.Root, Encoding.UTF8.GetBytes(checkpoint.Note));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Fail($"writing checkpoint {checkpoint.Size} to {_paths.Checkpoints} failed", ex);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<StoredCheckpoint>> ReadCheckpointsAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return _checkpointSnapshot ?? ReadCheckpointFile(_paths.Checkpoints, tolerateTornTail: _options.ReadOnly);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<TruncateReport> TruncateAsync(long newSize, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ThrowIfFailed();
            var oldSize = _index.Count;
            if (newSize < 0 || newSize > oldSize)
            {
                throw new ArgumentOutOfRangeException(nameof(newSize), newSize, $"newSize must be between 0 and the size of scroll {_name} ({oldSize})");
            }

            if (newSize == oldSize)
            {
                return new TruncateReport(oldSize, newSize, null);
            }

            var cut = _index.StartOf(newSize);
            var quarantine = QuarantinePath();
            try
            {
                using (var stream = new FileStream(quarantine, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    CopyRange(_file, cut, _length, stream);
                    stream.Flush(flushToDisk: true);
                }

                DurableFile.SyncDirectory(_paths.Directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Nothing was cut yet: the scroll is intact and stays usable.
                throw new IOException($"cannot write the quarantine {quarantine}; scroll {_name} was not truncated", ex);
            }

            _readers.EnterWriteLock();
            try
            {
                RandomAccess.SetLength(_file, cut);
                RandomAccess.FlushToDisk(_file);
                _index.Truncate(newSize);
                _length = cut;
                _headSize = -1; // the next commit's head is written even at a size signed before the cut
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Fail($"cutting {_paths.Lines} to {cut} bytes failed after its lines were quarantined in {quarantine}", ex);
            }
            finally
            {
                _readers.ExitWriteLock();
            }

            return new TruncateReport(oldSize, newSize, quarantine);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Complete();
        await _writerDone.Task.ConfigureAwait(false);
        // Only a session that committed (and so wrote a head) closes with one: an open that failed its checks signs nothing.
        if (_sealer is not null && _failure is null && _headSize >= 0)
        {
            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                WriteHead(_index.Count, bothSlots: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                // The last batch's head is durable already; only the tidy final form is missing.
            }
            finally
            {
                _gate.Release();
            }
        }

        _head?.Dispose();
        _file.Dispose();
        if (_lock is not null)
        {
            await _lock.DisposeAsync().ConfigureAwait(false);
        }
        _readers.Dispose();
    }

    private void WriteLoop()
    {
        var delay = TimeSpan.FromMicroseconds(_options.CommitDelayMicroseconds);
        var concurrent = false;
        try
        {
            while (_queue.WaitForPending())
            {
                if (concurrent && delay > TimeSpan.Zero)
                {
                    AwaitLateComers(delay);
                }

                _gate.Wait();
                try
                {
                    if (_failure is { } failure)
                    {
                        _queue.FailPending(failure);
                        continue;
                    }

                    var batch = _queue.TakeBatch(_index.Count);
                    concurrent = batch.Appends > 1;
                    if (!batch.IsEmpty)
                    {
                        try
                        {
                            Commit(batch);
                        }
                        catch (Exception ex)
                        {
                            // A broken invariant: stop loudly, never leave an append waiting forever.
                            batch.Fail(Fail($"commit of seq {batch.FirstSeq}.. failed unexpectedly", ex));
                        }
                    }
                }
                finally
                {
                    _gate.Release();
                }
            }
        }
        catch (Exception ex)
        {
            // Nothing may escape a thread: fail the scroll and everything waiting, then stop.
            _queue.FailPending(Fail("the writer stopped unexpectedly", ex));
        }
        finally
        {
            _writerDone.TrySetResult();
        }
    }

    /// <summary>
    /// Group commit under load (the last batch served several callers): let the appenders that are running now join
    /// this batch. The writer yields its core (sched_yield) and looks again, until a yield brings no new append
    /// (every caller is already in, as with a fixed set of appenders each waiting on its previous append), half of
    /// MaxBatchLines appends wait, or <paramref name="delay"/> has passed. On one core a yield lets the ingest
    /// threads run on; on an idle core it returns at once. (A timed sleep of 250 µs steps was measured too: it
    /// cost the scroll suite 10 % and ingest 4 µs per update.)
    /// </summary>
    private void AwaitLateComers(TimeSpan delay)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var pending = _queue.PendingAppends;
        while (pending < _options.MaxBatchLines / 2 && System.Diagnostics.Stopwatch.GetElapsedTime(start) < delay)
        {
            Thread.Yield();
            var now = _queue.PendingAppends;
            if (now == pending)
            {
                return;
            }

            pending = now;
        }
    }

    /// <summary>One write, one fsync, then the observer, then the appends complete.</summary>
    private void Commit(AppendBatch batch)
    {
        var total = checked((int)batch.Bytes);
        var buffer = ArrayPool<byte>.Shared.Rent(total);
        try
        {
            var position = 0;
            foreach (var line in batch.Lines)
            {
                line.CopyTo(buffer, position);
                position += line.Length;
                buffer[position++] = ScrollLines.NewLine;
            }

            if (position != total)
            {
                throw new InvalidOperationException($"batch invariant broken: {position} bytes laid out, {total} counted");
            }

            try
            {
                RandomAccess.Write(_file, buffer.AsSpan(0, total), _length);
                // An fsync failure cannot be retried safely (the kernel may have dropped the dirty pages): sticky.
                RandomAccess.FlushToDisk(_file);
            }
            catch (Exception ex)
            {
                batch.Fail(Fail($"writing {batch.Lines.Count} lines at seq {batch.FirstSeq} to {_paths.Lines} failed", ex));
                return;
            }

            var end = _length;
            foreach (var line in batch.Lines)
            {
                end += line.Length + 1;
                _index.Add(end);
            }

            _length = end;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        try
        {
            _observer(batch.FirstSeq, batch.Lines);
        }
        catch (Exception ex)
        {
            batch.Fail(Fail($"lines {batch.FirstSeq}..{batch.NextSeq - 1} are durable but the observer failed; reopening replays them", ex));
            return;
        }

        try
        {
            WriteHead(_index.Count, bothSlots: false);
        }
        catch (Exception ex)
        {
            // Not acknowledged: without their signed head the lines are moved aside at the next open.
            batch.Fail(Fail($"lines {batch.FirstSeq}..{batch.NextSeq - 1} are durable but their signed commit head could not be written to {_paths.Head}", ex));
            return;
        }

        batch.Complete();
    }

    /// <summary>
    /// The authenticated record of what this writer committed (issue 20): after each group commit, the sealer's signed
    /// head of the new size goes to one of the two slots of <c>&lt;scroll&gt;.head</c> (alternating, so a torn write
    /// spoils one slot at most, never the one before it), fdatasynced before the appends complete. Lines after the
    /// newest head were not written by this writer, or were never acknowledged. At close both slots get the final
    /// head, so a cleanly closed scroll's head file depends only on its contents.
    /// </summary>
    private void WriteHead(long size, bool bothSlots)
    {
        if (_sealer is null || size == _headSize && !bothSlots)
        {
            return;
        }

        var record = _sealer(size);
        if (record.Length >= HeadSlotBytes)
        {
            throw new InvalidOperationException($"a commit head of {record.Length} bytes does not fit a {HeadSlotBytes}-byte slot");
        }

        var slot = new byte[HeadSlotBytes];
        record.CopyTo(slot, 0);
        slot[record.Length] = ScrollLines.NewLine;
        if (_head is null)
        {
            // The first write of a session goes to the slot that does not hold the newest head (a crash may have left it
            // only there): a torn write can then spoil an older head at most.
            _headWrites = NewestSlot() == 0 ? 1 : 0;
            var created = !File.Exists(_paths.Head);
            _head = File.OpenHandle(_paths.Head, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            if (created)
            {
                RandomAccess.Write(_head, new byte[2 * HeadSlotBytes], 0);
                RandomAccess.FlushToDisk(_head);
                DurableFile.SyncDirectory(_paths.Directory);
            }
        }

        for (var i = 0; i < (bothSlots ? 2 : 1); i++)
        {
            RandomAccess.Write(_head, slot, (_headWrites++ % 2) * HeadSlotBytes);
            // The file's size never changes: fdatasync writes the slot without a journal commit.
            DurableFile.DataSync(_head);
        }

        _headSize = size;
    }

    /// <summary>The records in the two slots of the head file that are complete lines (a torn or zeroed slot is skipped).</summary>
    public IReadOnlyList<byte[]> ReadHeads() => _headSnapshot ?? ReadHeadSlots();

    /// <summary>The slot (0 or 1) whose record states the larger size, or -1 when neither has one.</summary>
    private int NewestSlot()
    {
        long SizeIn(byte[]? record)
        {
            if (record is null)
            {
                return -1;
            }

            try
            {
                using var document = JsonDocument.Parse(record);
                return document.RootElement.GetProperty("size").GetInt64();
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                return -1;
            }
        }

        var slots = HeadSlots();
        var (first, second) = (SizeIn(slots[0]), SizeIn(slots[1]));
        return first < 0 && second < 0 ? -1 : first >= second ? 0 : 1;
    }


    /// <summary>Whether a writer holds the scroll's lock now (a shared lock attempt fails); nothing is created or changed.</summary>
    private static bool WriterHolds(string lockPath)
    {
        if (!File.Exists(lockPath))
        {
            return false;
        }

        try
        {
            using var probe = new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private IReadOnlyList<byte[]> ReadHeadSlots() => [.. HeadSlots().OfType<byte[]>()];

    /// <summary>The record of each of the two slots (null for a slot that is absent, zeroed or torn: no complete line).</summary>
    private byte[]?[] HeadSlots()
    {
        var slots = new byte[]?[2];
        if (!File.Exists(_paths.Head))
        {
            return slots;
        }

        var bytes = File.ReadAllBytes(_paths.Head);
        for (var slot = 0; slot < 2 && (slot + 1) * HeadSlotBytes <= bytes.Length; slot++)
        {
            var span = bytes.AsSpan(slot * HeadSlotBytes, HeadSlotBytes);
            var end = span.IndexOf(ScrollLines.NewLine);
            slots[slot] = end > 0 ? span[..end].ToArray() : null;
        }

        return slots;
    }


    private ScrollFailedException Fail(string what, Exception cause)
    {
        var failure = new ScrollFailedException($"scroll {_name}: {what}; the scroll refuses further writes until the store is disposed and the scroll opened again ({cause.Message})", cause);
        _failure ??= failure;
        return failure;
    }

    private InvalidOperationException ReadOnlyRefusal(string what) => ScrollStoreGuards.ReadOnlyRefusal(_name, what);

    private void ThrowIfFailed()
    {
        if (_options.ReadOnly)
        {
            throw ReadOnlyRefusal("change");
        }

        if (_failure is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>Reads the whole file once: builds the index and gives every line to the observer, in chunks, in seq order.</summary>
    private void Replay(CancellationToken ct)
    {
        var length = RandomAccess.GetLength(_file);
        var pending = new List<byte[]>();
        long pendingFirst = 0;
        long end = 0;
        foreach (var line in ScrollFile.ReadCommittedLines(_paths.Lines))
        {
            end += line.Line.Length + 1;
            _index.Add(end);
            pending.Add(line.Line);
            if (pending.Count == _options.MaxBatchLines)
            {
                ct.ThrowIfCancellationRequested();
                _observer(pendingFirst, pending);
                pendingFirst += pending.Count;
                pending = [];
            }
        }

        if (_options.ReadOnly)
        {
            // A torn tail (reported by the caller) or a line another process is writing right now: not ours to read.
            length = end;
        }

        if (end != length)
        {
            throw new InvalidOperationException($"replay invariant broken: {_paths.Lines} has {length} bytes but its lines end at {end}");
        }

        if (pending.Count > 0)
        {
            _observer(pendingFirst, pending);
        }

        _length = length;
    }

    /// <summary>
    /// A crash between the history append and the ROOT rename leaves ROOT one checkpoint behind: a writer opening the
    /// scroll finishes the job, and says so. Returns what was repaired, or null.
    /// </summary>
    private string? RepairRoot()
    {
        var problem = CheckRoot();
        if (problem is null)
        {
            return null;
        }

        var checkpoints = ReadCheckpointFile(_paths.Checkpoints);
        if (checkpoints.Count == 0)
        {
            // A ROOT without any history (left from a deleted scroll, or planted): kept aside, never believed.
            var aside = _paths.Root + ".orphaned-" + DateTime.UtcNow.ToString(QuarantineTimeFormat, CultureInfo.InvariantCulture);
            File.Move(_paths.Root, aside, overwrite: false);
            DurableFile.SyncDirectory(Path.GetDirectoryName(_paths.Root)!);
            return $"{problem}; moved to {aside}";
        }

        DurableFile.WriteAtomic(_paths.Root, Encoding.UTF8.GetBytes(checkpoints[^1].Note));
        return problem;
    }

    /// <summary>What is wrong with <c>ROOT.&lt;scroll&gt;.txt</c> (missing, or not the latest checkpoint of the history), or null.</summary>
    private string? CheckRoot()
    {
        var checkpoints = _checkpointSnapshot ?? ReadCheckpointFile(_paths.Checkpoints, tolerateTornTail: _options.ReadOnly);
        if (checkpoints.Count == 0)
        {
            return File.Exists(_paths.Root) ? $"{_paths.Root} exists but the scroll has no checkpoint history" : null;
        }

        if (!File.Exists(_paths.Root))
        {
            return $"{_paths.Root} is missing (the latest checkpoint covers {checkpoints[^1].Size} receipts)";
        }

        var root = File.ReadAllBytes(_paths.Root);
        if (root.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(checkpoints[^1].Note)))
        {
            return null;
        }

        var text = Encoding.UTF8.GetString(root);
        if (_checkpointSnapshot is not null && ReadCheckpointFile(_paths.Checkpoints, tolerateTornTail: true) is { Count: > 0 } fresh && fresh[^1].Note == text)
        {
            return null; // a live writer sealed since the snapshot: ROOT is its newest checkpoint
        }

        var earlier = checkpoints.FindLastIndex(c => c.Note == text);
        return earlier >= 0
            ? $"{_paths.Root} is stale: it holds the checkpoint at size {checkpoints[earlier].Size}, the latest covers {checkpoints[^1].Size} receipts"
            : $"{_paths.Root} is not a checkpoint of this scroll's history (forged or from elsewhere; the latest covers {checkpoints[^1].Size} receipts)";
    }

    private string QuarantinePath()
    {
        var stamp = DateTime.UtcNow.ToString(QuarantineTimeFormat, CultureInfo.InvariantCulture);
        var path = Path.Combine(_paths.Directory, $"{_name}{QuarantineInfix}{stamp}{LinesSuffix}");
        for (var counter = 2; File.Exists(path); counter++)
        {
            path = Path.Combine(_paths.Directory, $"{_name}{QuarantineInfix}{stamp}-{counter}{LinesSuffix}");
        }

        return path;
    }

    private static byte[] CheckpointLine(StoredCheckpoint checkpoint)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(output, RecordJson))
        {
            writer.WriteStartObject();
            writer.WriteNumber("size", checkpoint.Size);
            writer.WriteString("note", checkpoint.Note);
            writer.WriteEndObject();
        }

        return [.. output.WrittenSpan, ScrollLines.NewLine];
    }

    private static List<StoredCheckpoint> ReadCheckpointFile(string path, bool tolerateTornTail = false)
    {
        var checkpoints = new List<StoredCheckpoint>();
        if (!File.Exists(path))
        {
            return checkpoints;
        }

        var number = 0;
        var bytes = File.ReadAllBytes(path);
        var complete = tolerateTornTail ? bytes.AsSpan(0, bytes.AsSpan().LastIndexOf(ScrollLines.NewLine) + 1) : bytes;
        var lines = Encoding.UTF8.GetString(complete).Split('\n');
        foreach (var line in lines[^1].Length == 0 ? lines[..^1] : lines)
        {
            number++;
            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                checkpoints.Add(new StoredCheckpoint(root.GetProperty("size").GetInt64(), root.GetProperty("note").GetString()!));
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{path} line {number} is not a checkpoint record {{\"size\":N,\"note\":\"...\"}}: {ex.Message}", ex);
            }
        }

        return checkpoints;
    }

    private static TornTail? TornTailOf(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return TornTailOf(handle, path);
    }

    /// <summary>The bytes after the last '\n', found and left in place (<see cref="TornTail.MovedTo"/> is null).</summary>
    private static TornTail? TornTailOf(SafeFileHandle handle, string path)
    {
        var length = RandomAccess.GetLength(handle);
        if (length == 0)
        {
            return null;
        }

        Span<byte> last = stackalloc byte[1];
        ReadExactly(handle, last, length - 1);
        if (last[0] == ScrollLines.NewLine)
        {
            return null;
        }

        var cut = LastNewlineEnd(handle, length);
        return new TornTail(null, cut, checked((int)(length - cut))) { File = path };
    }

    private static TornTail? MoveTornTail(string path, string tornPath)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        return MoveTornTail(handle, path, tornPath);
    }

    /// <summary>
    /// Crash safety at open: bytes after the last '\n' are a torn write. They are appended to <paramref name="tornPath"/>
    /// (fsynced) before the file is cut back to its last '\n' (fsynced), so nothing is silently dropped. A crash
    /// between the two steps only records the same tail twice.
    /// </summary>
    private static TornTail? MoveTornTail(SafeFileHandle handle, string path, string tornPath)
    {
        if (TornTailOf(handle, path) is not { } found)
        {
            return null;
        }

        var cut = found.Offset;
        var tail = new byte[found.Length];
        ReadExactly(handle, tail, cut);

        var output = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(output, RecordJson))
        {
            writer.WriteStartObject();
            writer.WriteString("file", Path.GetFileName(path));
            writer.WriteNumber("offset", cut);
            writer.WriteNumber("length", tail.Length);
            writer.WriteString("moved_at", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            writer.WriteBase64String("bytes_base64", tail);
            writer.WriteEndObject();
        }

        var created = !File.Exists(tornPath);
        using (var torn = new FileStream(tornPath, FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            torn.Write(output.WrittenSpan);
            torn.WriteByte(ScrollLines.NewLine);
            torn.Flush(flushToDisk: true);
        }

        if (created)
        {
            DurableFile.SyncDirectory(Path.GetDirectoryName(tornPath)!);
        }

        RandomAccess.SetLength(handle, cut);
        RandomAccess.FlushToDisk(handle);
        return new TornTail(tornPath, cut, tail.Length);
    }

    /// <summary>Offset just past the last '\n' in the file (0 when there is none).</summary>
    private static long LastNewlineEnd(SafeFileHandle handle, long length)
    {
        var buffer = new byte[64 * 1024];
        var end = length;
        while (end > 0)
        {
            var start = Math.Max(0, end - buffer.Length);
            var span = buffer.AsSpan(0, (int)(end - start));
            ReadExactly(handle, span, start);
            var index = span.LastIndexOf(ScrollLines.NewLine);
            if (index >= 0)
            {
                return start + index + 1;
            }

            end = start;
        }

        return 0;
    }

    /// <summary>Copies bytes [from, to) of a file to a stream, one buffer at a time (a truncation may move a lot).</summary>
    private static void CopyRange(SafeFileHandle handle, long from, long to, Stream destination)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
        try
        {
            for (var offset = from; offset < to;)
            {
                var span = buffer.AsSpan(0, (int)Math.Min(buffer.Length, to - offset));
                ReadExactly(handle, span, offset);
                destination.Write(span);
                offset += span.Length;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        while (!buffer.IsEmpty)
        {
            var read = RandomAccess.Read(handle, buffer, offset);
            if (read == 0)
            {
                throw new IOException($"unexpected end of file at offset {offset}");
            }

            buffer = buffer[read..];
            offset += read;
        }
    }

    private static void CreateDirectoryDurably(string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        Directory.CreateDirectory(directory);
        DurableFile.SyncDirectory(Path.GetDirectoryName(directory)!);
    }
}

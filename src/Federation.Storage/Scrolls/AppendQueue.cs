using System.Threading.Channels;

namespace Federation.Storage.Scrolls;

/// <summary>One AppendAsync call waiting for its batch.</summary>
/// <remarks>
/// Its continuations run where its completion is set, and that is never the scroll's writer thread: a group
/// commit completes all its appends from one thread-pool work item (one hop per commit rather than one per
/// append), and a lone failure completes from a work item of its own.
/// </remarks>
internal sealed class PendingAppend(IReadOnlyList<LineBuilder> builders)
{
    public IReadOnlyList<LineBuilder> Builders { get; } = builders;

    public TaskCompletionSource<long> Completion { get; } = new();

    /// <summary>Fails this append from a thread-pool work item (callable from the writer).</summary>
    public void FailOffThread(Exception exception) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.Append.Completion.TrySetException(state.Exception), (Append: this, Exception: exception), preferLocal: false);
}

/// <summary>The appends one group commit writes: their lines, contiguous from <see cref="FirstSeq"/>.</summary>
internal sealed class AppendBatch(long firstSeq)
{
    private readonly List<(PendingAppend Append, long FirstSeq)> _members = [];

    public long FirstSeq { get; } = firstSeq;

    public long NextSeq => FirstSeq + Lines.Count;

    public List<byte[]> Lines { get; } = [];

    public long Bytes { get; private set; }

    public bool IsEmpty => _members.Count == 0;

    /// <summary>How many appends (callers) share this batch.</summary>
    public int Appends => _members.Count;

    public void Add(PendingAppend append, byte[][] lines, long bytes)
    {
        _members.Add((append, NextSeq));
        Lines.AddRange(lines);
        Bytes += bytes;
    }

    /// <summary>Completes every append of the batch, from one thread-pool work item (callable from the writer).</summary>
    public void Complete() => ThreadPool.UnsafeQueueUserWorkItem(static batch =>
    {
        foreach (var (append, firstSeq) in batch._members)
        {
            append.Completion.TrySetResult(firstSeq);
        }
    }, this, preferLocal: false);

    /// <summary>Fails every append of the batch, from one thread-pool work item (callable from the writer).</summary>
    public void Fail(Exception exception) => ThreadPool.UnsafeQueueUserWorkItem(static state =>
    {
        foreach (var (append, _) in state.Batch._members)
        {
            append.Completion.TrySetException(state.Exception);
        }
    }, (Batch: this, Exception: exception), preferLocal: false);
}

/// <summary>
/// Group commit (ARCHITECTURE.md): appends to one scroll wait in a bounded channel; the scroll's single writer
/// takes everything pending up to the batch limits, builds the lines at their seqs, and commits them together.
/// </summary>
internal sealed class AppendQueue
{
    private readonly Channel<PendingAppend> _channel;
    private readonly string _scroll;
    private readonly int _maxLineBytes;
    private readonly int _maxBatchLines;
    private readonly int _maxBatchBytes;

    // An append taken from the channel that did not fit the previous batch; never built yet.
    private PendingAppend? _carried;

    public AppendQueue(string scroll, ScrollStoreOptions options)
    {
        _scroll = scroll;
        _maxLineBytes = options.MaxLineBytes;
        _maxBatchLines = options.MaxBatchLines;
        _maxBatchBytes = options.MaxBatchBytes;
        _channel = Channel.CreateBounded<PendingAppend>(new BoundedChannelOptions(options.MaxQueuedAppends)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Checks the call's shape (not the lines: they exist only once the seq is known).</summary>
    public void ValidateShape(IReadOnlyList<LineBuilder> builders)
    {
        ArgumentNullException.ThrowIfNull(builders);
        if (builders.Count == 0)
        {
            throw new ArgumentException("an append needs at least one line", nameof(builders));
        }

        if (builders.Count > _maxBatchLines)
        {
            throw new ArgumentException($"an append may hold at most {_maxBatchLines} lines (MaxBatchLines), got {builders.Count}", nameof(builders));
        }

        for (var i = 0; i < builders.Count; i++)
        {
            if (builders[i] is null)
            {
                throw new ArgumentNullException(nameof(builders), $"line builder {i} is null");
            }
        }
    }

    public Task<long> EnqueueAsync(IReadOnlyList<LineBuilder> builders, CancellationToken ct)
    {
        ValidateShape(builders);
        if (ct.IsCancellationRequested)
        {
            return Task.FromCanceled<long>(ct);
        }

        var pending = new PendingAppend(builders);
        // Room in the queue (the usual case): no wait, and the caller awaits the commit itself.
        return _channel.Writer.TryWrite(pending) ? pending.Completion.Task : EnqueueWhenRoomAsync(pending, ct);
    }

    private async Task<long> EnqueueWhenRoomAsync(PendingAppend pending, CancellationToken ct)
    {
        try
        {
            await _channel.Writer.WriteAsync(pending, ct).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException($"scroll store (scroll {_scroll})", "the scroll store is being disposed; the append was not queued");
        }

        return await pending.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>Waits until an append is pending; false once the queue is completed and empty.</summary>
    public async ValueTask<bool> WaitAsync() =>
        _carried is not null || await _channel.Reader.WaitToReadAsync().ConfigureAwait(false);

    /// <summary><see cref="WaitAsync"/> for a dedicated writer thread: blocks it, not a thread-pool thread.</summary>
    public bool WaitForPending()
    {
        if (_carried is not null)
        {
            return true;
        }

        var wait = _channel.Reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Appends waiting now (not yet taken into a batch).</summary>
    public int PendingAppends => _channel.Reader.Count + (_carried is null ? 0 : 1);

    /// <summary>No more appends are accepted; the pending ones are still taken by the writer.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <summary>
    /// Takes pending appends up to the batch limits and builds their lines at seqs from <paramref name="firstSeq"/>.
    /// An append whose builder throws or whose line is invalid fails alone and consumes no seq. The batch may be
    /// empty when every taken append failed.
    /// </summary>
    public AppendBatch TakeBatch(long firstSeq)
    {
        var batch = new AppendBatch(firstSeq);
        while (batch.Lines.Count < _maxBatchLines && batch.Bytes < _maxBatchBytes)
        {
            var next = _carried;
            _carried = null;
            if (next is null && !_channel.Reader.TryRead(out next))
            {
                break;
            }

            if (batch.Lines.Count > 0 && batch.Lines.Count + next.Builders.Count > _maxBatchLines)
            {
                _carried = next;
                break;
            }

            Build(next, batch);
        }

        return batch;
    }

    /// <summary>Fails every append pending now (the scroll refuses appends).</summary>
    public void FailPending(Exception exception)
    {
        if (_carried is { } carried)
        {
            _carried = null;
            carried.FailOffThread(exception);
        }

        while (_channel.Reader.TryRead(out var pending))
        {
            pending.FailOffThread(exception);
        }
    }

    private void Build(PendingAppend append, AppendBatch batch)
    {
        var seq = batch.NextSeq;
        var lines = new byte[append.Builders.Count][];
        long bytes = 0;
        try
        {
            for (var i = 0; i < lines.Length; i++)
            {
                var line = append.Builders[i](seq + i);
                ScrollLines.Validate(line, seq + i, _maxLineBytes);
                lines[i] = line;
                bytes += line.Length + 1;
            }
        }
        catch (Exception ex)
        {
            // The caller's own exception (or the line rule it broke) fails its append only.
            append.FailOffThread(ex);
            return;
        }

        batch.Add(append, lines, bytes);
    }
}

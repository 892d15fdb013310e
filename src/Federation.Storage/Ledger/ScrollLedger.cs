using System.Text;
using Federation.Core.Checkpoints;
using Federation.Core.Hashing;
using Federation.Core.Merkle;
using Federation.Core.Scrolls;
using Federation.Storage.Scrolls;

namespace Federation.Storage.Ledger;

/// <summary>A reader found lines after the last authenticated commit and did not read them; <paramref name="WriterActive"/>: the writer was live.</summary>
public sealed record UnreadTailReport(long From, long Count, bool WriterActive, string Reason);

/// <summary>Lines after the last authenticated commit, moved aside at open: <paramref name="Count"/> lines from seq <paramref name="From"/>.</summary>
public sealed record UnauthenticatedTailReport(long From, long Count, string? QuarantinedTo, string Reason);

/// <summary>An acknowledged receipt: where it sits and the leaf hash a verifier recomputes.</summary>
public readonly record struct SealedReceipt(string Scroll, long Seq, Sha256Digest LeafHash)
{
    public string Id => Receipt.FormatId(Scroll, Seq);
}

/// <summary>
/// One scroll: receipts appended durably through an <see cref="IScrollStore"/>, the RFC 9162 tree over
/// them, and signed checkpoints sealed on a cadence (every N receipts or T milliseconds). On open it
/// re-checks every line and every stored checkpoint; a mismatch halts writes (SPEC A: a ledger
/// mismatch at the coordinator halts). It never signs a checkpoint inconsistent with the last one.
/// </summary>
public sealed class ScrollLedger : IAsyncDisposable
{
    private readonly IScrollStore _store;
    private readonly NoteSigner? _baseSigner;
    private readonly IReadOnlyCollection<NoteVerifierKey> _trusted;

    // The origin generation this ledger signs under, and its signer (the base signer's key under the generation's name).
    private int _generation = ScrollGenerations.First;
    private NoteSigner? _signer;
    private readonly TimeProvider _time;
    private readonly ScrollLedgerOptions _options;
    private readonly MerkleTree _tree = new();

    // Lines built by this ledger's own appends and not committed yet, by the seq they were built at, so the writer
    // does not re-parse them (keyed by seq, not by the array: an array's identity hash costs a runtime call per line).
    private readonly Dictionary<long, byte[]> _builtHere = [];
    private readonly Lock _treeLock = new();
    private readonly SemaphoreSlim _sealLock = new(1, 1);
    private ITimer? _sealTimer;
    private Checkpoint? _latest;
    private string? _latestNote;
    private long _firstBadIndex = -1;
    private string? _haltReason;

    private ScrollLedger(IScrollStore store, string scroll, NoteSigner? signer, IReadOnlyCollection<NoteVerifierKey> trusted, TimeProvider time, ScrollLedgerOptions options)
    {
        _store = store;
        Scroll = scroll;
        _baseSigner = signer;
        _signer = signer;
        _trusted = signer is null ? trusted : [.. trusted, signer.VerifierKey];
        _time = time;
        _options = options;
    }

    public string Scroll { get; }

    /// <summary>The origin the ledger signs under now: its base origin in generation 1, <c>&lt;base&gt;/g&lt;N&gt;</c> after rollbacks.</summary>
    public string Origin => ScrollGenerations.OriginOf(BaseOrigin, _generation);

    public string BaseOrigin => _options.OriginOf(Scroll);

    /// <summary>The origin generation (docs/formats/checkpoint.md): 1, and one more after each rollback.</summary>
    public int Generation => _generation;

    public ScrollOpenReport? OpenReport { get; private set; }

    public long Size
    {
        get
        {
            lock (_treeLock)
            {
                return _tree.Size;
            }
        }
    }

    /// <summary>
    /// <see cref="Size"/> as of the last committed batch, read without the tree's lock (which a committing batch
    /// holds while it hashes its lines): a hint for sizing what is prepared, never for a decision.
    /// </summary>
    public long SizeHint => Volatile.Read(ref _sizeHint);

    private long _sizeHint;

    public bool IsHalted => _haltReason is not null;

    /// <summary>False for a ledger opened without a signer (reading): it verifies and reads, and never seals.</summary>
    public bool CanSign => _baseSigner is not null;

    public string? HaltReason => _haltReason;

    public long FirstBadIndex => _firstBadIndex;

    /// <summary>The latest signed checkpoint note, or null before the first seal.</summary>
    public string? LatestCheckpointNote => _latestNote;

    public Checkpoint? LatestCheckpoint => _latest;

    /// <summary>
    /// Opens a scroll. <paramref name="signer"/> null opens it read-only (verification, proofs of sealed
    /// receipts, queries). <paramref name="trusted"/> are the keys whose checkpoints are accepted.
    /// </summary>
    public static async Task<ScrollLedger> OpenAsync(IScrollStore store, string scroll, NoteSigner? signer, IReadOnlyCollection<NoteVerifierKey> trusted,
        TimeProvider time, ScrollLedgerOptions options, CancellationToken ct = default)
    {
        options.Validate();
        if (signer is not null && signer.Name != options.OriginOf(scroll))
        {
            throw new ArgumentException($"the checkpoint signer's key name must be the scroll's origin \"{options.OriginOf(scroll)}\", got \"{signer.Name}\"");
        }

        var ledger = new ScrollLedger(store, scroll, signer, trusted, time, options);
        ledger.OpenReport = await store.OpenAsync(scroll, ledger.OnCommitted, signer is null ? null : ledger.SealCommitHead, ct);
        try
        {
            await ledger.CheckStoredCheckpointsAsync(ct);
            await ledger.CheckCommitHeadsAsync(ct);
        }
        catch
        {
            await store.CloseAsync(scroll, CancellationToken.None);
            throw;
        }

        if (signer is not null)
        {
            var interval = TimeSpan.FromMilliseconds(options.SealIntervalMilliseconds);
            ledger._sealTimer = time.CreateTimer(static state => _ = ((ScrollLedger)state!).SealOnTimerAsync(), ledger, interval, interval);
        }

        return ledger;
    }

    /// <summary>Seals receipts durably; returns each one's seq and leaf hash once it is on disk.</summary>
    public Task<IReadOnlyList<SealedReceipt>> AppendAsync(IReadOnlyList<ReceiptDraft> drafts, CancellationToken ct = default)
    {
        // Canonicalise on the caller's thread; the store's single writer only splices seq and time.
        var prepared = new PreparedReceipt[drafts.Count];
        for (var i = 0; i < drafts.Count; i++)
        {
            prepared[i] = Receipt.Prepare(drafts[i], Scroll, SizeHint + i);
        }

        return AppendAsync(prepared, ct);
    }

    /// <summary>Seals receipts prepared for this scroll (see <see cref="Receipt.Prepare(ReceiptDraft, string, long)"/>).</summary>
    public async Task<IReadOnlyList<SealedReceipt>> AppendAsync(IReadOnlyList<PreparedReceipt> receipts, CancellationToken ct = default)
    {
        var lines = new LineFromReceipt[receipts.Count];
        var builders = new LineBuilder[receipts.Count];
        for (var i = 0; i < receipts.Count; i++)
        {
            lines[i] = new LineFromReceipt(this, Checked(receipts[i]));
            builders[i] = lines[i].Build;
        }

        long first;
        try
        {
            first = await _store.AppendAsync(Scroll, builders, ct).ConfigureAwait(false);
        }
        catch
        {
            Forget(lines);
            throw;
        }

        var sealedReceipts = new SealedReceipt[receipts.Count];
        for (var i = 0; i < receipts.Count; i++)
        {
            sealedReceipts[i] = Sealed(first + i);
        }

        SealIfDue();
        return sealedReceipts;
    }

    public Task<SealedReceipt> AppendAsync(ReceiptDraft draft, CancellationToken ct = default) => AppendAsync(Receipt.Prepare(draft, Scroll, SizeHint), ct);

    /// <summary>Seals one prepared receipt: the single-receipt path, without the lists.</summary>
    public async Task<SealedReceipt> AppendAsync(PreparedReceipt receipt, CancellationToken ct = default)
    {
        var line = new LineFromReceipt(this, Checked(receipt));
        long first;
        try
        {
            first = await _store.AppendAsync(Scroll, [line.Build], ct).ConfigureAwait(false);
        }
        catch
        {
            Forget([line]);
            throw;
        }

        var sealedReceipt = Sealed(first);
        SealIfDue();
        return sealedReceipt;
    }

    private PreparedReceipt Checked(PreparedReceipt receipt)
    {
        ThrowIfHalted();
        if (_signer is null)
        {
            throw new InvalidOperationException($"scroll {Scroll} is open read-only (no signing key)");
        }

        if (receipt.Scroll != Scroll)
        {
            throw new ArgumentException($"a receipt prepared for scroll {receipt.Scroll} cannot be sealed in {Scroll}", nameof(receipt));
        }

        return receipt;
    }

    /// <summary>A receipt's line, built by the store's writer once its seq is known and remembered until committed.</summary>
    private sealed class LineFromReceipt(ScrollLedger ledger, PreparedReceipt receipt)
    {
        public byte[]? Line { get; private set; }

        public long Seq { get; private set; }

        public byte[] Build(long seq)
        {
            var line = receipt.BuildOnce(seq, ledger._time.GetUtcNow()); // the store builds each line once
            lock (ledger._builtHere)
            {
                // A failed append consumes no seq, so the next line may be built at the same one: the latest counts.
                ledger._builtHere[seq] = line;
            }

            (Line, Seq) = (line, seq);
            return line;
        }
    }

    // An append that failed after its lines were built (a line the store refused): they will never be committed.
    private void Forget(LineFromReceipt[] lines)
    {
        lock (_builtHere)
        {
            foreach (var line in lines)
            {
                // Only if no later line was built at the same seq meanwhile.
                if (line.Line is { } built && _builtHere.TryGetValue(line.Seq, out var current) && ReferenceEquals(current, built))
                {
                    _builtHere.Remove(line.Seq);
                }
            }
        }
    }

    private SealedReceipt Sealed(long seq)
    {
        lock (_treeLock)
        {
            return new SealedReceipt(Scroll, seq, _tree.LeafHash(seq));
        }
    }

    // Cadence seal: one sealer at a time, off the appender's path. Appenders that find a seal running
    // do not queue behind it (the running seal, or the next append past the threshold, covers them).
    private void SealIfDue()
    {
        long unsealed;
        lock (_treeLock)
        {
            unsealed = _tree.Size - (_latest?.Size ?? 0);
        }

        if (unsealed >= _options.SealEveryReceipts && _sealLock.Wait(0, CancellationToken.None))
        {
            _ = SealInBackgroundAsync();
        }
    }

    /// <summary>
    /// Signs a checkpoint of the current tree if anything is unsealed (or if forced), after checking it is
    /// consistent with the previous one. Returns the latest signed note.
    /// </summary>
    public async Task<string?> SealAsync(CancellationToken ct = default)
    {
        if (_signer is null)
        {
            throw new InvalidOperationException($"scroll {Scroll} is open read-only (no signing key)");
        }

        await _sealLock.WaitAsync(ct);
        try
        {
            return await SealLockedAsync(ct);
        }
        finally
        {
            _sealLock.Release();
        }
    }

    private async Task<string?> SealLockedAsync(CancellationToken ct)
    {
        ThrowIfHalted();
        await _store.SyncAsync(Scroll, ct);
        Checkpoint next;
        lock (_treeLock)
        {
            if (_tree.Size == 0 || (_latest is not null && _latest.Size == _tree.Size))
            {
                return _latestNote;
            }

            // Never sign two inconsistent checkpoints: the new tree must extend the last signed one.
            if (_latest is not null && _tree.Root(_latest.Size) != _latest.Root)
            {
                Halt(_latest.Size - 1, $"the tree at size {_latest.Size} no longer has the signed root; refusing to sign");
                ThrowIfHalted();
            }

            next = new Checkpoint(Origin, _tree.Size, _tree.Root());
        }

        var note = next.Sign(_signer!);
        await _store.AppendCheckpointAsync(Scroll, new StoredCheckpoint(next.Size, note), ct);
        _latest = next;
        _latestNote = note;
        return note;
    }

    public Sha256Digest Root(long size)
    {
        lock (_treeLock)
        {
            return _tree.Root(size);
        }
    }

    public Sha256Digest LeafHash(long index)
    {
        lock (_treeLock)
        {
            return _tree.LeafHash(index);
        }
    }

    public IReadOnlyList<Sha256Digest> InclusionProof(long index, long size)
    {
        lock (_treeLock)
        {
            return _tree.InclusionProof(index, size);
        }
    }

    public IReadOnlyList<Sha256Digest> ConsistencyProof(long first, long second)
    {
        lock (_treeLock)
        {
            return _tree.ConsistencyProof(first, second);
        }
    }

    /// <summary>An offline-verifiable bundle for one receipt, against the latest checkpoint (sealing first when needed and possible).</summary>
    public async Task<InclusionBundle> ProveAsync(long index, CancellationToken ct = default)
    {
        await _store.SyncAsync(Scroll, ct);
        if (index < 0 || index >= Size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"scroll {Scroll} has {Size} receipts");
        }

        if ((_latest is null || _latest.Size <= index) && _signer is not null)
        {
            await SealAsync(ct);
        }

        if (_latest is null || _latest.Size <= index || _latestNote is null)
        {
            throw new InvalidOperationException($"receipt {index} of scroll {Scroll} is not covered by a signed checkpoint yet (the latest covers {_latest?.Size ?? 0} receipts): seal one first (fed scroll checkpoint)");
        }

        byte[]? line = null;
        await foreach (var stored in _store.ReadAsync(Scroll, index, index + 1, ct))
        {
            line = stored.Line;
        }

        if (line is null)
        {
            throw new InvalidOperationException($"receipt {index} of scroll {Scroll} could not be read");
        }

        return new InclusionBundle(Scroll, index, Encoding.UTF8.GetString(line), LeafHash(index), InclusionProof(index, _latest.Size), _latestNote);
    }

    /// <summary>Reads receipts in a seq range.</summary>
    public async IAsyncEnumerable<(long Seq, byte[] Line)> ReadAsync(long from, long to, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        // Never past the ledger's size: lines a reader did not authenticate are not served.
        await foreach (var stored in _store.ReadAsync(Scroll, from, Math.Max(from, Math.Min(to, Size)), ct))
        {
            yield return (stored.Seq, stored.Line);
        }
    }

    /// <summary>
    /// Rollback, after the store cut the scroll back to <paramref name="anchored"/>'s size: the scroll goes on in a new
    /// origin generation, so no origin ever signs two trees of one size. Its first checkpoint re-states the anchored
    /// tree under the new origin; returns that note.
    /// </summary>
    internal async Task<string> BeginGenerationAsync(Checkpoint anchored, CancellationToken ct)
    {
        var generation = _generation + 1;
        var signer = (_baseSigner ?? throw new InvalidOperationException("a new generation is signed: open the scroll with its key")).WithName(ScrollGenerations.OriginOf(BaseOrigin, generation));
        var start = new Checkpoint(signer.Name, anchored.Size, anchored.Root);
        var note = start.Sign(signer);
        await _store.AppendCheckpointAsync(Scroll, new StoredCheckpoint(start.Size, note), ct);
        lock (_treeLock)
        {
            _tree.Truncate(anchored.Size);
            Volatile.Write(ref _sizeHint, anchored.Size);
            _latest = start;
            _latestNote = note;
            _firstBadIndex = -1;
            _haltReason = null;
            _generation = generation;
            _signer = signer;
        }

        return note;
    }

    internal IScrollStore Store => _store;

    /// <summary>The keys trusted for every generation of this scroll up to the current one (anchors of older generations stay valid).</summary>
    internal IReadOnlyCollection<NoteVerifierKey> TrustedKeys =>
        [.. Enumerable.Range(ScrollGenerations.First, _generation).SelectMany(g => KeysFor(ScrollGenerations.OriginOf(BaseOrigin, g)))];

    /// <summary>The trusted keys of the base origin under <paramref name="origin"/>'s name (the same keys sign every generation).</summary>
    private IReadOnlyCollection<NoteVerifierKey> KeysFor(string origin) =>
        [.. _trusted.Where(k => k.Name == BaseOrigin).Select(k => NoteVerifierKey.For(origin, k.PublicKey)), .. _trusted.Where(k => k.Name == origin && origin != BaseOrigin)];

    /// <summary>Opens a checkpoint note of one of this scroll's generations with the keys of its origin.</summary>
    /// <exception cref="FormatException">The note's origin is not one of the scroll's.</exception>
    private (Checkpoint Checkpoint, int Generation) OpenOwnNote(string note)
    {
        var origin = ScrollGenerations.OriginLine(note);
        var generation = ScrollGenerations.Of(origin, BaseOrigin)
            ?? throw new FormatException($"its origin \"{origin}\" is not one of scroll {Scroll}'s (\"{BaseOrigin}\" or \"{BaseOrigin}/g<N>\")");
        var (checkpoint, _) = Checkpoint.Open(note, KeysFor(origin));
        return (checkpoint, generation);
    }

    internal NoteSigner? Signer => _signer;

    /// <summary>Batches the store committed to this ledger (with the file store, one fsync each): appends per batch shows group commit at work.</summary>
    public long CommittedBatches => Interlocked.Read(ref _committedBatches);

    private long _committedBatches;

    private void OnCommitted(long firstSeq, IReadOnlyList<byte[]> lines)
    {
        Interlocked.Increment(ref _committedBatches);
        Volatile.Write(ref _sizeHint, firstSeq + lines.Count);
        var builtHere = new bool[lines.Count];
        lock (_builtHere)
        {
            for (var i = 0; i < lines.Count; i++)
            {
                builtHere[i] = _builtHere.Remove(firstSeq + i, out var built) && ReferenceEquals(built, lines[i]);
            }
        }

        lock (_treeLock)
        {
            for (var i = 0; i < lines.Count; i++)
            {
                var seq = firstSeq + i;
                if (builtHere[i])
                {
                    // A line this ledger built at this seq: it is a receipt by construction.
                }
                else if (_haltReason is null)
                {
                    // Replayed at open, or appended by another process: check it.
                    CheckLine(seq, lines[i]);
                }

                _tree.AppendData(lines[i]);
            }
        }
    }

    /// <summary>Every stored line must be a canonical receipt of this scroll at its own position.</summary>
    private void CheckLine(long seq, byte[] line)
    {
        try
        {
            var receipt = Receipt.Parse(line);
            if (receipt.Seq != seq || receipt.Scroll != Scroll)
            {
                Halt(seq, $"line {seq} claims {receipt.Scroll}:{receipt.Seq}");
            }
        }
        catch (FormatException ex)
        {
            Halt(seq, $"line {seq} is not a valid receipt: {ex.Message}");
        }
    }

    /// <summary>Stored checkpoints must verify and match the leaves; the first mismatch halts the scroll.</summary>
    private async Task CheckStoredCheckpointsAsync(CancellationToken ct)
    {
        await CheckStoredCheckpointsCoreAsync(ct);
    }

    // Whether a stored checkpoint failed its check (then the open halts whatever the commit heads say).
    private bool _checkpointsHalted;

    private async Task CheckStoredCheckpointsCoreAsync(CancellationToken ct)
    {
        var history = await _store.ReadCheckpointsAsync(Scroll, ct);
        if (history.Count > 0 && history.Max(c => c.Size) > Size)
        {
            // Another process (PostgreSQL) may have appended and sealed since this one replayed: catch up first.
            await _store.SyncAsync(Scroll, ct);
        }

        if (HistoryEditedAt(history) is { } edited)
        {
            Halt(edited.Index, edited.Reason);
            _checkpointsHalted = true;
            return;
        }

        long previousSize = 0;
        foreach (var stored in CurrentHistory(history))
        {
            Checkpoint checkpoint;
            try
            {
                int generation;
                (checkpoint, generation) = OpenOwnNote(stored.Note);
                if (generation < _generation)
                {
                    Halt(Math.Max(0, stored.Size - 1), $"stored checkpoint at size {stored.Size} is of generation {generation}, after one of generation {_generation}");
                    _checkpointsHalted = true;
                    return;
                }

                _generation = generation;
            }
            catch (Exception ex) when (ex is FormatException or NoteVerificationException)
            {
                Halt(Math.Max(0, stored.Size - 1), $"stored checkpoint at size {stored.Size} does not verify: {ex.Message}");
                _checkpointsHalted = true;
                return;
            }

            lock (_treeLock)
            {
                if (checkpoint.Size > _tree.Size)
                {
                    Halt(_tree.Size, $"a signed checkpoint covers {checkpoint.Size} receipts but only {_tree.Size} are stored (receipts lost)");
                    _checkpointsHalted = true;
                    return;
                }

                if (_tree.Root(checkpoint.Size) != checkpoint.Root)
                {
                    // The leaves up to the previous good checkpoint still match; the change lies after it.
                    var from = checkpoint.Size < previousSize ? 0 : previousSize;
                    if (_haltReason is null || _firstBadIndex < from || _firstBadIndex >= checkpoint.Size)
                    {
                        // Unless a line check already named the exact index inside this range.
                        Halt(from, $"receipts in [{from}, {checkpoint.Size}) no longer match the checkpoint signed at size {checkpoint.Size}");
                    }

                    _checkpointsHalted = true;
                    return;
                }
            }

            previousSize = checkpoint.Size;
            _latest = checkpoint;
            _latestNote = stored.Note;
            _signer = _baseSigner?.WithName(Origin);
        }
    }

    /// <summary>
    /// Sizes only go back at a rollback, which starts a higher generation; generations never go back. A history that
    /// breaks either was edited (a copied old line would otherwise make the later checkpoints "superseded" and send the
    /// scroll back to sizes its origin has signed). Origins are read from the notes' first lines; signatures are checked after.
    /// </summary>
    private (long Index, string Reason)? HistoryEditedAt(IReadOnlyList<StoredCheckpoint> history)
    {
        var generation = ScrollGenerations.First;
        long largest = 0;
        var generationOfLargest = ScrollGenerations.First;
        foreach (var stored in history)
        {
            var origin = ScrollGenerations.OriginLine(stored.Note);
            if (ScrollGenerations.Of(origin, BaseOrigin) is not { } of)
            {
                continue; // its signature check names it
            }

            if (of < generation)
            {
                return (Math.Max(0, stored.Size - 1), $"the checkpoint history was edited: a checkpoint of generation {of} (size {stored.Size}) follows one of generation {generation}");
            }

            if (stored.Size < largest && of <= generationOfLargest)
            {
                return (Math.Max(0, stored.Size - 1), $"the checkpoint history was edited: size {stored.Size} follows size {largest} within generation {of} (only a rollback, in a new generation, goes back)");
            }

            generation = of;
            if (stored.Size >= largest)
            {
                largest = stored.Size;
                generationOfLargest = of;
            }
        }

        return null;
    }

    /// <summary>
    /// Lines written behind the writer's back are found at open (issue 20). The authenticated size is the largest of
    /// the latest checkpoint and the signed commit heads the store kept (<see cref="CommitHeadSealer"/>); a head that
    /// verifies but does not match the stored lines is tampering (halt), one that covers more than is stored means
    /// lost receipts (halt); an unreadable head (a torn slot) is no head. Lines after the authenticated size were not
    /// written by the scroll's writer, or a crash cut the writer short before it acknowledged them: a writer moves
    /// them to the store's quarantine (<see cref="UnauthenticatedTail"/>) and never seals them; a reader halts.
    /// </summary>
    private async Task CheckCommitHeadsAsync(CancellationToken ct)
    {
        if (!_store.KeepsCommitHeads)
        {
            return;
        }

        var authenticated = _latest?.Size ?? 0;
        foreach (var record in await _store.ReadCommitHeadsAsync(Scroll, ct))
        {
            Checkpoint head;
            try
            {
                using var document = System.Text.Json.JsonDocument.Parse(record);
                int generation;
                (head, generation) = OpenOwnNote(document.RootElement.GetProperty("note").GetString()!);
                if (generation != _generation)
                {
                    // A head of a rolled-back generation speaks for receipts that were moved to quarantine.
                    continue;
                }
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or FormatException or NoteVerificationException)
            {
                continue;
            }

            lock (_treeLock)
            {
                // A halt found before (a line or a checkpoint) names the damage more precisely: keep it.
                if (head.Size > _tree.Size)
                {
                    if (_haltReason is null)
                    {
                        Halt(_tree.Size, $"a signed commit head covers {head.Size} receipts but only {_tree.Size} are stored (receipts lost)");
                    }

                    _checkpointsHalted = true;
                    return;
                }

                if (_tree.Root(head.Size) != head.Root)
                {
                    if (_haltReason is null)
                    {
                        Halt(Math.Min(authenticated, head.Size), $"receipts before {head.Size} no longer match the commit head signed at size {head.Size}");
                    }

                    _checkpointsHalted = true;
                    return;
                }
            }

            authenticated = Math.Max(authenticated, head.Size);
        }

        if (_haltReason is not null)
        {
            if (_checkpointsHalted || _firstBadIndex < authenticated)
            {
                return; // a checkpoint that fails, or damage among authenticated receipts: a halt, not a tail to move aside
            }

            // A bad line after the last authenticated commit is part of that unauthenticated tail.
            _haltReason = null;
            _firstBadIndex = -1;
        }

        var size = Size;
        if (size <= authenticated)
        {
            return;
        }

        var reason = $"lines [{authenticated}, {size}) come after the last authenticated commit (size {authenticated}): another program wrote them, or a crash cut the writer short before it acknowledged them";
        if (_signer is null)
        {
            // A reader reads the authenticated receipts only and says what it left: beside a live writer most likely its
            // commit in progress; otherwise a crash's unacknowledged lines or another program's (verify fails on those).
            _storedSize = size;
            CutTo(authenticated);
            UnreadTail = new UnreadTailReport(authenticated, size - authenticated, OpenReport?.WriterActive == true, reason);
            return;
        }

        var report = await _store.TruncateAsync(Scroll, authenticated, ct);
        CutTo(authenticated);
        UnauthenticatedTail = new UnauthenticatedTailReport(authenticated, size - authenticated, report.QuarantinedTo, reason);
    }

    /// <summary>
    /// A writer's open found lines after the last authenticated commit and moved them to <see cref="UnauthenticatedTailReport.QuarantinedTo"/>;
    /// null when there were none. The owner reports it (a warning: they are never sealed).
    /// </summary>
    public UnauthenticatedTailReport? UnauthenticatedTail { get; private set; }

    /// <summary>A reader's open: the lines after the last authenticated commit, not read (null when there are none).</summary>
    public UnreadTailReport? UnreadTail { get; private set; }

    private long _storedSize;

    /// <summary>
    /// Moves the lines after the last authenticated commit to the store's quarantine (<c>fed scroll repair --confirm</c>,
    /// on a scroll opened without a signer); returns the report, or null when the scroll has no such lines.
    /// </summary>
    public async Task<UnauthenticatedTailReport?> MoveUnauthenticatedTailAsync(CancellationToken ct = default)
    {
        if (UnreadTail is not { } tail)
        {
            return null;
        }

        var report = await _store.TruncateAsync(Scroll, tail.From, ct);
        UnreadTail = null;
        UnauthenticatedTail = new UnauthenticatedTailReport(report.NewSize, _storedSize - report.NewSize, report.QuarantinedTo, tail.Reason);
        return UnauthenticatedTail;
    }


    /// <summary>The signed head of a group commit, for the store to keep (a checkpoint note of the size, never of a halted scroll).</summary>
    private byte[] SealCommitHead(long size)
    {
        Checkpoint head;
        lock (_treeLock)
        {
            ThrowIfHalted();
            head = new Checkpoint(Origin, size, _tree.Root(size));
        }

        var output = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new System.Text.Json.Utf8JsonWriter(output, new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("size", size);
            writer.WriteString("note", head.Sign(_signer!));
            writer.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    private void CutTo(long size)
    {
        lock (_treeLock)
        {
            _tree.Truncate(size);
            Volatile.Write(ref _sizeHint, size);
        }
    }

    /// <summary>
    /// The checkpoints that still speak for the scroll. Sizes only grow, except at a rollback, which records the anchored
    /// size again (in a new generation): a checkpoint followed by a smaller one describes receipts that were moved to
    /// quarantine, and is superseded.
    /// </summary>
    internal static IReadOnlyList<StoredCheckpoint> CurrentHistory(IReadOnlyList<StoredCheckpoint> history)
    {
        var current = new List<StoredCheckpoint>(history.Count);
        var smallestAfter = long.MaxValue;
        for (var i = history.Count - 1; i >= 0; i--)
        {
            if (history[i].Size <= smallestAfter)
            {
                current.Add(history[i]);
            }

            smallestAfter = Math.Min(smallestAfter, history[i].Size);
        }

        current.Reverse();
        return current;
    }

    /// <summary>Superseded checkpoints (rolled back), for reports.</summary>
    internal static IReadOnlyList<StoredCheckpoint> SupersededHistory(IReadOnlyList<StoredCheckpoint> history)
    {
        var current = CurrentHistory(history);
        return history.Where(c => !current.Contains(c)).ToList();
    }

    private void Halt(long firstBadIndex, string reason)
    {
        if (_haltReason is null || firstBadIndex < _firstBadIndex)
        {
            _firstBadIndex = firstBadIndex;
            _haltReason = reason;
        }
    }

    private void ThrowIfHalted()
    {
        if (_haltReason is not null)
        {
            throw new LedgerHaltedException(Scroll, _firstBadIndex, _haltReason);
        }
    }

    private async Task SealInBackgroundAsync()
    {
        try
        {
            await Task.Yield();
            await SealLockedAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is LedgerHaltedException or ObjectDisposedException or InvalidOperationException or IOException)
        {
            // As for the timer: a halted or closing scroll does not seal; the next append reports the halt.
        }
        finally
        {
            _sealLock.Release();
        }
    }

    private async Task SealOnTimerAsync()
    {
        try
        {
            await SealAsync();
        }
        catch (Exception ex) when (ex is LedgerHaltedException or ObjectDisposedException or InvalidOperationException or IOException)
        {
            // A halted or closing scroll does not seal; the halt is reported by the next append.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_sealTimer is not null)
        {
            await _sealTimer.DisposeAsync();
        }

        if (_signer is not null && !IsHalted)
        {
            try
            {
                await SealAsync();
            }
            catch (LedgerHaltedException)
            {
                // reported to whoever appends next
            }
        }

        // A background seal may still run: wait for it before releasing the lock.
        await _sealLock.WaitAsync();
        _sealLock.Release();
        _sealLock.Dispose();

        // The store may be closed already (it owned the scroll and went first); then there is nothing to close.
        try
        {
            await _store.CloseAsync(Scroll);
        }
        catch (ObjectDisposedException)
        {
        }
    }
}

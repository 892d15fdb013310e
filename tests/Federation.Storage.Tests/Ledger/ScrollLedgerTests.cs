using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Checkpoints;
using Federation.Core.Crypto;
using Federation.Core.Merkle;
using Federation.Core.Scrolls;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;

namespace Federation.Storage.Tests.Ledger;

/// <summary>The ledger over a real store; subclasses run it on the file store and on PostgreSQL.</summary>
public abstract class ScrollLedgerTests : IAsyncLifetime
{
    protected const string ScrollName = "fed1.updates";

    private readonly List<IAsyncDisposable> _disposables = [];

    protected Ed25519PrivateKey Key { get; } = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)7, 32).ToArray());

    protected ScrollLedgerOptions Options { get; } = new() { SealEveryReceipts = 4, SealIntervalMilliseconds = 500 };

    protected ManualTimeProvider Time { get; } = new();

    protected ScrollStoreOptions StoreOptions { get; private set; } = null!;

    protected abstract Task<ScrollStoreOptions> CreateStoreOptionsAsync();

    public async Task InitializeAsync() => StoreOptions = await CreateStoreOptionsAsync();

    public virtual async Task DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }

        Key.Dispose();
    }

    protected NoteSigner Signer(string scroll = ScrollName) => new(Options.OriginOf(scroll), Key);

    protected NoteVerifierKey Verifier(string scroll = ScrollName) => NoteVerifierKey.For(Options.OriginOf(scroll), Key.PublicKey);

    protected async Task<(IScrollStore Store, ScrollLedger Ledger)> OpenAsync(bool writable = true, string scroll = ScrollName)
    {
        var store = ScrollStores.Create(StoreOptions);
        var ledger = await ScrollLedger.OpenAsync(store, scroll, writable ? Signer(scroll) : null, [Verifier(scroll)], Time, Options);
        _disposables.Add(store);
        _disposables.Add(ledger);
        return (store, ledger);
    }

    protected async Task CloseAsync(IScrollStore store, ScrollLedger ledger)
    {
        await ledger.DisposeAsync();
        await store.DisposeAsync();
        _disposables.Remove(ledger);
        _disposables.Remove(store);
    }

    protected static ReceiptDraft Draft(int n, string? node = null) => new("update_accepted", new JsonObject { ["n"] = n }, ["t" + (n % 3)], node);

    [Fact]
    public async Task A_prepared_receipt_seals_only_in_the_scroll_it_names()
    {
        var (_, ledger) = await OpenAsync();
        var ours = await ledger.AppendAsync(Receipt.Prepare(Draft(0), ScrollName));
        Assert.Equal(0L, ours.Seq);

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => ledger.AppendAsync(Receipt.Prepare(Draft(1), "fed2.updates")));
        Assert.Contains("prepared for scroll fed2.updates cannot be sealed in fed1.updates", ex.Message);
        Assert.Equal(1L, ledger.Size);
        Assert.Equal(1L, (await ledger.AppendAsync(Receipt.Prepare(Draft(2), ScrollName))).Seq);
    }

    [Fact]
    public async Task A_receipt_the_store_refuses_fails_alone_and_later_receipts_still_seal()
    {
        StoreOptions.MaxLineBytes = 2048;
        var (_, ledger) = await OpenAsync();
        await ledger.AppendAsync(Draft(0));
        var huge = new ReceiptDraft("update_accepted", new JsonObject { ["blob"] = new string('x', 4096) });
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => ledger.AppendAsync(huge));
        Assert.Contains("MaxLineBytes", ex.Message);

        var next = await ledger.AppendAsync([Draft(1), Draft(2)]);
        Assert.Equal([1L, 2L], next.Select(r => r.Seq));
        Assert.Equal(3L, ledger.Size);
        Assert.NotNull(await ledger.SealAsync());
    }

    [Fact]
    public async Task Acknowledged_receipts_carry_their_seq_and_the_leaf_hash_of_their_stored_line()
    {
        var (_, ledger) = await OpenAsync();
        var sealedReceipts = await ledger.AppendAsync([Draft(0), Draft(1), Draft(2)]);
        Assert.Equal([0L, 1L, 2L], sealedReceipts.Select(r => r.Seq));

        var lines = new List<byte[]>();
        await foreach (var (_, line) in ledger.ReadAsync(0, 3))
        {
            lines.Add(line);
        }

        Assert.Equal(sealedReceipts.Select(r => r.LeafHash), lines.Select(l => MerkleHash.Leaf(l)));
        Assert.Equal(1L, Receipt.Parse(lines[1]).Seq);
        Assert.Equal("fed1.updates:2", sealedReceipts[2].Id);
    }

    [Fact]
    public async Task The_scroll_seals_every_n_receipts_not_per_receipt()
    {
        var (store, ledger) = await OpenAsync();
        for (var i = 0; i < 3; i++)
        {
            await ledger.AppendAsync(Draft(i));
        }

        Assert.Empty(await store.ReadCheckpointsAsync(ScrollName));
        await ledger.AppendAsync(Draft(3));
        await WaitForAsync(async () => (await store.ReadCheckpointsAsync(ScrollName)).Count == 1);
        var history = await store.ReadCheckpointsAsync(ScrollName);
        Assert.Equal(4, Assert.Single(history).Size);
        var (checkpoint, _) = Checkpoint.Open(history[0].Note, [Verifier()]);
        Assert.Equal(ledger.Root(4), checkpoint.Root);
    }

    [Fact]
    public async Task The_scroll_seals_after_the_interval_when_receipts_wait()
    {
        var (store, ledger) = await OpenAsync();
        await ledger.AppendAsync(Draft(0));
        Time.Advance(TimeSpan.FromMilliseconds(Options.SealIntervalMilliseconds - 1));
        Assert.Empty(await store.ReadCheckpointsAsync(ScrollName));

        Time.Advance(TimeSpan.FromMilliseconds(1));
        await WaitForAsync(async () => (await store.ReadCheckpointsAsync(ScrollName)).Count == 1);
        Assert.Equal(1, (await store.ReadCheckpointsAsync(ScrollName))[0].Size);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        // The timer callback starts an async seal; wait for its effect (bounded), not for wall-clock time.
        for (var i = 0; i < 500 && !await condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(await condition());
    }

    [Fact]
    public async Task Receipts_prepared_across_a_digit_boundary_seal_as_their_drafts_would()
    {
        // Seqs 0..12 cross from one digit to two: the receipts prepared for the size hint at 9 get seq 10 and
        // more when several are in flight (copied around the room), the rest are written in place.
        var (store, ledger) = await OpenAsync();
        var prepared = Enumerable.Range(0, 13).Select(i => Receipt.Prepare(Draft(i), ScrollName, ledger.SizeHint)).ToList();
        var sealedReceipts = await Task.WhenAll(prepared.Select(p => ledger.AppendAsync(p)));
        Assert.Equal(13, ledger.Size);
        Assert.Equal(ledger.Size, ledger.SizeHint);
        var lines = new List<byte[]>();
        await foreach (var stored in store.ReadAsync(ScrollName, 0, 13))
        {
            lines.Add(stored.Line);
        }

        foreach (var receipt in sealedReceipts)
        {
            var parsed = Receipt.Parse(lines[(int)receipt.Seq]);
            Assert.Equal(receipt.Seq, parsed.Seq);
            Assert.Equal(Receipt.BuildLine(Draft((int)(double)parsed.Body["n"]!), ScrollName, receipt.Seq, parsed.Time), lines[(int)receipt.Seq]);
        }

        await CloseAsync(store, ledger);
        var (_, reopened) = await OpenAsync();
        Assert.Equal(13, reopened.SizeHint);
    }

    [Fact]
    public async Task A_bundle_from_the_ledger_verifies_offline_after_reopening()
    {
        var (store, ledger) = await OpenAsync();
        for (var i = 0; i < 11; i++)
        {
            await ledger.AppendAsync(Draft(i));
        }

        await CloseAsync(store, ledger);
        var (_, reopened) = await OpenAsync();
        Assert.Equal(11, reopened.Size);
        var bundle = await reopened.ProveAsync(9);
        Assert.True(bundle.Verify([Verifier()]).IsValid);
        Assert.Equal(11, reopened.LatestCheckpoint!.Size);
    }

    [Fact]
    public async Task Concurrent_appends_get_distinct_contiguous_seqs_and_one_consistent_tree()
    {
        var (_, ledger) = await OpenAsync();
        var tasks = Enumerable.Range(0, 200).Select(i => ledger.AppendAsync(Draft(i))).ToList();
        var sealedReceipts = await Task.WhenAll(tasks);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (long)i), sealedReceipts.Select(r => r.Seq).Order());

        var fresh = new MerkleTree();
        await foreach (var (_, line) in ledger.ReadAsync(0, 200))
        {
            fresh.AppendData(line);
        }

        Assert.Equal(fresh.Root(), ledger.Root(200));
    }

    [Fact]
    public async Task Checkpoints_signed_by_an_untrusted_key_halt_the_scroll()
    {
        var (store, ledger) = await OpenAsync();
        for (var i = 0; i < 4; i++)
        {
            await ledger.AppendAsync(Draft(i));
        }

        await CloseAsync(store, ledger);
        using var stranger = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)9, 32).ToArray());
        var store2 = ScrollStores.Create(StoreOptions);
        _disposables.Add(store2);
        var reopened = await ScrollLedger.OpenAsync(store2, ScrollName, null, [NoteVerifierKey.For(Options.OriginOf(ScrollName), stranger.PublicKey)], Time, Options);
        _disposables.Add(reopened);
        Assert.True(reopened.IsHalted);
        Assert.Contains("does not verify", reopened.HaltReason);
    }

    [Fact]
    public async Task The_anchor_cycle_appends_consistent_checkpoints_and_records_each_outcome()
    {
        using var dir = new TempDirectory();
        var anchors = new AnchorFile(dir.File("meta_M5.merk"));
        var (_, ledger) = await OpenAsync();
        var (_, anchorScroll) = await OpenAsync(scroll: AnchorCycle.AnchorScroll);
        await ledger.AppendAsync([Draft(0), Draft(1)]);

        var first = await AnchorCycle.RunAsync(ledger, anchors, anchorScroll, Time);
        Assert.Equal(AnchorOutcome.Success, first.Outcome);
        await ledger.AppendAsync([Draft(2), Draft(3), Draft(4)]);
        var second = await AnchorCycle.RunAsync(ledger, anchors, anchorScroll, Time);
        Assert.Equal(AnchorOutcome.Success, second.Outcome);
        Assert.Equal([2L, 5L], anchors.ReadAll().Select(a => a.Size));

        var types = new List<string>();
        await foreach (var (_, line) in anchorScroll.ReadAsync(0, 10))
        {
            types.Add(Receipt.Parse(line).Type);
        }

        Assert.Equal([AnchorCycle.SuccessType, AnchorCycle.SuccessType], types);
    }

    [Fact]
    public async Task An_anchor_the_scroll_does_not_extend_is_divergence_and_is_not_appended()
    {
        using var dir = new TempDirectory();
        var anchors = new AnchorFile(dir.File("meta_M5.merk"));
        // An anchor, signed with the scroll's own key, of a different history of 3 receipts.
        var other = new MerkleTree();
        for (var i = 0; i < 3; i++)
        {
            other.AppendData(Encoding.UTF8.GetBytes("other " + i));
        }

        anchors.Append(AnchorFile.EntryFor(ScrollName, new Checkpoint(Options.OriginOf(ScrollName), 3, other.Root()).Sign(Signer()), Time.GetUtcNow()));

        var (_, ledger) = await OpenAsync();
        var (_, anchorScroll) = await OpenAsync(scroll: AnchorCycle.AnchorScroll);
        await ledger.AppendAsync([Draft(0), Draft(1), Draft(2), Draft(3), Draft(4)]);
        var result = await AnchorCycle.RunAsync(ledger, anchors, anchorScroll, Time);
        Assert.Equal(AnchorOutcome.Divergence, result.Outcome);
        Assert.Contains("not an extension", result.Detail);
        Assert.Single(anchors.ReadAll());
        Assert.NotNull(result.Receipt);
    }

    [Fact]
    public async Task An_unwritable_anchor_file_is_an_anchor_failure_receipt()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("not-a-directory"), "x");
        var anchors = new AnchorFile(Path.Combine(dir.File("not-a-directory"), "meta_M5.merk"));
        var (_, ledger) = await OpenAsync();
        var (_, anchorScroll) = await OpenAsync(scroll: AnchorCycle.AnchorScroll);
        await ledger.AppendAsync(Draft(0));
        var result = await AnchorCycle.RunAsync(ledger, anchors, anchorScroll, Time);
        Assert.Equal(AnchorOutcome.Failure, result.Outcome);
        await foreach (var (_, line) in anchorScroll.ReadAsync(0, 1))
        {
            Assert.Equal(AnchorCycle.FailureType, Receipt.Parse(line).Type);
        }
    }

    [Fact]
    public async Task Read_only_ledgers_refuse_writes_with_a_reason()
    {
        var (_, writer) = await OpenAsync();
        await writer.AppendAsync(Draft(0));
        var store = ScrollStores.Create(StoreOptions);
        _disposables.Add(store);
        if (store.Kind == ScrollStoreOptions.FileKind)
        {
            return; // one process owns a file scroll; read-only opens happen after the writer closes (covered elsewhere)
        }

        var reader = await ScrollLedger.OpenAsync(store, ScrollName, null, [Verifier()], Time, Options);
        _disposables.Add(reader);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => reader.AppendAsync(Draft(1)));
        Assert.Contains("read-only", ex.Message);
    }
}

public sealed class FileScrollLedgerTests : ScrollLedgerTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override Task<ScrollStoreOptions> CreateStoreOptionsAsync() =>
        Task.FromResult(new ScrollStoreOptions { Kind = ScrollStoreOptions.FileKind, DataDirectory = _directory.Path });

    public void Dispose() => _directory.Dispose();

    private string ScrollFile => Path.Combine(_directory.Path, "receipts", ScrollName, ScrollName + ".jsonl");

    [Fact]
    public async Task A_changed_receipt_after_a_checkpoint_halts_writes_and_names_the_range()
    {
        var (store, ledger) = await OpenAsync();
        for (var i = 0; i < 8; i++)
        {
            await ledger.AppendAsync(Draft(i));
        }

        await CloseAsync(store, ledger);
        var lines = File.ReadAllLines(ScrollFile);
        lines[5] = lines[5].Replace("\"n\":5", "\"n\":55");
        File.WriteAllLines(ScrollFile, lines);

        // Seals run in the background (every 4 receipts, or on the timer), so which sizes were signed varies from
        // run to run (usually 4 and 8): the range starts at the largest checkpoint that does not cover line 5.
        var signed = File.ReadAllLines(ScrollFile.Replace(".jsonl", ".checkpoints.jsonl"))
            .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("size").GetInt64()).ToList();
        Assert.Contains(8L, signed); // closing seals the whole scroll
        var lastGood = signed.Where(size => size <= 5).DefaultIfEmpty(0).Max();

        var (_, reopened) = await OpenAsync();
        Assert.True(reopened.IsHalted);
        Assert.Equal(lastGood, reopened.FirstBadIndex);
        var ex = await Assert.ThrowsAsync<LedgerHaltedException>(() => reopened.AppendAsync(Draft(9)));
        Assert.Contains($"first bad index {lastGood}", ex.Message);
        await Assert.ThrowsAsync<LedgerHaltedException>(() => reopened.SealAsync());
        Assert.Equal(8, File.ReadAllLines(ScrollFile).Length);
    }

    [Fact]
    public async Task A_line_that_is_not_a_receipt_halts_at_its_exact_index()
    {
        var (store, ledger) = await OpenAsync();
        await ledger.AppendAsync([Draft(0), Draft(1), Draft(2)]);
        await CloseAsync(store, ledger);
        var lines = File.ReadAllLines(ScrollFile);
        lines[1] = "{\"not\":\"a receipt\"}";
        File.WriteAllLines(ScrollFile, lines);

        var (_, reopened) = await OpenAsync();
        Assert.Equal(1, reopened.FirstBadIndex);
        Assert.Contains("not a valid receipt", reopened.HaltReason);
    }

    /// <summary>
    /// What a kill -9 of the writer leaves: three receipts acknowledged after the last checkpoint (none: fewer than
    /// SealEveryReceipts, and the fake clock never fires the seal timer), copied while the writer still has them open.
    /// </summary>
    private async Task<string> CrashCopyAsync()
    {
        var (_, ledger) = await OpenAsync();
        await ledger.AppendAsync([Draft(0), Draft(1)]);
        await ledger.AppendAsync(Draft(2));
        Assert.Null(ledger.LatestCheckpoint);
        var copy = Path.Combine(_directory.Path, "crashed");
        foreach (var file in Directory.GetFiles(_directory.Path, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(_directory.Path, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return copy;
    }

    private async Task<ScrollLedger> OpenCopyAsync(string directory, bool writable)
    {
        var store = ScrollStores.Create(new ScrollStoreOptions { DataDirectory = directory, ReadOnly = !writable });
        var ledger = await ScrollLedger.OpenAsync(store, ScrollName, writable ? Signer() : null, [Verifier()], Time, Options);
        _disposablesOfCopies.Add(ledger);
        _disposablesOfCopies.Add(store);
        return ledger;
    }

    private readonly List<IAsyncDisposable> _disposablesOfCopies = [];

    public override async Task DisposeAsync()
    {
        foreach (var disposable in _disposablesOfCopies)
        {
            await disposable.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    [Fact]
    public async Task Receipts_acknowledged_after_the_last_checkpoint_are_authenticated_by_their_signed_commit_heads()
    {
        var copy = await CrashCopyAsync();
        Assert.True(File.Exists(Path.Combine(copy, "receipts", ScrollName, ScrollName + ".head")));

        var reader = await OpenCopyAsync(copy, writable: false);
        Assert.False(reader.IsHalted, reader.HaltReason);
        Assert.Equal(3, reader.Size);
        Assert.Null(reader.LatestCheckpoint);
    }

    [Fact]
    public async Task A_receipt_appended_behind_the_writers_back_is_found_at_open_and_never_sealed()
    {
        var copy = await CrashCopyAsync();
        var lines = Path.Combine(copy, "receipts", ScrollName, ScrollName + ".jsonl");
        var forged = Receipt.BuildLine(Draft(99), ScrollName, 3, DateTimeOffset.UnixEpoch);
        File.AppendAllText(lines, Encoding.UTF8.GetString(forged) + "\n");

        var reader = await OpenCopyAsync(copy, writable: false);
        Assert.False(reader.IsHalted, reader.HaltReason);
        Assert.Equal(3, reader.Size); // the authenticated receipts only
        Assert.Equal((3L, 1L, false), (reader.UnreadTail!.From, reader.UnreadTail.Count, reader.UnreadTail.WriterActive));
        Assert.Contains("lines [3, 4) come after the last authenticated commit (size 3)", reader.UnreadTail.Reason);
        var served = new List<long>();
        await foreach (var (seq, _) in reader.ReadAsync(0, long.MaxValue))
        {
            served.Add(seq);
        }

        Assert.Equal([0L, 1, 2], served);
        Assert.False((await ScrollMaintenance.VerifyAsync(reader, null)).IsValid);
        await reader.DisposeAsync();
        _disposablesOfCopies.Remove(reader);

        var writer = await OpenCopyAsync(copy, writable: true);
        Assert.False(writer.IsHalted, writer.HaltReason);
        Assert.Equal(3, writer.Size);
        var tail = writer.UnauthenticatedTail!;
        Assert.Equal((3L, 1L), (tail.From, tail.Count));
        Assert.Equal(Encoding.UTF8.GetString(forged), Assert.Single(File.ReadAllLines(tail.QuarantinedTo!)));

        var appended = await writer.AppendAsync(Draft(3));
        Assert.Equal(3, appended.Seq);
        var note = await writer.SealAsync();
        var (checkpoint, _) = Checkpoint.Open(note!, [Verifier()]);
        Assert.Equal(4, checkpoint.Size);
        Assert.DoesNotContain("\"n\":99", File.ReadAllText(lines));
    }

    [Fact]
    public async Task A_copied_old_checkpoint_line_is_an_edited_history_not_a_rollback()
    {
        var (store, ledger) = await OpenAsync();
        for (var i = 0; i < 8; i++)
        {
            await ledger.AppendAsync(Draft(i));
        }

        await CloseAsync(store, ledger);
        var history = ScrollFile.Replace(".jsonl", ".checkpoints.jsonl");
        var lines = File.ReadAllLines(history);
        Assert.True(lines.Length >= 2, string.Join('\n', lines));
        File.AppendAllText(history, lines[0] + "\n");

        var (_, reopened) = await OpenAsync();
        Assert.True(reopened.IsHalted);
        Assert.Contains("the checkpoint history was edited", reopened.HaltReason);
    }

    [Fact]
    public async Task A_reader_beside_a_live_writer_reads_what_is_committed_without_a_false_alarm()
    {
        var (_, writer) = await OpenAsync();
        await writer.AppendAsync([Draft(0), Draft(1), Draft(2)]);
        var reader = await OpenCopyAsync(_directory.Path, writable: false);
        Assert.True(reader.OpenReport!.WriterActive);
        Assert.False(reader.IsHalted, reader.HaltReason);
        Assert.Equal(3, reader.Size);
        Assert.Equal(3, writer.Size);
    }

    [Fact]
    public async Task Receipts_lost_after_the_last_checkpoint_are_found_by_their_commit_head()
    {
        var copy = await CrashCopyAsync();
        var lines = Path.Combine(copy, "receipts", ScrollName, ScrollName + ".jsonl");
        File.WriteAllLines(lines, File.ReadAllLines(lines)[..2]);

        var reader = await OpenCopyAsync(copy, writable: false);
        Assert.True(reader.IsHalted);
        Assert.Contains("a signed commit head covers 3 receipts but only 2 are stored (receipts lost)", reader.HaltReason);
        Assert.Equal(2, reader.FirstBadIndex);
    }

    [Fact]
    public async Task Receipts_lost_below_a_signed_checkpoint_halt_the_scroll()
    {
        var (store, ledger) = await OpenAsync();
        for (var i = 0; i < 4; i++)
        {
            await ledger.AppendAsync(Draft(i));
        }

        await CloseAsync(store, ledger);
        File.WriteAllLines(ScrollFile, File.ReadAllLines(ScrollFile)[..2]);
        var (_, reopened) = await OpenAsync();
        Assert.True(reopened.IsHalted);
        Assert.Contains("receipts lost", reopened.HaltReason);
        Assert.Equal(2, reopened.FirstBadIndex);
    }

    [Fact]
    public async Task Rollback_moves_the_bad_tail_to_quarantine_and_the_scroll_verifies_and_grows_again()
    {
        using var dir = new TempDirectory();
        var anchors = new AnchorFile(dir.File("meta_M5.merk"));
        var (store, ledger) = await OpenAsync();
        var (anchorStore, anchorScroll) = await OpenAsync(scroll: AnchorCycle.AnchorScroll);
        await ledger.AppendAsync([Draft(0), Draft(1), Draft(2)]);
        Assert.Equal(AnchorOutcome.Success, (await AnchorCycle.RunAsync(ledger, anchors, anchorScroll, Time)).Outcome);
        await ledger.AppendAsync([Draft(3), Draft(4), Draft(5)]);
        await ledger.SealAsync();
        await CloseAsync(store, ledger);
        await CloseAsync(anchorStore, anchorScroll);

        var lines = File.ReadAllLines(ScrollFile);
        lines[4] = lines[4].Replace("\"n\":4", "\"n\":44");
        File.WriteAllLines(ScrollFile, lines);

        var (_, halted) = await OpenAsync();
        var (_, anchors2) = await OpenAsync(scroll: AnchorCycle.AnchorScroll);
        Assert.True(halted.IsHalted);
        var result = await ScrollMaintenance.RollbackToAnchorAsync(halted, anchors, anchors2);
        Assert.Equal((6L, 3L), (result.FromSize, result.ToSize));
        Assert.Equal(3, File.ReadAllLines(result.QuarantinedTo!).Length);
        Assert.False(halted.IsHalted);

        // The scroll goes on in generation 2; its first receipt (seq 3) cites the anchored checkpoint of generation 1.
        Assert.Equal(2, result.Generation);
        Assert.Equal(Options.OriginOf(ScrollName) + "/g2", halted.Origin);
        Assert.Equal(3, result.GenerationReceipt.Seq);
        var first = Receipt.Parse(Encoding.UTF8.GetBytes(File.ReadAllLines(ScrollFile)[3]));
        Assert.Equal(ScrollMaintenance.GenerationType, first.Type);
        Assert.Equal(anchors.Latest(ScrollName)!.Checkpoint, first.Body["anchored_checkpoint"]!.GetValue<string>());
        Assert.StartsWith(Options.OriginOf(ScrollName) + "/g2\n4\n", halted.LatestCheckpointNote);

        await halted.AppendAsync(Draft(6));
        var report = await ScrollMaintenance.VerifyAsync(halted, anchors);
        Assert.True(report.IsValid, string.Join("; ", report.Failures));
        Assert.Contains(report.Notes, n => n.Contains("superseded by a rollback"));
    }

    [Fact]
    public async Task After_rollbacks_and_restarts_no_origin_has_signed_two_trees_of_one_size()
    {
        using var dir = new TempDirectory();
        var anchors = new AnchorFile(dir.File("meta_M5.merk"));
        var n = 0;
        async Task TamperAndRollBackAsync(int appendAfterAnchor)
        {
            var (store, ledger) = await OpenAsync();
            var (anchorStore, anchorScroll) = await OpenAsync(scroll: AnchorCycle.AnchorScroll);
            await ledger.AppendAsync([Draft(n++), Draft(n++)]);
            Assert.Equal(AnchorOutcome.Success, (await AnchorCycle.RunAsync(ledger, anchors, anchorScroll, Time)).Outcome);
            for (var i = 0; i < appendAfterAnchor; i++)
            {
                await ledger.AppendAsync(Draft(n++));
            }

            await CloseAsync(store, ledger);
            var lines = File.ReadAllLines(ScrollFile);
            lines[^1] = lines[^1].Replace("\"n\":", "\"n\":1", StringComparison.Ordinal);
            File.WriteAllLines(ScrollFile, lines);

            var (haltedStore, halted) = await OpenAsync();
            Assert.True(halted.IsHalted);
            await ScrollMaintenance.RollbackToAnchorAsync(halted, anchors, anchorScroll);
            await CloseAsync(haltedStore, halted);
            await CloseAsync(anchorStore, anchorScroll);
        }

        // Each rollback cuts signed sizes that the scroll then reaches again with other receipts.
        await TamperAndRollBackAsync(6);
        await TamperAndRollBackAsync(9);
        await TamperAndRollBackAsync(5);

        var (_, reopened) = await OpenAsync();
        Assert.False(reopened.IsHalted, reopened.HaltReason);
        Assert.Equal(4, reopened.Generation);

        // Every note the product signed for the scroll: the checkpoint history, ROOT, the anchors, the commit heads.
        var notes = new List<string>();
        notes.AddRange(File.ReadAllLines(ScrollFile.Replace(".jsonl", ".checkpoints.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("note").GetString()!));
        notes.Add(File.ReadAllText(Path.Combine(_directory.Path, $"ROOT.{ScrollName}.txt")));
        notes.AddRange(anchors.ReadAll().Where(a => a.Scroll == ScrollName).Select(a => a.Checkpoint));
        var head = File.ReadAllBytes(ScrollFile.Replace(".jsonl", ".head"));
        for (var slot = 0; slot < 2; slot++)
        {
            var text = Encoding.UTF8.GetString(head, slot * 4096, 4096);
            notes.Add(System.Text.Json.JsonDocument.Parse(text[..text.IndexOf('\n')]).RootElement.GetProperty("note").GetString()!);
        }

        var signed = notes.Select(note => Checkpoint.Parse(SignedNote.Split(note).Text)).ToList();
        Assert.Equal(4, signed.Select(c => c.Origin).Distinct().Count());
        foreach (var sameSize in signed.GroupBy(c => (c.Origin, c.Size)))
        {
            Assert.Single(sameSize.Select(c => c.Root).Distinct());
        }

        // Without generations the first origin alone would have signed sizes 3.. twice; each origin's trees are one tree.
        Assert.Contains(signed, c => c.Origin == Options.OriginOf(ScrollName) && c.Size > 3);
        Assert.Contains(signed, c => c.Origin == Options.OriginOf(ScrollName) + "/g2" && c.Size > 3);
    }

    [Fact]
    public async Task Rollback_refuses_a_scroll_that_verifies()
    {
        using var dir = new TempDirectory();
        var anchors = new AnchorFile(dir.File("meta_M5.merk"));
        var (_, ledger) = await OpenAsync();
        await ledger.AppendAsync(Draft(0));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => ScrollMaintenance.RollbackToAnchorAsync(ledger, anchors, null));
        Assert.Contains("nothing to roll back", ex.Message);
    }

    [Fact]
    public async Task A_torn_anchor_line_is_ignored_on_read_and_moved_aside_on_the_next_append()
    {
        using var dir = new TempDirectory();
        var anchors = new AnchorFile(dir.File("meta_M5.merk"));
        var (_, ledger) = await OpenAsync();
        await ledger.AppendAsync(Draft(0));
        await AnchorCycle.RunAsync(ledger, anchors, null, Time);
        File.AppendAllText(anchors.Path, "{\"torn");
        Assert.Single(anchors.ReadAll());

        await ledger.AppendAsync(Draft(1));
        Assert.Equal(AnchorOutcome.Success, (await AnchorCycle.RunAsync(ledger, anchors, null, Time)).Outcome);
        Assert.Equal(2, anchors.ReadAll().Count);
        Assert.Contains("{\"torn", File.ReadAllText(anchors.Path + ".torn"));
    }
}

public sealed class PostgresScrollLedgerTests : ScrollLedgerTests
{
    protected override async Task<ScrollStoreOptions> CreateStoreOptionsAsync() =>
        new() { Kind = ScrollStoreOptions.PostgresKind, ConnectionString = await PostgresCluster.Instance.CreateDatabaseAsync("ledger") };
}

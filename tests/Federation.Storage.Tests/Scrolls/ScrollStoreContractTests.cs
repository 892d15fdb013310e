using System.Collections.Concurrent;
using System.Text;
using Federation.Storage.Scrolls;

namespace Federation.Storage.Tests.Scrolls;

/// <summary>The behaviour every scroll store has; one subclass per store runs it against a real backend.</summary>
public abstract class ScrollStoreContractTests : IAsyncLifetime
{
    protected const string Scroll = "fed1.updates";

    protected ScrollStoreOptions Options { get; private set; } = new();

    private readonly List<IScrollStore> _stores = [];

    /// <summary>Fresh, empty storage for one test.</summary>
    protected abstract Task<ScrollStoreOptions> CreateOptionsAsync();

    public async Task InitializeAsync() => Options = await CreateOptionsAsync();

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        CleanUp();
    }

    protected virtual void CleanUp()
    {
    }

    /// <summary>A new store instance over the test's storage (stores that are not made from options override this).</summary>
    protected virtual IScrollStore CreateStore(ScrollStoreOptions options) => ScrollStores.Create(options);

    protected IScrollStore NewStore()
    {
        var store = CreateStore(Options);
        _stores.Add(store);
        return store;
    }

    protected async Task<(IScrollStore Store, RecordingObserver Observer)> OpenAsync(string scroll = Scroll)
    {
        var store = NewStore();
        var observer = new RecordingObserver();
        await store.OpenAsync(scroll, observer.Observer);
        return (store, observer);
    }

    protected static LineBuilder Receipt(string text) => seq => Encoding.UTF8.GetBytes($"{{\"seq\":{seq},\"text\":\"{text}\"}}");

    protected static string ReceiptText(long seq, string text) => $"{{\"seq\":{seq},\"text\":\"{text}\"}}";

    protected static async Task<List<StoredLine>> ReadAllAsync(IScrollStore store, string scroll = Scroll)
    {
        var lines = new List<StoredLine>();
        await foreach (var line in store.ReadAsync(scroll, 0, long.MaxValue))
        {
            lines.Add(line);
        }

        return lines;
    }

    protected static string Text(byte[] line) => Encoding.UTF8.GetString(line);

    [Fact]
    public async Task A_read_only_store_reads_what_a_writer_committed_and_refuses_every_change()
    {
        var (writer, _) = await OpenAsync();
        await writer.AppendAsync(Scroll, [Receipt("a"), Receipt("b")]);
        await writer.AppendCheckpointAsync(Scroll, new StoredCheckpoint(2, "note at 2"));
        await writer.CloseAsync(Scroll);

        var options = CopyOf(Options);
        options.ReadOnly = true;
        var reader = CreateStore(options);
        _stores.Add(reader);
        var observer = new RecordingObserver();
        await Assert.ThrowsAsync<ScrollNotFoundException>(() => reader.OpenAsync("fed1.never", new RecordingObserver().Observer));
        Assert.DoesNotContain("fed1.never", await reader.ListScrollsAsync());

        var report = await reader.OpenAsync(Scroll, observer.Observer);
        Assert.Equal(2, report.Size);
        Assert.Equal([ReceiptText(0, "a"), ReceiptText(1, "b")], (await ReadAllAsync(reader)).Select(l => Text(l.Line)));
        Assert.Equal([new StoredCheckpoint(2, "note at 2")], await reader.ReadCheckpointsAsync(Scroll));

        var append = await Assert.ThrowsAsync<InvalidOperationException>(() => reader.AppendAsync(Scroll, [Receipt("c")]));
        Assert.Contains("opened read-only", append.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => reader.AppendCheckpointAsync(Scroll, new StoredCheckpoint(2, "other")));
        await Assert.ThrowsAsync<InvalidOperationException>(() => reader.TruncateAsync(Scroll, 0));
        await reader.CloseAsync(Scroll);

        // Nothing the reader was asked to do reached the storage.
        var (again, _) = await OpenAsync();
        Assert.Equal(2, (await ReadAllAsync(again)).Count);
        Assert.Equal([new StoredCheckpoint(2, "note at 2")], await again.ReadCheckpointsAsync(Scroll));
    }

    private static ScrollStoreOptions CopyOf(ScrollStoreOptions options) => new()
    {
        Kind = options.Kind,
        DataDirectory = options.DataDirectory,
        ConnectionString = options.ConnectionString,
        MaxLineBytes = options.MaxLineBytes,
        MaxBatchLines = options.MaxBatchLines,
        MaxBatchBytes = options.MaxBatchBytes,
        MaxQueuedAppends = options.MaxQueuedAppends,
        CommitDelayMicroseconds = options.CommitDelayMicroseconds,
        ReadOnly = options.ReadOnly,
    };

    [Fact]
    public async Task Appended_lines_read_back_at_contiguous_seqs_from_zero()
    {
        var (store, _) = await OpenAsync();
        Assert.Equal(0, await store.AppendAsync(Scroll, [Receipt("a")]));
        Assert.Equal(1, await store.AppendAsync(Scroll, [Receipt("b"), Receipt("c")]));
        Assert.Equal(3, await store.AppendAsync(Scroll, [Receipt("d")]));

        var lines = await ReadAllAsync(store);
        Assert.Equal([0L, 1, 2, 3], lines.Select(l => l.Seq));
        Assert.Equal([ReceiptText(0, "a"), ReceiptText(1, "b"), ReceiptText(2, "c"), ReceiptText(3, "d")], lines.Select(l => Text(l.Line)));
    }

    [Fact]
    public async Task Reading_a_range_returns_only_that_range_and_stops_at_the_end_of_the_scroll()
    {
        var (store, _) = await OpenAsync();
        await store.AppendAsync(Scroll, Enumerable.Range(0, 10).Select(i => Receipt($"r{i}")).ToList());

        var middle = new List<StoredLine>();
        await foreach (var line in store.ReadAsync(Scroll, 3, 6))
        {
            middle.Add(line);
        }

        Assert.Equal([3L, 4, 5], middle.Select(l => l.Seq));
        Assert.Equal(ReceiptText(4, "r4"), Text(middle[1].Line));

        var tail = new List<StoredLine>();
        await foreach (var line in store.ReadAsync(Scroll, 8, 100))
        {
            tail.Add(line);
        }

        Assert.Equal([8L, 9], tail.Select(l => l.Seq));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
        {
            await foreach (var _ in store.ReadAsync(Scroll, -1, 3))
            {
            }
        });
    }

    [Fact]
    public async Task Two_thousand_concurrent_appends_get_exactly_seqs_0_to_1999_and_the_observer_sees_each_line_once_in_order()
    {
        const int Appends = 2000;
        var (store, observer) = await OpenAsync();
        var seqs = await Task.WhenAll(Enumerable.Range(0, Appends).Select(i => Task.Run(() => store.AppendAsync(Scroll, [Receipt($"append-{i}")]))));

        Assert.Equal(Enumerable.Range(0, Appends).Select(i => (long)i), seqs.Order());
        var lines = await ReadAllAsync(store);
        Assert.Equal(Enumerable.Range(0, Appends).Select(i => (long)i), lines.Select(l => l.Seq));
        // Each append's line is stored once, at the seq its call returned.
        for (var i = 0; i < Appends; i++)
        {
            Assert.Equal(ReceiptText(seqs[i], $"append-{i}"), Text(lines[(int)seqs[i]].Line));
        }

        Assert.Empty(observer.Violations);
        Assert.Equal(lines.Select(l => Text(l.Line)), observer.Lines.Select(Text));
    }

    [Fact]
    public async Task Reads_during_appends_see_a_contiguous_prefix_of_complete_lines()
    {
        var (store, _) = await OpenAsync();
        var appending = Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                await Task.WhenAll(Enumerable.Range(0, 10).Select(j => store.AppendAsync(Scroll, [Receipt($"{i}-{j}")])));
            }
        });

        var reads = 0;
        while (!appending.IsCompleted || reads == 0)
        {
            var lines = await ReadAllAsync(store);
            for (var k = 0; k < lines.Count; k++)
            {
                Assert.Equal(k, lines[k].Seq);
                Assert.StartsWith($"{{\"seq\":{k},\"text\":\"", Text(lines[k].Line));
                Assert.EndsWith("\"}", Text(lines[k].Line));
            }

            reads++;
        }

        await appending;
        Assert.Equal(1000, (await ReadAllAsync(store)).Count);
    }

    [Fact]
    public async Task An_append_cancelled_before_it_is_queued_writes_nothing()
    {
        var (store, observer) = await OpenAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.AppendAsync(Scroll, [Receipt("never")], cancelled.Token));
        Assert.Equal(0, await store.AppendAsync(Scroll, [Receipt("first")]));
        Assert.Single(observer.Lines);
    }

    [Fact]
    public async Task The_observer_has_seen_an_appended_line_before_the_append_completes()
    {
        var (store, observer) = await OpenAsync();
        for (var i = 0; i < 20; i++)
        {
            var seq = await store.AppendAsync(Scroll, [Receipt($"x{i}")]);
            Assert.Equal(seq + 1, observer.Lines.Count);
            Assert.Equal(ReceiptText(seq, $"x{i}"), Text(observer.Lines[(int)seq]));
        }
    }

    [Fact]
    public async Task Each_line_builder_receives_the_seq_its_line_is_stored_at()
    {
        var (store, _) = await OpenAsync();
        await store.AppendAsync(Scroll, [Receipt("first")]);
        var given = new ConcurrentBag<long>();
        LineBuilder Recording(string text) => seq =>
        {
            given.Add(seq);
            return Receipt(text)(seq);
        };

        var first = await store.AppendAsync(Scroll, [Recording("a"), Recording("b"), Recording("c")]);
        Assert.Equal(1, first);
        Assert.Equal([1L, 2, 3], given.Order());
        var lines = await ReadAllAsync(store);
        Assert.Equal(ReceiptText(2, "b"), Text(lines[2].Line));
    }

    public static TheoryData<string, byte[]> InvalidLines() => new()
    {
        { "empty", [] },
        { "newline", "{\"a\":1}\n{\"b\":2}"u8.ToArray() },
        { "carriage return", "{\"a\":1}\r"u8.ToArray() },
        { "oversized", Enumerable.Repeat((byte)'x', 1025).ToArray() },
    };

    [Theory]
    [MemberData(nameof(InvalidLines))]
    public async Task An_invalid_line_is_refused_and_nothing_of_its_append_is_written(string rule, byte[] bad)
    {
        Options.MaxLineBytes = 1024;
        var (store, observer) = await OpenAsync();
        await store.AppendAsync(Scroll, [Receipt("before")]);

        var ex = await Assert.ThrowsAsync<InvalidScrollLineException>(() => store.AppendAsync(Scroll, [Receipt("good"), _ => bad, Receipt("also good")]));
        Assert.Contains("seq 2", ex.Message);
        Assert.False(string.IsNullOrEmpty(rule));

        Assert.Equal(1, await store.AppendAsync(Scroll, [Receipt("after")]));
        var lines = await ReadAllAsync(store);
        Assert.Equal([ReceiptText(0, "before"), ReceiptText(1, "after")], lines.Select(l => Text(l.Line)));
        Assert.Equal(2, observer.Lines.Count);
        Assert.Empty(observer.Violations);
    }

    [Fact]
    public async Task A_line_of_exactly_MaxLineBytes_is_accepted()
    {
        Options.MaxLineBytes = 1024;
        var (store, _) = await OpenAsync();
        var line = Enumerable.Repeat((byte)'x', 1024).ToArray();
        Assert.Equal(0, await store.AppendAsync(Scroll, [_ => line]));
        Assert.Equal(line, (await ReadAllAsync(store))[0].Line);
    }

    [Fact]
    public async Task A_throwing_builder_fails_only_its_own_append_and_consumes_no_seq()
    {
        var (store, observer) = await OpenAsync();
        var appends = new List<Task<long>>();
        for (var i = 0; i < 200; i++)
        {
            var index = i;
            appends.Add(Task.Run(() => store.AppendAsync(Scroll,
                index % 10 == 3 ? [Receipt($"ok-{index}"), _ => throw new InvalidOperationException($"builder {index} broke")] : [Receipt($"ok-{index}")])));
        }

        var outcomes = await Task.WhenAll(appends.Select(async t =>
        {
            try
            {
                return (Seq: await t, Error: (Exception?)null);
            }
            catch (Exception ex)
            {
                return (Seq: -1L, Error: ex);
            }
        }));

        Assert.Equal(20, outcomes.Count(o => o.Error is InvalidOperationException e && e.Message.EndsWith("broke", StringComparison.Ordinal)));
        Assert.Equal(Enumerable.Range(0, 180).Select(i => (long)i), outcomes.Where(o => o.Error is null).Select(o => o.Seq).Order());
        var lines = await ReadAllAsync(store);
        Assert.Equal(180, lines.Count);
        Assert.DoesNotContain(lines, l => Text(l.Line).Contains("ok-3\"", StringComparison.Ordinal) || Text(l.Line).Contains("ok-13\"", StringComparison.Ordinal));
        Assert.Equal(180, observer.Lines.Count);
        Assert.Empty(observer.Violations);
    }

    [Fact]
    public async Task An_append_without_lines_or_with_too_many_lines_is_refused()
    {
        Options.MaxBatchLines = 4;
        var (store, _) = await OpenAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => store.AppendAsync(Scroll, []));
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => store.AppendAsync(Scroll, Enumerable.Range(0, 5).Select(i => Receipt($"{i}")).ToList()));
        Assert.Contains("MaxBatchLines", ex.Message);
        Assert.Equal(0, await store.AppendAsync(Scroll, Enumerable.Range(0, 4).Select(i => Receipt($"{i}")).ToList()));
    }

    [Fact]
    public async Task Small_batch_limits_still_give_contiguous_seqs_under_concurrency()
    {
        Options.MaxBatchLines = 3;
        Options.MaxBatchBytes = 64;
        var (store, observer) = await OpenAsync();
        var seqs = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => Task.Run(() => store.AppendAsync(Scroll, [Receipt($"{i}"), Receipt($"{i}b")]))));
        Assert.Equal(Enumerable.Range(0, 300).Select(i => 2L * i), seqs.Order());
        Assert.Equal(600, (await ReadAllAsync(store)).Count);
        Assert.Equal(600, observer.Lines.Count);
        Assert.Empty(observer.Violations);
    }

    [Fact]
    public async Task A_reopened_store_sees_every_line_and_replays_them_to_the_observer_in_order()
    {
        var (first, _) = await OpenAsync();
        for (var i = 0; i < 50; i++)
        {
            await first.AppendAsync(Scroll, [Receipt($"r{i}")]);
        }

        await first.DisposeAsync();

        var second = NewStore();
        var observer = new RecordingObserver();
        var report = await second.OpenAsync(Scroll, observer.Observer);
        Assert.Equal(50, report.Size);
        Assert.Null(report.Torn);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => ReceiptText(i, $"r{i}")), observer.Lines.Select(Text));
        Assert.Empty(observer.Violations);
        Assert.Equal(50, await second.AppendAsync(Scroll, [Receipt("after reopen")]));
        Assert.Equal(51, observer.Lines.Count);
    }

    [Fact]
    public async Task Replay_of_more_lines_than_one_batch_arrives_in_order_in_deliveries_of_at_most_MaxBatchLines()
    {
        Options.MaxBatchLines = 100;
        var (first, _) = await OpenAsync();
        for (var i = 0; i < 10; i++)
        {
            await first.AppendAsync(Scroll, Enumerable.Range(0, 100).Select(j => Receipt($"{i}-{j}")).ToList());
        }

        await first.DisposeAsync();
        var (_, observer) = await OpenAsync();
        Assert.Equal(1000, observer.Lines.Count);
        Assert.Equal(100, observer.LargestDelivery);
        Assert.Equal(ReceiptText(999, "9-99"), Text(observer.Lines[999]));
        Assert.Empty(observer.Violations);
    }

    [Fact]
    public async Task Checkpoint_history_is_kept_in_order_and_survives_reopen()
    {
        var (store, _) = await OpenAsync();
        await store.AppendAsync(Scroll, [Receipt("a"), Receipt("b"), Receipt("c")]);
        var notes = new[]
        {
            new StoredCheckpoint(1, "fed1.updates\n1\nroot1=\n\n— key sig1\n"),
            new StoredCheckpoint(3, "fed1.updates\n3\nroot3=\n\n— key sig3 \"quoted\" \\ \n"),
            new StoredCheckpoint(3, "fed1.updates\n3\nroot3=\n\n— key sig3b\n"),
        };
        foreach (var checkpoint in notes)
        {
            await store.AppendCheckpointAsync(Scroll, checkpoint);
        }

        Assert.Equal(notes, await store.ReadCheckpointsAsync(Scroll));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.AppendCheckpointAsync(Scroll, new StoredCheckpoint(4, "too far")));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.AppendCheckpointAsync(Scroll, new StoredCheckpoint(-1, "negative")));
        await Assert.ThrowsAsync<ArgumentException>(() => store.AppendCheckpointAsync(Scroll, new StoredCheckpoint(1, "")));

        await store.DisposeAsync();
        var (reopened, _) = await OpenAsync();
        Assert.Equal(notes, await reopened.ReadCheckpointsAsync(Scroll));
    }

    [Fact]
    public async Task Truncate_quarantines_the_removed_lines_keeps_checkpoints_and_appends_continue_at_the_new_size()
    {
        var (store, observer) = await OpenAsync();
        await store.AppendAsync(Scroll, Enumerable.Range(0, 6).Select(i => Receipt($"r{i}")).ToList());
        await store.AppendCheckpointAsync(Scroll, new StoredCheckpoint(6, "note at 6"));

        var report = await store.TruncateAsync(Scroll, 4);
        Assert.Equal(6, report.OldSize);
        Assert.Equal(4, report.NewSize);
        Assert.False(string.IsNullOrEmpty(report.QuarantinedTo));
        Assert.Equal([ReceiptText(4, "r4"), ReceiptText(5, "r5")], await QuarantinedLinesAsync(report));

        observer.CutTo(4);
        Assert.Equal(4, await store.AppendAsync(Scroll, [Receipt("new4")]));
        var lines = await ReadAllAsync(store);
        Assert.Equal([ReceiptText(0, "r0"), ReceiptText(1, "r1"), ReceiptText(2, "r2"), ReceiptText(3, "r3"), ReceiptText(4, "new4")], lines.Select(l => Text(l.Line)));
        Assert.Equal([new StoredCheckpoint(6, "note at 6")], await store.ReadCheckpointsAsync(Scroll));
        Assert.Empty(observer.Violations);
        Assert.Equal(lines.Select(l => Text(l.Line)), observer.Lines.Select(Text));

        await store.DisposeAsync();
        var (reopened, replayed) = await OpenAsync();
        Assert.Equal(lines.Select(l => Text(l.Line)), replayed.Lines.Select(Text));
        Assert.Equal(5, await reopened.AppendAsync(Scroll, [Receipt("new5")]));
    }

    [Fact]
    public async Task Truncate_refuses_a_size_beyond_the_scroll_and_to_the_same_size_moves_nothing()
    {
        var (store, _) = await OpenAsync();
        await store.AppendAsync(Scroll, [Receipt("a"), Receipt("b")]);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.TruncateAsync(Scroll, 3));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.TruncateAsync(Scroll, -1));
        Assert.Equal(new TruncateReport(2, 2, null), await store.TruncateAsync(Scroll, 2));
        Assert.Equal(2, (await ReadAllAsync(store)).Count);
    }

    [Fact]
    public async Task Truncate_to_zero_empties_the_scroll()
    {
        var (store, _) = await OpenAsync();
        await store.AppendAsync(Scroll, [Receipt("a"), Receipt("b")]);
        var report = await store.TruncateAsync(Scroll, 0);
        Assert.Equal([ReceiptText(0, "a"), ReceiptText(1, "b")], await QuarantinedLinesAsync(report));
        Assert.Empty(await ReadAllAsync(store));
        Assert.Equal(0, await store.AppendAsync(Scroll, [Receipt("fresh")]));
    }

    /// <summary>The lines a truncation moved, read from the store's quarantine.</summary>
    protected abstract Task<IReadOnlyList<string>> QuarantinedLinesAsync(TruncateReport report);

    public static TheoryData<string> InvalidNames() =>
    [
        "", "Fed1", "../etc", "a/b", "a..b", ".hidden", "-dash", "_under", "a b", "a\n", "naïve", new string('a', 65), "a\\b",
    ];

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public async Task An_invalid_scroll_name_is_refused_naming_the_rule(string name)
    {
        var store = NewStore();
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => store.OpenAsync(name, (_, _) => { }));
        Assert.Contains("^[a-z0-9][a-z0-9._-]{0,63}$", ex.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => store.AppendAsync(name, [Receipt("x")]));
    }

    [Theory]
    [InlineData("fed1.updates")]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("tenant_2.scroll-x")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task Valid_scroll_names_open_and_append(string name)
    {
        var (store, _) = await OpenAsync(name);
        Assert.Equal(0, await store.AppendAsync(name, [Receipt("x")]));
        Assert.Contains(name, await store.ListScrollsAsync());
    }

    [Fact]
    public async Task ListScrolls_lists_every_scroll_in_ordinal_order_including_ones_not_open_here()
    {
        var (store, _) = await OpenAsync("b.scroll");
        await store.OpenAsync("a.scroll", (_, _) => { });
        await store.OpenAsync("c-scroll", (_, _) => { });
        Assert.Equal(["a.scroll", "b.scroll", "c-scroll"], await store.ListScrollsAsync());
        await store.DisposeAsync();

        var other = NewStore();
        Assert.Equal(["a.scroll", "b.scroll", "c-scroll"], await other.ListScrollsAsync());
    }

    [Fact]
    public async Task Using_a_scroll_that_is_not_open_or_opening_it_twice_fails_clearly()
    {
        var (store, _) = await OpenAsync();
        var notOpen = await Assert.ThrowsAsync<InvalidOperationException>(() => store.AppendAsync("other", [Receipt("x")]));
        Assert.Contains("not open", notOpen.Message);
        var twice = await Assert.ThrowsAsync<ScrollAlreadyOpenException>(() => store.OpenAsync(Scroll, (_, _) => { }));
        Assert.Contains("already open", twice.Message);
    }

    [Fact]
    public async Task A_closed_scroll_opens_again_with_what_was_appended_and_closing_one_not_open_changes_nothing()
    {
        var (store, _) = await OpenAsync();
        await store.AppendAsync(Scroll, [Receipt("a"), Receipt("b")]);
        await store.CloseAsync(Scroll);
        await store.CloseAsync(Scroll);
        await store.CloseAsync("never-opened");
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.AppendAsync(Scroll, [Receipt("c")]));

        var replayed = new List<long>();
        var report = await store.OpenAsync(Scroll, (first, lines) => replayed.AddRange(Enumerable.Range(0, lines.Count).Select(i => first + i)));
        Assert.Equal(2, report.Size);
        Assert.Equal([0L, 1L], replayed);
        Assert.Equal(2, await store.AppendAsync(Scroll, [Receipt("c")]));
    }

    [Fact]
    public async Task Appends_after_dispose_are_refused()
    {
        var (store, _) = await OpenAsync();
        await store.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.AppendAsync(Scroll, [Receipt("late")]));
    }

    [Fact]
    public async Task Dispose_completes_appends_already_queued()
    {
        var (store, _) = await OpenAsync();
        var appends = Enumerable.Range(0, 100).Select(i => store.AppendAsync(Scroll, [Receipt($"{i}")])).ToList();
        await store.DisposeAsync();
        var seqs = await Task.WhenAll(appends);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), seqs.Order());

        var (reopened, observer) = await OpenAsync();
        Assert.Equal(100, observer.Lines.Count);
    }

    [Fact]
    public async Task The_benchmark_appends_durably_and_reports_a_rate()
    {
        var (store, observer) = await OpenAsync();
        var result = await ScrollStoreBenchmark.MeasureDurableAppendsAsync(store, Scroll, appenders: 16, TimeSpan.FromMilliseconds(300), CancellationToken.None);
        Assert.True(result.Appends > 0);
        Assert.True(result.AppendsPerSecond > 0);
        Assert.Equal(result.Appends, (await ReadAllAsync(store)).Count);
        Assert.Equal(result.Appends, observer.Lines.Count);
        Assert.Empty(observer.Violations);
    }
}

using System.Text;
using System.Text.Json;
using Federation.Storage.Scrolls;

namespace Federation.Storage.Tests.Scrolls;

public sealed class FileScrollStoreTests : ScrollStoreContractTests
{
    private readonly TempDirectory _directory = new();

    private string DataDirectory => Path.Combine(_directory.Path, "data");

    private string ScrollDirectory => Path.Combine(DataDirectory, "receipts", Scroll);

    private string LinesPath => Path.Combine(ScrollDirectory, Scroll + ".jsonl");

    protected override Task<ScrollStoreOptions> CreateOptionsAsync() =>
        Task.FromResult(new ScrollStoreOptions { Kind = "file", DataDirectory = DataDirectory });

    protected override void CleanUp() => _directory.Dispose();

    protected override Task<IReadOnlyList<string>> QuarantinedLinesAsync(TruncateReport report)
    {
        Assert.StartsWith(Path.Combine(ScrollDirectory, Scroll + ".quarantine-"), report.QuarantinedTo);
        Assert.EndsWith(".jsonl", report.QuarantinedTo);
        var text = File.ReadAllText(report.QuarantinedTo!);
        Assert.EndsWith("\n", text);
        return Task.FromResult<IReadOnlyList<string>>(text[..^1].Split('\n'));
    }

    [Fact]
    public async Task Under_concurrent_load_the_commit_delay_groups_appends_and_a_lone_appender_is_never_delayed()
    {
        Options.CommitDelayMicroseconds = 300_000; // large, so a delay applied where it must not be is plain to see
        var (store, observer) = await OpenAsync();

        // One caller at a time: each batch serves one append, so the writer never waits (10 delays would be 3 s).
        var lone = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 10; i++)
        {
            await store.AppendAsync(Scroll, [Receipt($"lone{i}")]);
        }

        Assert.True(lone.Elapsed < TimeSpan.FromSeconds(1.5), $"a lone appender waited {lone.Elapsed.TotalMilliseconds:N0} ms for 10 appends");
        Assert.Equal(10, observer.Calls);

        // Waves of concurrent callers: after a batch that served several, the writer waits for more to join.
        for (var wave = 0; wave < 3; wave++)
        {
            await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => store.AppendAsync(Scroll, [Receipt($"w{wave}-{i}")]))));
        }

        Assert.Equal(130, observer.Lines.Count);
        Assert.Empty(observer.Violations);
        Assert.True(observer.Calls - 10 <= 12, $"120 concurrent appends took {observer.Calls - 10} commits");
    }

    [Fact]
    public async Task Append_continuations_never_run_on_the_scroll_writer_thread()
    {
        // Appends complete without forcing their continuations onto work items of their own (a group commit completes
        // from one), so a continuation that runs synchronously where its append completes must still never hold up
        // the writer: committed, refused by a builder, or refused as an invalid line.
        var (store, observer) = await OpenAsync();
        Task<string?> WhereItContinues(Task append) =>
            append.ContinueWith(_ => Thread.CurrentThread.Name, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        var places = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Task.Run(() => WhereItContinues((i % 20) switch
        {
            7 => store.AppendAsync(Scroll, [_ => throw new InvalidOperationException($"builder {i} broke")]),
            13 => store.AppendAsync(Scroll, [_ => "not\njson"u8.ToArray()]),
            _ => store.AppendAsync(Scroll, [Receipt($"c{i}")]),
        }))));

        Assert.Equal(54, observer.Lines.Count);
        Assert.DoesNotContain(places, name => name is not null && name.StartsWith("scroll writer", StringComparison.Ordinal));
    }

    [Fact]
    public void The_commit_delay_is_validated()
    {
        Assert.Equal(2000, new ScrollStoreOptions().CommitDelayMicroseconds);
        Assert.Contains("CommitDelayMicroseconds", Assert.Throws<ArgumentException>(() => new ScrollStoreOptions { CommitDelayMicroseconds = -1 }.Validate()).Message);
        Assert.Contains("CommitDelayMicroseconds", Assert.Throws<ArgumentException>(() => new ScrollStoreOptions { CommitDelayMicroseconds = 1_000_001 }.Validate()).Message);
    }

    [Fact]
    public async Task Lines_are_stored_one_per_line_in_receipts_scroll_jsonl()
    {
        var (store, _) = await OpenAsync();
        await store.AppendAsync(Scroll, [Receipt("a"), Receipt("b")]);
        await store.AppendAsync(Scroll, [Receipt("c")]);
        Assert.Equal($"{ReceiptText(0, "a")}\n{ReceiptText(1, "b")}\n{ReceiptText(2, "c")}\n", File.ReadAllText(LinesPath));
        Assert.Equal(LinesPath, ((FileScrollStore)store).LinesPath(Scroll));
    }

    [Fact]
    public async Task ScrollFile_reads_the_committed_lines_of_an_open_scroll_without_its_lock_and_ignores_a_partial_tail()
    {
        var (store, _) = await OpenAsync();
        await store.AppendAsync(Scroll, [Receipt("a"), Receipt("b")]);
        Assert.Equal([ReceiptText(0, "a"), ReceiptText(1, "b")], ScrollFile.ReadCommittedLines(LinesPath).Select(l => Text(l.Line)));
        Assert.Equal([0L, 1], ScrollFile.ReadCommittedLines(LinesPath).Select(l => l.Seq));

        var copy = _directory.File("copy.jsonl");
        File.WriteAllText(copy, File.ReadAllText(LinesPath) + "{\"seq\":2,\"par");
        Assert.Equal(2, ScrollFile.ReadCommittedLines(copy).Count());
        File.WriteAllText(copy, "x\n\ny\n");
        Assert.Contains("line 1 at byte 2 is empty", Assert.Throws<InvalidDataException>(() => ScrollFile.ReadCommittedLines(copy).ToList()).Message);
    }

    [Fact]
    public async Task A_torn_tail_is_moved_to_the_torn_file_reported_and_cut_and_appends_continue()
    {
        Directory.CreateDirectory(ScrollDirectory);
        File.WriteAllText(LinesPath, $"{ReceiptText(0, "a")}\n{ReceiptText(1, "b")}\n{{\"seq\":2,\"te");
        var intact = Encoding.UTF8.GetByteCount($"{ReceiptText(0, "a")}\n{ReceiptText(1, "b")}\n");

        var store = NewStore();
        var observer = new RecordingObserver();
        var report = await store.OpenAsync(Scroll, observer.Observer);

        Assert.Equal(2, report.Size);
        Assert.Equal(new TornTail(LinesPath + ".torn", intact, "{\"seq\":2,\"te".Length), report.Torn);
        Assert.Equal(intact, new FileInfo(LinesPath).Length);
        Assert.Equal(2, observer.Lines.Count);

        var record = JsonDocument.Parse(File.ReadAllLines(LinesPath + ".torn").Single()).RootElement;
        Assert.Equal(intact, record.GetProperty("offset").GetInt64());
        Assert.Equal(12, record.GetProperty("length").GetInt32());
        Assert.Equal("{\"seq\":2,\"te", Encoding.UTF8.GetString(record.GetProperty("bytes_base64").GetBytesFromBase64()));
        Assert.Equal(Scroll + ".jsonl", record.GetProperty("file").GetString());

        Assert.Equal(2, await store.AppendAsync(Scroll, [Receipt("c")]));
        Assert.Equal($"{ReceiptText(0, "a")}\n{ReceiptText(1, "b")}\n{ReceiptText(2, "c")}\n", File.ReadAllText(LinesPath));
    }

    [Fact]
    public async Task A_file_without_any_newline_is_all_torn_tail()
    {
        Directory.CreateDirectory(ScrollDirectory);
        File.WriteAllText(LinesPath, "garbage");
        var (store, observer) = await OpenAsync();
        Assert.Equal(0, new FileInfo(LinesPath).Length);
        Assert.Empty(observer.Lines);
        Assert.Equal(0, await store.AppendAsync(Scroll, [Receipt("first")]));
    }

    [Fact]
    public async Task A_second_torn_tail_is_appended_to_the_same_torn_file()
    {
        Directory.CreateDirectory(ScrollDirectory);
        File.WriteAllText(LinesPath, "one\ntorn1");
        await (await OpenAsync()).Store.DisposeAsync();
        File.AppendAllText(LinesPath, "torn2");
        var store = NewStore();
        var report = await store.OpenAsync(Scroll, (_, _) => { });
        Assert.Equal(4, report.Torn!.Offset);
        Assert.Equal(2, File.ReadAllLines(LinesPath + ".torn").Length);
        Assert.Equal("one\n", File.ReadAllText(LinesPath));
    }

    [Fact]
    public async Task An_empty_line_in_the_file_is_reported_as_corruption_at_open()
    {
        Directory.CreateDirectory(ScrollDirectory);
        File.WriteAllText(LinesPath, "one\n\nthree\n");
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => NewStore().OpenAsync(Scroll, (_, _) => { }));
        Assert.Contains("line 1", ex.Message);
        Assert.Contains("empty", ex.Message);
    }

    [Fact]
    public async Task A_second_store_instance_cannot_open_a_scroll_that_is_open()
    {
        var (first, _) = await OpenAsync();
        var ex = await Assert.ThrowsAsync<IOException>(() => NewStore().OpenAsync(Scroll, (_, _) => { }));
        Assert.Contains($"scroll {Scroll} is already open by another process", ex.Message);

        await first.DisposeAsync();
        var (second, _) = await OpenAsync();
        Assert.Equal(0, await second.AppendAsync(Scroll, [Receipt("now mine")]));
    }

    [Fact]
    public async Task The_scroll_lock_is_visible_to_other_processes_while_the_scroll_is_open()
    {
        var (store, _) = await OpenAsync();
        var lockPath = Path.Combine(ScrollDirectory, Scroll + ".lock");
        Assert.Equal(1, await FlockExitCodeAsync(lockPath));
        await store.DisposeAsync();
        Assert.Equal(0, await FlockExitCodeAsync(lockPath));
    }

    /// <summary>util-linux flock(1) in another process: 0 when it got the lock, 1 when the lock is held.</summary>
    private static async Task<int> FlockExitCodeAsync(string path)
    {
        using var process = System.Diagnostics.Process.Start("flock", ["--nonblock", "--conflict-exit-code", "1", path, "true"]);
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    [Fact]
    public async Task A_failed_write_is_sticky_the_scroll_refuses_appends_until_reopened()
    {
        // The kernel refuses the write: the scroll file is /dev/full (every write fails with ENOSPC).
        Directory.CreateDirectory(ScrollDirectory);
        File.CreateSymbolicLink(LinesPath, "/dev/full");
        var (store, observer) = await OpenAsync();

        var first = await Assert.ThrowsAsync<ScrollFailedException>(() => store.AppendAsync(Scroll, [Receipt("a")]));
        Assert.Contains("refuses further writes", first.Message);
        Assert.IsAssignableFrom<IOException>(first.InnerException);

        var second = await Assert.ThrowsAsync<ScrollFailedException>(() => store.AppendAsync(Scroll, [Receipt("b")]));
        Assert.Same(first, second);
        await Assert.ThrowsAsync<ScrollFailedException>(() => store.TruncateAsync(Scroll, 0));
        Assert.Empty(observer.Lines);
    }

    [Fact]
    public async Task A_failing_observer_fails_the_batch_and_the_scroll_but_the_lines_replay_on_reopen()
    {
        var store = NewStore();
        var calls = 0;
        await store.OpenAsync(Scroll, (_, _) =>
        {
            if (++calls == 2)
            {
                throw new InvalidOperationException("tree is full");
            }
        });
        await store.AppendAsync(Scroll, [Receipt("a")]);
        var ex = await Assert.ThrowsAsync<ScrollFailedException>(() => store.AppendAsync(Scroll, [Receipt("b")]));
        Assert.Contains("durable but the observer failed", ex.Message);
        await Assert.ThrowsAsync<ScrollFailedException>(() => store.AppendAsync(Scroll, [Receipt("c")]));
        await store.DisposeAsync();

        var (_, observer) = await OpenAsync();
        Assert.Equal([ReceiptText(0, "a"), ReceiptText(1, "b")], observer.Lines.Select(Text));
    }

    [Fact]
    public async Task Checkpoints_go_to_the_history_file_and_the_latest_note_to_the_root_file()
    {
        var (store, _) = await OpenAsync();
        await store.AppendAsync(Scroll, [Receipt("a"), Receipt("b")]);
        await store.AppendCheckpointAsync(Scroll, new StoredCheckpoint(1, "origin\n1\nAAA=\n\n— k sig\n"));
        await store.AppendCheckpointAsync(Scroll, new StoredCheckpoint(2, "origin\n2\nBBB=\n\n— k sig\n"));

        var rootPath = Path.Combine(DataDirectory, $"ROOT.{Scroll}.txt");
        Assert.Equal(rootPath, ((FileScrollStore)store).RootPath(Scroll));
        Assert.Equal("origin\n2\nBBB=\n\n— k sig\n", File.ReadAllText(rootPath));
        var history = File.ReadAllLines(Path.Combine(ScrollDirectory, Scroll + ".checkpoints.jsonl"));
        Assert.Equal(2, history.Length);
        var last = JsonDocument.Parse(history[1]).RootElement;
        Assert.Equal(2, last.GetProperty("size").GetInt64());
        Assert.Equal("origin\n2\nBBB=\n\n— k sig\n", last.GetProperty("note").GetString());
        Assert.Equal(["note", "size"], last.EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task A_stale_root_file_is_rewritten_from_the_history_at_open_and_a_torn_history_line_is_moved_aside()
    {
        var (store, _) = await OpenAsync();
        await store.AppendAsync(Scroll, [Receipt("a")]);
        await store.AppendCheckpointAsync(Scroll, new StoredCheckpoint(1, "latest"));
        await store.DisposeAsync();
        var rootPath = Path.Combine(DataDirectory, $"ROOT.{Scroll}.txt");
        File.WriteAllText(rootPath, "stale");
        var historyPath = Path.Combine(ScrollDirectory, Scroll + ".checkpoints.jsonl");
        File.AppendAllText(historyPath, "{\"size\":1,\"no");

        var reopened = NewStore();
        var report = await reopened.OpenAsync(Scroll, (_, _) => { });
        Assert.Equal("latest", File.ReadAllText(rootPath));
        Assert.NotNull(report.TornCheckpoint);
        Assert.Equal(historyPath + ".torn", report.TornCheckpoint!.MovedTo);
        Assert.Equal([new StoredCheckpoint(1, "latest")], await reopened.ReadCheckpointsAsync(Scroll));
    }

    [Fact]
    public async Task Two_truncations_in_the_same_second_get_distinct_quarantine_files()
    {
        var (store, _) = await OpenAsync();
        await store.AppendAsync(Scroll, [Receipt("a"), Receipt("b"), Receipt("c")]);
        var first = await store.TruncateAsync(Scroll, 2);
        var second = await store.TruncateAsync(Scroll, 1);
        Assert.NotEqual(first.QuarantinedTo, second.QuarantinedTo);
        Assert.Equal(ReceiptText(2, "c") + "\n", File.ReadAllText(first.QuarantinedTo!));
        Assert.Equal(ReceiptText(1, "b") + "\n", File.ReadAllText(second.QuarantinedTo!));
        Assert.Equal(ReceiptText(0, "a") + "\n", File.ReadAllText(LinesPath));
    }

    [Fact]
    public void Options_validation_names_the_bad_setting()
    {
        Assert.Contains("Kind", Assert.Throws<ArgumentException>(() => new ScrollStoreOptions { Kind = "sqlite" }.Validate()).Message);
        Assert.Contains("MaxLineBytes", Assert.Throws<ArgumentException>(() => new ScrollStoreOptions { MaxLineBytes = 0 }.Validate()).Message);
        Assert.Contains("ConnectionString", Assert.Throws<ArgumentException>(() => new ScrollStoreOptions { Kind = "postgres" }.Validate()).Message);
        Assert.Contains("DataDirectory", Assert.Throws<ArgumentException>(() => new ScrollStoreOptions { DataDirectory = " " }.Validate()).Message);
        var defaults = new ScrollStoreOptions().Validate();
        Assert.Equal(("file", "data", 16 * 1024 * 1024), (defaults.Kind, defaults.DataDirectory, defaults.MaxLineBytes));
    }
}

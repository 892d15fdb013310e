using Orleans.Runtime;

namespace Federation.Storage.Orleans.Tests.Reminders;

/// <summary>
/// What every reminder table of the product must do (Orleans' IReminderTable): upserts return a new etag, a remove
/// must name the current one, range reads follow Orleans' ring ranges — (begin, end], wrapping when begin ≥ end —
/// and rows are durable (a second table over the same store reads them). A back end subclasses this with
/// <see cref="CreateTable"/> and nothing else.
/// </summary>
public abstract class ReminderTableContract : IAsyncLifetime
{
    private IReminderTable _table = null!;

    protected IReminderTable Table => _table;

    /// <summary>A table over this test's store; every call over the same store (durability checks call it twice).</summary>
    protected abstract IReminderTable CreateTable();

    public virtual async Task InitializeAsync()
    {
        _table = CreateTable();
        await _table.StartAsync();
    }

    public virtual Task DisposeAsync() => Task.CompletedTask;

    /// <summary>The finest time the store keeps; a StartAt reads back truncated to it (the file table keeps ticks).</summary>
    protected virtual TimeSpan StartAtResolution => TimeSpan.FromTicks(1);

    protected static GrainId NewGrain(string type = "alarm") => GrainId.Create(type, Guid.NewGuid().ToString("N"));

    protected static ReminderEntry Reminder(GrainId grainId, string name, int minutes = 1) => new()
    {
        GrainId = grainId,
        ReminderName = name,
        StartAt = new DateTime(2026, 12, 3, 10, 0, 0, DateTimeKind.Utc).AddTicks(1234567),
        Period = TimeSpan.FromMinutes(minutes),
    };

    [Fact]
    public async Task An_upserted_reminder_reads_back_with_its_etag()
    {
        var entry = Reminder(NewGrain(), "foo/bar\\#b_a_z?");

        var etag = await Table.UpsertRow(entry);
        var read = await Table.ReadRow(entry.GrainId, entry.ReminderName);

        Assert.NotNull(etag);
        Assert.NotNull(read);
        Assert.Equal(etag, read.ETag);
        Assert.Equal(entry.GrainId, read.GrainId);
        Assert.Equal(entry.ReminderName, read.ReminderName);
        Assert.Equal(entry.StartAt.AddTicks(-(entry.StartAt.Ticks % StartAtResolution.Ticks)), read.StartAt);
        Assert.Equal(DateTimeKind.Utc, read.StartAt.Kind);
        Assert.Equal(entry.Period, read.Period);
    }

    [Fact]
    public async Task A_reminder_never_upserted_reads_as_null()
    {
        Assert.Null(await Table.ReadRow(NewGrain(), "nothing"));
        Assert.Empty((await Table.ReadRows(NewGrain())).Reminders);
    }

    [Fact]
    public async Task An_upsert_replaces_the_reminder_whatever_its_etag_and_changes_the_etag()
    {
        var entry = Reminder(NewGrain(), "r");
        var first = await Table.UpsertRow(entry);

        var changed = Reminder(entry.GrainId, "r", minutes: 5);
        changed.ETag = "not the current one";
        var second = await Table.UpsertRow(changed);

        var read = await Table.ReadRow(entry.GrainId, "r");
        Assert.NotEqual(first, second);
        Assert.Equal(second, read!.ETag);
        Assert.Equal(TimeSpan.FromMinutes(5), read.Period);
        Assert.Single((await Table.ReadRows(entry.GrainId)).Reminders);
    }

    [Fact]
    public async Task A_remove_needs_the_current_etag_and_the_right_name()
    {
        var entry = Reminder(NewGrain(), "r");
        var old = await Table.UpsertRow(entry);
        var current = await Table.UpsertRow(entry);

        Assert.False(await Table.RemoveRow(entry.GrainId, "r", old!), "a stale etag must not remove");
        Assert.False(await Table.RemoveRow(entry.GrainId, "other", current!), "another name must not remove");
        Assert.NotNull(await Table.ReadRow(entry.GrainId, "r"));

        Assert.True(await Table.RemoveRow(entry.GrainId, "r", current!));
        Assert.False(await Table.RemoveRow(entry.GrainId, "r", current!), "it is gone");
        Assert.Null(await Table.ReadRow(entry.GrainId, "r"));
    }

    [Fact]
    public async Task The_rows_of_a_grain_are_its_own_reminders_only()
    {
        var grain = NewGrain();
        var other = NewGrain();
        await Table.UpsertRow(Reminder(grain, "a"));
        await Table.UpsertRow(Reminder(grain, "b"));
        await Table.UpsertRow(Reminder(other, "a"));

        var rows = (await Table.ReadRows(grain)).Reminders;

        Assert.Equal(["a", "b"], rows.Select(r => r.ReminderName).Order(StringComparer.Ordinal));
        Assert.All(rows, r => Assert.Equal(grain, r.GrainId));
    }

    [Fact]
    public async Task Concurrent_upserts_of_one_reminder_each_get_a_distinct_etag()
    {
        var grain = NewGrain();

        var etags = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => Table.UpsertRow(Reminder(grain, "same", minutes: i + 1)))));

        Assert.Equal(etags.Length, etags.Distinct().Count());
        var read = await Table.ReadRow(grain, "same");
        Assert.Contains(read!.ETag, etags);
    }

    [Fact]
    public async Task Range_reads_return_the_grains_whose_hash_is_in_begin_exclusive_to_end_inclusive_wrapping_around()
    {
        var grains = Enumerable.Range(0, 40).Select(i => NewGrain(i % 2 == 0 ? "alarm" : "clock")).ToList();
        foreach (var grain in grains)
        {
            await Table.UpsertRow(Reminder(grain, "tick"));
        }

        var hashes = grains.Select(g => g.GetUniformHashCode()).Order().ToArray();
        var random = new Random(17);
        var cases = new List<(uint Begin, uint End)>
        {
            (0, uint.MaxValue),
            (0, 0), // begin = end: the whole ring
            (uint.MaxValue, uint.MaxValue),
            (hashes[10], hashes[20]), // a hash on the lower bound is out, on the upper bound in
            (hashes[30], hashes[5]), // wraps around
            (hashes[20], hashes[20]),
        };
        cases.AddRange(Enumerable.Range(0, 20).Select(_ => ((uint)random.NextInt64(0, uint.MaxValue + 1L), (uint)random.NextInt64(0, uint.MaxValue + 1L))));

        foreach (var (begin, end) in cases)
        {
            var expected = grains.Where(g => InRing(g.GetUniformHashCode(), begin, end)).ToHashSet();
            var rows = (await Table.ReadRows(begin, end)).Reminders;
            var mine = rows.Where(r => grains.Contains(r.GrainId)).Select(r => r.GrainId).ToHashSet();
            Assert.True(expected.SetEquals(mine), $"range ({begin}, {end}]: expected {expected.Count} grains, read {mine.Count}");
        }
    }

    [Fact]
    public async Task Rows_are_durable_a_second_table_over_the_same_store_reads_them()
    {
        var entry = Reminder(NewGrain(), "durable");
        var etag = await Table.UpsertRow(entry);

        var again = CreateTable();
        await again.StartAsync();

        var read = await again.ReadRow(entry.GrainId, "durable");
        Assert.Equal(etag, read!.ETag);
        Assert.True(await again.RemoveRow(entry.GrainId, "durable", etag!));
        Assert.Null(await Table.ReadRow(entry.GrainId, "durable"));
    }

    [Fact]
    public async Task Clearing_the_table_removes_every_reminder()
    {
        await Table.UpsertRow(Reminder(NewGrain(), "a"));
        await Table.UpsertRow(Reminder(NewGrain(), "b"));

        await Table.TestOnlyClearTable();

        Assert.Empty((await Table.ReadRows(0, 0)).Reminders);
    }

    /// <summary>Orleans' ring range, written out here independently of the table's own.</summary>
    private static bool InRing(uint hash, uint begin, uint end) =>
        begin < end ? begin < hash && hash <= end : begin < hash || hash <= end;
}

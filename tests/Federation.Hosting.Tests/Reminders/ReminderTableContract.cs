using Federation.Hosting.Reminders;

namespace Federation.Hosting.Tests.Reminders;

/// <summary>The contract every reminder table keeps; one subclass per provider.</summary>
public abstract class ReminderTableContract
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    protected abstract Task<IReminderTable> CreateAsync();

    private static ReminderEntry Entry(string key, string name, int minutes = 1) =>
        new(new GrainId("alarm", key), name, T0, TimeSpan.FromMinutes(minutes), T0.AddMinutes(minutes));

    [Fact]
    public async Task Upserted_rows_read_back_exactly()
    {
        var table = await CreateAsync();
        var etag = await table.UpsertRowAsync(Entry("a", "r1"));
        var rows = await table.ReadRowsAsync(new GrainId("alarm", "a"));
        var row = Assert.Single(rows);
        Assert.Equal(Entry("a", "r1") with { Etag = etag }, row);
    }

    [Fact]
    public async Task An_upsert_replaces_the_row_and_changes_its_etag()
    {
        var table = await CreateAsync();
        var first = await table.UpsertRowAsync(Entry("a", "r1"));
        var second = await table.UpsertRowAsync(Entry("a", "r1", minutes: 5));
        Assert.NotEqual(first, second);
        var row = Assert.Single(await table.ReadRowsAsync(new GrainId("alarm", "a")));
        Assert.Equal(TimeSpan.FromMinutes(5), row.Period);
        Assert.Equal(T0.AddMinutes(5), row.NextDue);
    }

    [Fact]
    public async Task Read_all_returns_every_grains_rows_and_rows_are_per_grain()
    {
        var table = await CreateAsync();
        await table.UpsertRowAsync(Entry("a", "r1"));
        await table.UpsertRowAsync(Entry("a", "r2"));
        await table.UpsertRowAsync(Entry("b/c", "r1"));

        var all = await table.ReadAllAsync();
        Assert.Equal(["a:r1", "a:r2", "b/c:r1"], all.Select(r => $"{r.GrainId.Key}:{r.ReminderName}").Order(StringComparer.Ordinal));
        Assert.Single(await table.ReadRowsAsync(new GrainId("alarm", "b/c")));
        Assert.Empty(await table.ReadRowsAsync(new GrainId("alarm", "nobody")));
    }

    [Fact]
    public async Task Remove_takes_one_row_and_honours_the_etag()
    {
        var table = await CreateAsync();
        var etag = await table.UpsertRowAsync(Entry("a", "r1"));
        await table.UpsertRowAsync(Entry("a", "r2"));

        Assert.False(await table.RemoveRowAsync(new GrainId("alarm", "a"), "r1", etag + "0"));
        Assert.True(await table.RemoveRowAsync(new GrainId("alarm", "a"), "r1", etag));
        Assert.False(await table.RemoveRowAsync(new GrainId("alarm", "a"), "r1", null));
        Assert.Equal(["r2"], (await table.ReadRowsAsync(new GrainId("alarm", "a"))).Select(r => r.ReminderName));
        Assert.True(await table.RemoveRowAsync(new GrainId("alarm", "a"), "r2", null));
        Assert.Empty(await table.ReadAllAsync());
    }
}

public sealed class MemoryReminderTableTests : ReminderTableContract
{
    protected override Task<IReminderTable> CreateAsync() => Task.FromResult<IReminderTable>(new MemoryReminderTable());
}

public sealed class FileReminderTableTests : ReminderTableContract, IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override Task<IReminderTable> CreateAsync() => Task.FromResult<IReminderTable>(new FileReminderTable(_directory.Path));

    [Fact]
    public async Task Rows_survive_a_new_table_instance_over_the_same_directory()
    {
        await new FileReminderTable(_directory.Path).UpsertRowAsync(new ReminderEntry(new GrainId("alarm", "x"), "r", DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(1), DateTimeOffset.UnixEpoch));
        Assert.Single(await new FileReminderTable(_directory.Path).ReadAllAsync());
    }

    public void Dispose() => _directory.Dispose();
}

public sealed class PostgresReminderTableTests : ReminderTableContract, IDisposable
{
    private readonly List<PostgresReminderTable> _tables = [];

    protected override async Task<IReminderTable> CreateAsync()
    {
        var table = new PostgresReminderTable(await PostgresCluster.Instance.CreateDatabaseAsync("reminders"));
        await table.InitializeAsync(CancellationToken.None);
        _tables.Add(table);
        return table;
    }

    public void Dispose()
    {
        foreach (var table in _tables)
        {
            table.Dispose();
        }
    }
}

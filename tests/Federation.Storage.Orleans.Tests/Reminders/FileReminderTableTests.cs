using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Federation.Storage.Orleans.Tests.Reminders;

/// <summary>The reminder-table contract over the file table, and the file table's own promises (docs/formats/grain-state.md).</summary>
public sealed class FileReminderTableTests : ReminderTableContract, IDisposable
{
    private readonly TempDirectory _data = new();

    protected override IReminderTable CreateTable() => Create(_data.Path);

    public void Dispose() => _data.Dispose();

    private static FileReminderTable Create(string dataDirectory) =>
        new(Options.Create(new FileReminderTableOptions { DataDirectory = dataDirectory }), NullLogger<FileReminderTable>.Instance);

    private FileReminderTable FileTable => (FileReminderTable)Table;

    private string WriteFile(GrainId grainId, string contents)
    {
        var path = FileTable.PathOf(grainId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, contents);
        return path;
    }

    [Fact]
    public async Task A_grains_reminders_are_one_file_named_by_grain_type_and_key_in_format_2()
    {
        var grain = GrainId.Create("alarm", "k/1");
        await Table.UpsertRow(Reminder(grain, "wake"));
        await Table.UpsertRow(Reminder(grain, "wake"));
        await Table.UpsertRow(Reminder(grain, "sleep", minutes: 2));

        var path = Path.Combine(_data.Path, "reminders", "alarm", "k%2F1.json");
        Assert.Equal(path, FileTable.PathOf(grain));
        Assert.Equal(
            """
            {
              "format_version": 2,
              "grain_type": "alarm",
              "grain_key": "k/1",
              "reminders": [
                {
                  "name": "sleep",
                  "start_at": "2026-12-03T10:00:00.1234567+00:00",
                  "period_ms": 120000,
                  "version": 1
                },
                {
                  "name": "wake",
                  "start_at": "2026-12-03T10:00:00.1234567+00:00",
                  "period_ms": 60000,
                  "version": 2
                }
              ]
            }
            """,
            File.ReadAllText(path));
    }

    [Fact]
    public async Task The_file_goes_when_the_grains_last_reminder_goes()
    {
        var grain = NewGrain();
        var etag = await Table.UpsertRow(Reminder(grain, "only"));

        Assert.True(await Table.RemoveRow(grain, "only", etag!));

        Assert.False(File.Exists(FileTable.PathOf(grain)));
    }

    [Fact]
    public async Task A_file_of_the_old_grain_host_format_1_reads_its_next_due_left_to_orleans()
    {
        var grain = GrainId.Create("alarm", "k");
        WriteFile(grain, """
            {
              "format_version": 1,
              "grain_type": "alarm",
              "grain_key": "k",
              "reminders": [
                { "name": "wake", "start_at": "2026-01-01T00:00:05+00:00", "period_ms": 60000,
                  "next_due": "2026-01-01T00:02:05+00:00", "version": 3 }
              ]
            }
            """);

        var read = await Table.ReadRow(grain, "wake");

        Assert.NotNull(read);
        Assert.Equal("3", read.ETag);
        Assert.Equal(new DateTime(2026, 1, 1, 0, 0, 5, DateTimeKind.Utc), read.StartAt);
        Assert.Equal(TimeSpan.FromMinutes(1), read.Period);
        Assert.Single((await Table.ReadRows(0, 0)).Reminders);
        Assert.Equal("4", await Table.UpsertRow(read));
    }

    [Theory]
    [InlineData("{\"format_version\":2,\"grain_type\":\"alarm\",\"grain_key\":\"k\",\"reminders\":[", "not a valid reminder file")]
    [InlineData("{\"format_version\":3,\"grain_type\":\"alarm\",\"grain_key\":\"k\",\"reminders\":[]}", "reminder file format 3")]
    [InlineData("{\"format_version\":2,\"grain_type\":\"alarm\",\"grain_key\":\"other\",\"reminders\":[]}", "holds the reminders of alarm/other")]
    [InlineData("{\"format_version\":2,\"grain_type\":\"alarm\",\"grain_key\":\"k\",\"reminders\":[],\"colour\":1}", "colour")]
    public async Task A_damaged_file_fails_its_grains_calls_naming_grain_and_file_and_is_skipped_by_range_reads(string contents, string fault)
    {
        var grain = GrainId.Create("alarm", "k");
        var path = WriteFile(grain, contents);
        var healthy = NewGrain();
        await Table.UpsertRow(Reminder(healthy, "still fires"));

        var error = await Assert.ThrowsAsync<GrainStateFormatException>(() => Table.ReadRows(grain));
        Assert.Contains("alarm/k", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(fault, error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<GrainStateFormatException>(() => Table.UpsertRow(Reminder(grain, "new")));

        var all = (await Table.ReadRows(0, 0)).Reminders;
        Assert.Equal([healthy], all.Select(r => r.GrainId));
        Assert.Equal(contents, File.ReadAllText(path));
    }

    [Fact]
    public async Task Periods_are_whole_milliseconds_as_in_orleans_adonet_table()
    {
        var entry = Reminder(NewGrain(), "r");
        entry.Period = TimeSpan.FromMilliseconds(1500.75);

        await Table.UpsertRow(entry);

        Assert.Equal(TimeSpan.FromMilliseconds(1500), (await Table.ReadRow(entry.GrainId, "r"))!.Period);
    }

    [Fact]
    public async Task A_period_under_a_millisecond_is_refused_and_nothing_is_written()
    {
        var entry = Reminder(NewGrain(), "r");
        entry.Period = TimeSpan.FromTicks(9_999);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Table.UpsertRow(entry));

        Assert.False(File.Exists(FileTable.PathOf(entry.GrainId)));
    }

    [Fact]
    public void Options_without_a_data_directory_are_refused_with_a_message_naming_the_setting()
    {
        var error = Assert.Throws<OrleansConfigurationException>(
            () => new FileReminderTableOptionsValidator(Options.Create(new FileReminderTableOptions())).ValidateConfiguration());

        Assert.Contains("DataDirectory is required", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10u, 20u, 10u, false)]
    [InlineData(10u, 20u, 11u, true)]
    [InlineData(10u, 20u, 20u, true)]
    [InlineData(10u, 20u, 21u, false)]
    [InlineData(20u, 10u, 5u, true)]
    [InlineData(20u, 10u, 15u, false)]
    [InlineData(20u, 10u, uint.MaxValue, true)]
    [InlineData(7u, 7u, 7u, true)]
    [InlineData(7u, 7u, 0u, true)]
    public void Ring_ranges_are_begin_exclusive_end_inclusive_and_wrap(uint begin, uint end, uint hash, bool inRange) =>
        Assert.Equal(inRange, FileReminderTable.InRange(hash, begin, end));
}

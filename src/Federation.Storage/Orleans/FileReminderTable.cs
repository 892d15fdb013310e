using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Federation.Core.Canonical;
using Federation.Storage.Files;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;

namespace Federation.Storage.Orleans;

/// <summary>
/// The embedded default's reminder table: one JSON file per grain with all its reminders,
/// <c>&lt;DataDirectory&gt;/reminders/&lt;grain type&gt;/&lt;key&gt;.json</c> (names escaped by <see cref="GrainFileNames"/>),
/// replaced atomically (temp file, fsync, rename, directory fsync) and deleted when its last reminder goes.
/// Etags are per-reminder versions: every upsert adds one, and a remove must name the current one.
/// Format: docs/formats/grain-state.md ("File reminders"); files of the old grain host (format 1) read as they are.
/// </summary>
/// <remarks>
/// A range read (the reminder service's, at start and every <c>ReminderOptions.RefreshReminderListPeriod</c>) reads
/// every reminder file: fine for the embedded default's thousands, not for millions (use PostgreSQL). A damaged file
/// fails the calls about its own grain with a message naming it, and is skipped, with an error logged, by range
/// reads, so the other grains' reminders still load. For one process per data directory, like
/// <see cref="FileGrainStorage"/>.
/// </remarks>
public sealed partial class FileReminderTable : IReminderTable, IDisposable
{
    private static readonly JsonSerializerOptions Json = ProtocolJson.Indented;

    private readonly ILogger _logger;
    private volatile bool _closed;

    public FileReminderTable(IOptions<FileReminderTableOptions> options, ILogger<FileReminderTable> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        FileReminderTableOptionsValidator.Validate(options.Value);
        _logger = logger;
        RootDirectory = Path.GetFullPath(Path.Combine(options.Value.DataDirectory, FileReminderTableOptions.RemindersFolder));
    }

    /// <summary><c>&lt;DataDirectory&gt;/reminders</c>.</summary>
    public string RootDirectory { get; }

    public string PathOf(GrainId grainId) =>
        Path.Combine(RootDirectory, GrainFileNames.Escape(grainId.Type.ToString()!), GrainFileNames.Escape(grainId.Key.ToString()!) + FileReminderTableOptions.FileExtension);

    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            Directory.CreateDirectory(RootDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OrleansConfigurationException(
                $"file reminder table: cannot create its folder {RootDirectory} ({ex.Message}); check {nameof(FileReminderTableOptions)}.{nameof(FileReminderTableOptions.DataDirectory)}", ex);
        }

        LogStarted(_logger, RootDirectory);
        return Task.CompletedTask;
    }

    public Task<ReminderTableData> ReadRows(GrainId grainId)
    {
        ThrowIfClosed();
        return Task.FromResult(new ReminderTableData(Load(PathOf(grainId), grainId)));
    }

    /// <summary>The reminders of grains whose uniform hash is in (begin, end]; when begin ≥ end, the range wraps (all when equal).</summary>
    public Task<ReminderTableData> ReadRows(uint begin, uint end)
    {
        ThrowIfClosed();
        var rows = new List<ReminderEntry>();
        if (Directory.Exists(RootDirectory))
        {
            foreach (var file in Directory.EnumerateFiles(RootDirectory, "*" + FileReminderTableOptions.FileExtension, SearchOption.AllDirectories))
            {
                List<ReminderEntry> fileRows;
                try
                {
                    fileRows = Load(file, expected: null);
                }
                catch (GrainStateFormatException ex)
                {
                    LogSkippedDamagedFile(_logger, file, ex.Message, ex);
                    continue;
                }

                if (fileRows.Count > 0 && InRange(fileRows[0].GrainId.GetUniformHashCode(), begin, end))
                {
                    rows.AddRange(fileRows);
                }
            }
        }

        return Task.FromResult(new ReminderTableData(rows));
    }

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName)
    {
        ThrowIfClosed();
        return Task.FromResult(Load(PathOf(grainId), grainId).Find(r => r.ReminderName == reminderName));
    }

    /// <summary>Inserts or replaces the reminder (whatever its etag); returns its new etag once the file is durable.</summary>
    public Task<string?> UpsertRow(ReminderEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentException.ThrowIfNullOrEmpty(entry.ReminderName);
        if (entry.Period < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(entry), entry.Period, $"reminder \"{entry.ReminderName}\" of {entry.GrainId}: the file table keeps periods in whole milliseconds, at least one");
        }

        var path = PathOf(entry.GrainId);
        lock (PathLocks.For(path))
        {
            ThrowIfClosed();
            var rows = Load(path, entry.GrainId);
            var previous = rows.Find(r => r.ReminderName == entry.ReminderName);
            var etag = Format(previous is null ? 1 : ParseVersion(previous.ETag!) + 1);
            rows.RemoveAll(r => r.ReminderName == entry.ReminderName);
            rows.Add(new ReminderEntry { GrainId = entry.GrainId, ReminderName = entry.ReminderName, StartAt = entry.StartAt, Period = entry.Period, ETag = etag });
            Save(path, entry.GrainId, rows);
            return Task.FromResult<string?>(etag);
        }
    }

    /// <summary>Removes the reminder if <paramref name="eTag"/> is its current etag; false when there is no such reminder or a newer one.</summary>
    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag)
    {
        var path = PathOf(grainId);
        lock (PathLocks.For(path))
        {
            ThrowIfClosed();
            var rows = Load(path, grainId);
            if (rows.RemoveAll(r => r.ReminderName == reminderName && r.ETag == eTag) == 0)
            {
                return Task.FromResult(false);
            }

            Save(path, grainId, rows);
            return Task.FromResult(true);
        }
    }

    public Task TestOnlyClearTable()
    {
        ThrowIfClosed();
        if (Directory.Exists(RootDirectory))
        {
            Directory.Delete(RootDirectory, recursive: true);
        }

        Directory.CreateDirectory(RootDirectory);
        return Task.CompletedTask;
    }

    /// <summary>After this returns no write of this instance is in flight and none will start (a killed silo).</summary>
    public void Dispose()
    {
        _closed = true;
        PathLocks.WaitForWritesInFlight();
    }

    /// <summary>Orleans' ring ranges (<c>RangeFactory.CreateRange</c>): (begin, end], wrapping when begin ≥ end.</summary>
    internal static bool InRange(uint hash, uint begin, uint end) =>
        begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    /// <param name="expected">The grain the file must belong to (null in a scan, where the file says whose it is).</param>
    private static List<ReminderEntry> Load(string path, GrainId? expected)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }

        ReminderFile? file;
        try
        {
            file = JsonSerializer.Deserialize<ReminderFile>(bytes, Json);
        }
        catch (JsonException ex)
        {
            throw new GrainStateFormatException($"reminders of {expected?.ToString() ?? "a grain"} ({path}): not a valid reminder file ({ex.Message}); it is damaged (truncated or edited)", ex);
        }

        if (file is null)
        {
            throw new GrainStateFormatException($"reminders of {expected?.ToString() ?? "a grain"} ({path}): JSON null");
        }

        var grainId = GrainId.Create(file.GrainType, file.GrainKey);
        var problem = file.FormatVersion is < ReminderFile.OldestReadableFormatVersion or > ReminderFile.CurrentFormatVersion
            ? $"reminder file format {file.FormatVersion}; this build reads {ReminderFile.OldestReadableFormatVersion} to {ReminderFile.CurrentFormatVersion}"
            : expected is { } e && e != grainId ? $"the file holds the reminders of {grainId}"
            : file.Reminders.FirstOrDefault(r => r.Version < 1 || r.PeriodMs < 1 || string.IsNullOrEmpty(r.Name)) is { } bad ? $"reminder \"{bad.Name}\" has an invalid version or period"
            : file.Reminders.GroupBy(r => r.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice ? $"reminder \"{twice.Key}\" appears twice"
            : null;
        if (problem is not null)
        {
            throw new GrainStateFormatException($"reminders of {expected?.ToString() ?? grainId.ToString()} ({path}): {problem}");
        }

        return [.. file.Reminders.Select(r => new ReminderEntry
        {
            GrainId = grainId,
            ReminderName = r.Name,
            StartAt = r.StartAt.UtcDateTime,
            Period = TimeSpan.FromMilliseconds(r.PeriodMs),
            ETag = Format(r.Version),
        })];
    }

    private static void Save(string path, GrainId grainId, List<ReminderEntry> rows)
    {
        if (rows.Count == 0)
        {
            File.Delete(path);
            DurableFile.SyncDirectory(Path.GetDirectoryName(path)!);
            return;
        }

        var file = new ReminderFile(
            ReminderFile.CurrentFormatVersion,
            grainId.Type.ToString()!,
            grainId.Key.ToString()!,
            [.. rows.OrderBy(r => r.ReminderName, StringComparer.Ordinal).Select(r => new ReminderRecord(
                r.ReminderName,
                new DateTimeOffset(r.StartAt.Kind == DateTimeKind.Local ? r.StartAt.ToUniversalTime() : DateTime.SpecifyKind(r.StartAt, DateTimeKind.Utc)),
                (long)r.Period.TotalMilliseconds,
                ParseVersion(r.ETag!)))]);
        DurableFile.WriteAtomic(path, JsonSerializer.SerializeToUtf8Bytes(file, Json));
    }

    private static string Format(long version) => version.ToString(CultureInfo.InvariantCulture);

    private static long ParseVersion(string etag) => long.Parse(etag, NumberStyles.None, CultureInfo.InvariantCulture);

    private void ThrowIfClosed() => ObjectDisposedException.ThrowIf(_closed, this);

    [LoggerMessage(4110, LogLevel.Information, "file reminder table keeps reminders in {Root}")]
    private static partial void LogStarted(ILogger logger, string root);

    [LoggerMessage(4111, LogLevel.Error, "file reminder table: skipped the damaged reminder file {Path} (its grain's reminders do not fire until it is repaired or removed): {Problem}")]
    private static partial void LogSkippedDamagedFile(ILogger logger, string path, string problem, Exception exception);

    /// <summary>Format 2 (this build) drops format 1's <c>next_due</c>: Orleans derives due times from start and period.</summary>
    private sealed record ReminderFile(
        [property: JsonPropertyName("format_version")] int FormatVersion,
        [property: JsonPropertyName("grain_type")] string GrainType,
        [property: JsonPropertyName("grain_key")] string GrainKey,
        [property: JsonPropertyName("reminders")] IReadOnlyList<ReminderRecord> Reminders)
    {
        public const int CurrentFormatVersion = 2;

        /// <summary>The old grain host's files.</summary>
        public const int OldestReadableFormatVersion = 1;
    }

    private sealed record ReminderRecord(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("start_at")] DateTimeOffset StartAt,
        [property: JsonPropertyName("period_ms")] long PeriodMs,
        [property: JsonPropertyName("version")] long Version,
        [property: JsonPropertyName("next_due")] DateTimeOffset? NextDue = null);
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Federation.Hosting.Persistence;
using Federation.Storage.Files;

namespace Federation.Hosting.Reminders;

/// <summary>
/// Reminders as files: one JSON file per grain, <c>&lt;root&gt;/&lt;grain type&gt;/&lt;escaped key&gt;.json</c>, holding
/// every reminder of that grain, replaced atomically (temp file, fsync, rename). Reads at start scan the tree.
/// </summary>
public sealed class FileReminderTable : IReminderTable, IDisposable
{
    private static readonly JsonSerializerOptions Json = Federation.Core.Canonical.ProtocolJson.Indented;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private volatile bool _closed;

    public FileReminderTable(string rootDirectory) => RootDirectory = Path.GetFullPath(rootDirectory);

    public string RootDirectory { get; }

    public Task<IReadOnlyList<ReminderEntry>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        var all = new List<ReminderEntry>();
        if (Directory.Exists(RootDirectory))
        {
            foreach (var file in Directory.EnumerateFiles(RootDirectory, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                all.AddRange(Load(file));
            }
        }

        return Task.FromResult<IReadOnlyList<ReminderEntry>>(all);
    }

    public Task<IReadOnlyList<ReminderEntry>> ReadRowsAsync(GrainId grainId, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<ReminderEntry>>(Load(PathOf(grainId)));

    public async Task<string> UpsertRowAsync(ReminderEntry entry, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            var path = PathOf(entry.GrainId);
            var rows = Load(path);
            var previous = rows.FirstOrDefault(r => r.ReminderName == entry.ReminderName);
            var version = previous?.Etag is { } e ? long.Parse(e, CultureInfo.InvariantCulture) + 1 : 1;
            var etag = Etags.Format(version);
            rows.RemoveAll(r => r.ReminderName == entry.ReminderName);
            rows.Add(entry with { Etag = etag });
            Save(path, entry.GrainId, rows);
            return etag;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<bool> RemoveRowAsync(GrainId grainId, string reminderName, string? etag, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            var path = PathOf(grainId);
            var rows = Load(path);
            var removed = rows.RemoveAll(r => r.ReminderName == reminderName && (etag is null || r.Etag == etag));
            if (removed == 0)
            {
                return false;
            }

            Save(path, grainId, rows);
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose()
    {
        _closed = true;
        _lock.Wait();
        _lock.Release();
    }

    private string PathOf(GrainId grainId) => Path.Combine(RootDirectory, StoragePaths.Escape(grainId.Type), StoragePaths.Escape(grainId.Key) + ".json");

    private static List<ReminderEntry> Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return [];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }

        var file = JsonSerializer.Deserialize<ReminderFile>(bytes, Json) ?? throw new InvalidDataException($"{path}: JSON null");
        if (file.FormatVersion != ReminderFile.CurrentFormatVersion)
        {
            throw new InvalidDataException($"{path}: reminder file format {file.FormatVersion}; this build reads {ReminderFile.CurrentFormatVersion}");
        }

        var grainId = new GrainId(file.GrainType, file.GrainKey);
        return [.. file.Reminders.Select(r => new ReminderEntry(grainId, r.Name, r.StartAt, TimeSpan.FromMilliseconds(r.PeriodMs), r.NextDue, Etags.Format(r.Version)))];
    }

    private static void Save(string path, GrainId grainId, List<ReminderEntry> rows)
    {
        if (rows.Count == 0)
        {
            File.Delete(path);
            DurableFile.SyncDirectory(Path.GetDirectoryName(path)!);
            return;
        }

        var file = new ReminderFile(ReminderFile.CurrentFormatVersion, grainId.Type, grainId.Key,
            [.. rows.OrderBy(r => r.ReminderName, StringComparer.Ordinal).Select(r => new ReminderRecord(r.ReminderName, r.StartAt, (long)r.Period.TotalMilliseconds, r.NextDue, long.Parse(r.Etag!, CultureInfo.InvariantCulture)))]);
        DurableFile.WriteAtomic(path, JsonSerializer.SerializeToUtf8Bytes(file, Json));
    }

    private sealed record ReminderFile(
        [property: JsonPropertyName("format_version")] int FormatVersion,
        [property: JsonPropertyName("grain_type")] string GrainType,
        [property: JsonPropertyName("grain_key")] string GrainKey,
        [property: JsonPropertyName("reminders")] IReadOnlyList<ReminderRecord> Reminders)
    {
        public const int CurrentFormatVersion = 1;
    }

    private sealed record ReminderRecord(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("start_at")] DateTimeOffset StartAt,
        [property: JsonPropertyName("period_ms")] long PeriodMs,
        [property: JsonPropertyName("next_due")] DateTimeOffset NextDue,
        [property: JsonPropertyName("version")] long Version);
}

namespace Federation.Hosting.Reminders;

/// <summary>Reminders in memory, for tests and simulation (they survive a host restart only if the table instance is shared).</summary>
public sealed class MemoryReminderTable : IReminderTable
{
    private readonly SortedDictionary<(string Type, string Key, string Name), ReminderEntry> _rows = new();
    private readonly Lock _lock = new();
    private long _version;

    public Task<IReadOnlyList<ReminderEntry>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<ReminderEntry>>([.. _rows.Values]);
        }
    }

    public Task<IReadOnlyList<ReminderEntry>> ReadRowsAsync(GrainId grainId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<ReminderEntry>>([.. _rows.Values.Where(r => r.GrainId == grainId)]);
        }
    }

    public Task<string> UpsertRowAsync(ReminderEntry entry, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var etag = Persistence.Etags.Format(++_version);
            _rows[(entry.GrainId.Type, entry.GrainId.Key, entry.ReminderName)] = entry with { Etag = etag };
            return Task.FromResult(etag);
        }
    }

    public Task<bool> RemoveRowAsync(GrainId grainId, string reminderName, string? etag, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var key = (grainId.Type, grainId.Key, reminderName);
            if (!_rows.TryGetValue(key, out var row) || (etag is not null && row.Etag != etag))
            {
                return Task.FromResult(false);
            }

            return Task.FromResult(_rows.Remove(key));
        }
    }
}

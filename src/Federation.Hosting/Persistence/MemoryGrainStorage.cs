namespace Federation.Hosting.Persistence;

/// <summary>Grain state in memory, for tests and simulation. Same etag rules as the durable providers.</summary>
public sealed class MemoryGrainStorage : IGrainStorage
{
    private readonly Dictionary<GrainStateKey, (long Version, byte[]? Payload)> _rows = [];
    private readonly Lock _lock = new();

    public Task<StoredGrainState?> ReadAsync(GrainStateKey key, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_rows.TryGetValue(key, out var row) ? new StoredGrainState(Etags.Format(row.Version), row.Payload?.ToArray()) : null);
        }
    }

    public Task<string> WriteAsync(GrainStateKey key, ReadOnlyMemory<byte> payload, string? etag, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var version = Check(key, etag);
            _rows[key] = (version + 1, payload.ToArray());
            return Task.FromResult(Etags.Format(version + 1));
        }
    }

    public Task<string?> ClearAsync(GrainStateKey key, string? etag, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var version = Check(key, etag);
            if (version == 0)
            {
                return Task.FromResult<string?>(null);
            }

            _rows[key] = (version + 1, null);
            return Task.FromResult<string?>(Etags.Format(version + 1));
        }
    }

    /// <summary>Returns the stored version (0 when none) if <paramref name="etag"/> names it.</summary>
    private long Check(GrainStateKey key, string? etag)
    {
        var stored = _rows.TryGetValue(key, out var row) ? row.Version : 0;
        var given = etag is null ? 0 : long.Parse(etag, System.Globalization.CultureInfo.InvariantCulture);
        if (stored != given)
        {
            throw Etags.Stale("memory", key, stored == 0 ? null : Etags.Format(stored), etag);
        }

        return stored;
    }
}

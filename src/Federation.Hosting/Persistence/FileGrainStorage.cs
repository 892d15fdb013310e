using System.Text.Json;
using System.Text.Json.Nodes;
using Federation.Storage.Files;

namespace Federation.Hosting.Persistence;

/// <summary>
/// The embedded default: one file per grain state, <c>&lt;root&gt;/&lt;grain type&gt;/&lt;escaped key&gt;.&lt;state&gt;.json</c>
/// holding <c>{"version": n, "payload": {...} | null}</c>, replaced atomically (temp file, fsync, rename, directory
/// fsync) so a write that returned survives a crash. Version checks run under a lock striped by file.
/// Writes are synchronous system calls: they block the calling thread for the fsync (see docs/architecture.md).
/// </summary>
public sealed class FileGrainStorage : IGrainStorage, IDisposable
{
    /// <summary>Lock stripes: bounded memory whatever the number of grains.</summary>
    public const int LockStripes = 64;

    private readonly Lock[] _stripes = new Lock[LockStripes];
    private volatile bool _closed;

    public FileGrainStorage(string rootDirectory)
    {
        RootDirectory = Path.GetFullPath(rootDirectory);
        for (var i = 0; i < _stripes.Length; i++)
        {
            _stripes[i] = new Lock();
        }
    }

    public string RootDirectory { get; }

    public string PathOf(GrainStateKey key) =>
        Path.Combine(RootDirectory, StoragePaths.Escape(key.GrainId.Type), $"{StoragePaths.Escape(key.GrainId.Key)}.{StoragePaths.Escape(key.StateName)}.json");

    public Task<StoredGrainState?> ReadAsync(GrainStateKey key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        lock (Stripe(path))
        {
            ThrowIfClosed();
            var row = Load(path);
            return Task.FromResult(row is null ? null : new StoredGrainState(Etags.Format(row.Value.Version), row.Value.Payload));
        }
    }

    public Task<string> WriteAsync(GrainStateKey key, ReadOnlyMemory<byte> payload, string? etag, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        lock (Stripe(path))
        {
            ThrowIfClosed();
            var version = Check(key, path, etag) + 1;
            DurableFile.WriteAtomic(path, Serialize(version, payload.Span));
            return Task.FromResult(Etags.Format(version));
        }
    }

    public Task<string?> ClearAsync(GrainStateKey key, string? etag, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        lock (Stripe(path))
        {
            ThrowIfClosed();
            var version = Check(key, path, etag);
            if (version == 0)
            {
                return Task.FromResult<string?>(null);
            }

            DurableFile.WriteAtomic(path, Serialize(version + 1, default));
            return Task.FromResult<string?>(Etags.Format(version + 1));
        }
    }

    /// <summary>After this returns no write of this instance is in flight and none will start (used when a host is killed).</summary>
    public void Dispose()
    {
        _closed = true;
        foreach (var stripe in _stripes)
        {
            lock (stripe)
            {
                // wait for the write in flight on this stripe
            }
        }
    }

    private long Check(GrainStateKey key, string path, string? etag)
    {
        var stored = ReadVersion(path) ?? 0;
        var given = etag is null ? 0 : long.Parse(etag, System.Globalization.CultureInfo.InvariantCulture);
        if (stored != given)
        {
            throw Etags.Stale("file", key, stored == 0 ? null : Etags.Format(stored), etag);
        }

        return stored;
    }

    // Bytes read to find the version at the head of a state file this class wrote: {"version":<n>,"payload":…
    private const int HeadBytes = 64;

    /// <summary>
    /// The stored version for a write's check, from the head of the file: a write must not parse (nor even read)
    /// the whole state it replaces — a federation's state lists every node. A head of another shape (the file was
    /// edited by hand) falls back to the full, strict read.
    /// </summary>
    private static long? ReadVersion(string path)
    {
        Span<byte> head = stackalloc byte[HeadBytes];
        int read;
        try
        {
            using var handle = File.OpenHandle(path);
            read = RandomAccess.Read(handle, head, 0);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        var reader = new Utf8JsonReader(head[..read], isFinalBlock: false, default);
        try
        {
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject
                && reader.Read() && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("version"u8)
                && reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var version)
                && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                return version;
            }
        }
        catch (JsonException)
        {
            // not this class's layout: the strict read below words the error
        }

        return Load(path)?.Version;
    }

    private static (long Version, byte[]? Payload)? Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }

        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(bytes);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({ex.Message}); the grain state file is damaged", ex);
        }

        var node = parsed as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object");
        var version = node["version"]?.GetValue<long>() ?? throw new InvalidDataException($"{path}: no version");
        var payload = node["payload"];
        return (version, payload is null ? null : JsonSerializer.SerializeToUtf8Bytes(payload));
    }

    private static byte[] Serialize(long version, ReadOnlySpan<byte> payload)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", version);
            writer.WritePropertyName("payload");
            if (payload.IsEmpty)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteRawValue(payload, skipInputValidation: false);
            }

            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private Lock Stripe(string path) => _stripes[(uint)StringComparer.Ordinal.GetHashCode(path) % LockStripes];

    private void ThrowIfClosed() => ObjectDisposedException.ThrowIf(_closed, this);
}

using System.Globalization;
using System.Text.Json;
using Federation.Storage.Files;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Federation.Storage.Orleans;

/// <summary>
/// The embedded default's grain storage: one file per grain state,
/// <c>&lt;DataDirectory&gt;/grains/&lt;storage&gt;/&lt;grain type&gt;/&lt;key&gt;.&lt;state&gt;.json</c> (names escaped by
/// <see cref="GrainFileNames"/>), holding <c>{"version":n,"payload":…|null}</c> and replaced atomically (temp file,
/// fsync, rename, directory fsync: <see cref="DurableFile.WriteAtomic"/>), so a write that returned survives a crash.
/// Etags are the versions: a write or clear based on another version than the stored one throws
/// <see cref="InconsistentStateException"/> and changes nothing. A clear keeps the version counting (the payload
/// becomes null), so a write based on a version from before the clear is refused too — as Orleans' ADO.NET storage
/// without <c>DeleteStateOnClear</c>. Layout and format: docs/formats/grain-state.md.
/// </summary>
/// <remarks>
/// For one process per data directory (PostgreSQL is for more). Checks and writes run under a lock striped by
/// path (<see cref="PathLocks"/>) and shared by every instance in the process, so silos of one process (a test
/// cluster) sharing a directory serialize too. Writes are synchronous system calls: they block the calling thread for the fsync.
/// </remarks>
public sealed partial class FileGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly string _name;
    private readonly FileGrainStorageOptions _options;
    private readonly IGrainStorageSerializer _serializer;
    private readonly IActivatorProvider _activators;
    private readonly ILogger _logger;
    private volatile bool _closed;

    public FileGrainStorage(string name, FileGrainStorageOptions options, IActivatorProvider activators, ILogger<FileGrainStorage> logger)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        FileGrainStorageOptionsValidator.Validate(options, name);
        _name = name;
        _options = options;
        _serializer = options.GrainStorageSerializer;
        _activators = activators;
        _logger = logger;
        RootDirectory = Path.GetFullPath(Path.Combine(options.DataDirectory, FileGrainStorageOptions.GrainsFolder, GrainFileNames.Escape(name)));
    }

    /// <summary>The folder of this storage's grain types: <c>&lt;DataDirectory&gt;/grains/&lt;escaped storage name&gt;</c>.</summary>
    public string RootDirectory { get; }

    public string PathOf(string stateName, GrainId grainId) =>
        Path.Combine(
            RootDirectory,
            GrainFileNames.Escape(grainId.Type.ToString()!),
            $"{GrainFileNames.Escape(grainId.Key.ToString()!)}.{GrainFileNames.Escape(stateName)}{FileGrainStorageOptions.StateFileExtension}");

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ThrowIfClosed();
        var path = PathOf(stateName, grainId);

        // No lock: writes replace the file by rename, so a read sees the old file or the new one.
        var bytes = ReadAllBytesOrNull(path);
        if (bytes is null)
        {
            SetEmpty(grainState, etag: null);
            return Task.CompletedTask;
        }

        var envelope = StateEnvelope.Parse(bytes, () => Describe(stateName, grainId, path));
        if (envelope.Payload is not { } payload)
        {
            SetEmpty(grainState, Format(envelope.Version));
            return Task.CompletedTask;
        }

        T? state;
        try
        {
            state = _serializer.Deserialize<T>(new BinaryData(bytes.AsMemory(payload.Start, payload.Length)));
        }
        catch (Exception ex)
        {
            throw new GrainStateFormatException($"{Describe(stateName, grainId, path)}: the payload does not read: {ex.Message}", ex);
        }

        grainState.State = state ?? throw new GrainStateFormatException($"{Describe(stateName, grainId, path)}: the serializer read a null state");
        grainState.ETag = Format(envelope.Version);
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ThrowIfReadOnly("write", stateName, grainId);
        var path = PathOf(stateName, grainId);
        var payload = _serializer.Serialize(grainState.State).ToMemory();
        lock (PathLocks.For(path))
        {
            ThrowIfClosed();
            var version = Check("write", stateName, grainId, path, grainState.ETag) + 1;
            DurableFile.WriteAtomic(path, StateEnvelope.Write(version, payload.Span, _serializer));
            grainState.ETag = Format(version);
            grainState.RecordExists = true;
        }

        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ThrowIfReadOnly("clear", stateName, grainId);
        var path = PathOf(stateName, grainId);
        lock (PathLocks.For(path))
        {
            ThrowIfClosed();
            var version = Check("clear", stateName, grainId, path, grainState.ETag);
            if (version == 0)
            {
                // Nothing was ever stored: nothing to clear, and no version to count.
                SetEmpty(grainState, etag: null);
                return Task.CompletedTask;
            }

            DurableFile.WriteAtomic(path, StateEnvelope.Write(version + 1, default, _serializer));
            SetEmpty(grainState, Format(version + 1));
        }

        return Task.CompletedTask;
    }

    void ILifecycleParticipant<ISiloLifecycle>.Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe($"{nameof(FileGrainStorage)}-{_name}", _options.InitStage, Start);

    /// <summary>After this returns no write of this instance is in flight and none will start (a killed silo).</summary>
    public void Dispose()
    {
        _closed = true;
        PathLocks.WaitForWritesInFlight();
    }

    private void ThrowIfReadOnly(string operation, string stateName, GrainId grainId)
    {
        if (_options.ReadOnly)
        {
            throw new InvalidOperationException($"file grain storage \"{_name}\" is read-only (a reading command): cannot {operation} state \"{stateName}\" of grain {grainId} — run the coordinator first, or a writing command");
        }
    }

    private Task Start(CancellationToken cancellationToken)
    {
        if (_options.ReadOnly)
        {
            LogStarted(_logger, _name, RootDirectory);
            return Task.CompletedTask;
        }

        try
        {
            Directory.CreateDirectory(RootDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OrleansConfigurationException(
                $"file grain storage \"{_name}\": cannot create its folder {RootDirectory} ({ex.Message}); check {nameof(FileGrainStorageOptions)}.{nameof(FileGrainStorageOptions.DataDirectory)}", ex);
        }

        LogStarted(_logger, _name, RootDirectory);
        return Task.CompletedTask;
    }

    /// <summary>The stored version (0 when nothing was ever stored), after checking the caller's etag names it.</summary>
    private long Check(string operation, string stateName, GrainId grainId, string path, string? etag)
    {
        var stored = StateEnvelope.ReadVersion(path, () => Describe(stateName, grainId, path)) ?? 0;
        var storedEtag = stored == 0 ? null : Format(stored);
        if (!string.Equals(storedEtag, etag, StringComparison.Ordinal))
        {
            throw new InconsistentStateException(
                $"file grain storage \"{_name}\": stale {operation} of state \"{stateName}\" of grain {grainId}: it was based on etag {etag ?? "(none)"} but {path} holds {storedEtag ?? "(none)"}",
                storedEtag,
                etag);
        }

        return stored;
    }

    private void SetEmpty<T>(IGrainState<T> grainState, string? etag)
    {
        grainState.State = _activators.GetActivator<T>().Create();
        grainState.ETag = etag;
        grainState.RecordExists = false;
    }

    private string Describe(string stateName, GrainId grainId, string path) =>
        $"state \"{stateName}\" of grain {grainId} (file grain storage \"{_name}\", {path})";

    private static byte[]? ReadAllBytesOrNull(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static string Format(long version) => version.ToString(CultureInfo.InvariantCulture);

    private void ThrowIfClosed() => ObjectDisposedException.ThrowIf(_closed, this);

    [LoggerMessage(4100, LogLevel.Information, "file grain storage {Name} keeps grain state in {Root}")]
    private static partial void LogStarted(ILogger logger, string name, string root);
}

/// <summary>
/// A state file: <c>{"version":n,"payload":…}</c> and a newline. The payload is the serializer's JSON, embedded as
/// it is; <c>null</c> after a clear.
/// </summary>
internal static class StateEnvelope
{
    private static ReadOnlySpan<byte> VersionName => "version"u8;

    private static ReadOnlySpan<byte> PayloadName => "payload"u8;

    // Bytes read to find the version at the head of a file this class wrote: {"version":<n>,"payload":…
    private const int HeadBytes = 64;

    internal readonly record struct Parsed(long Version, (int Start, int Length)? Payload);

    public static byte[] Write(long version, ReadOnlySpan<byte> payload, IGrainStorageSerializer serializer)
    {
        using var buffer = new MemoryStream(payload.Length + 32);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber(VersionName, version);
            writer.WritePropertyName(PayloadName);
            if (payload.IsEmpty)
            {
                writer.WriteNullValue();
            }
            else
            {
                try
                {
                    writer.WriteRawValue(payload, skipInputValidation: false);
                }
                catch (Exception ex) when (ex is JsonException or ArgumentException)
                {
                    throw new InvalidOperationException(
                        $"the file grain storage embeds the state as JSON, but its serializer {serializer.GetType().Name} wrote something else ({ex.Message})", ex);
                }
            }

            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>
    /// The version and where the payload lies; members in any order (a file reformatted by hand still reads), but
    /// nothing else: another member, a duplicate, a version that is not a positive integer, or anything that is
    /// not one JSON object is damage, reported with <paramref name="describe"/>'s words.
    /// </summary>
    public static Parsed Parse(ReadOnlySpan<byte> bytes, Func<string> describe)
    {
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw Damaged(describe, "not a JSON object");
            }

            long? version = null;
            var sawPayload = false;
            (int, int)? payload = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(VersionName) && version is null)
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var v) || v < 1)
                    {
                        throw Damaged(describe, "\"version\" is not a positive integer");
                    }

                    version = v;
                }
                else if (reader.ValueTextEquals(PayloadName) && !sawPayload)
                {
                    sawPayload = true;
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    if (reader.TokenType != JsonTokenType.Null)
                    {
                        reader.Skip();
                        payload = (start, (int)reader.BytesConsumed - start);
                    }
                }
                else
                {
                    throw Damaged(describe, $"unexpected member \"{reader.GetString()}\"");
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject)
            {
                throw Damaged(describe, "not a JSON object");
            }

            if (reader.Read())
            {
                throw Damaged(describe, "more after the JSON object");
            }

            if (version is not { } found || !sawPayload)
            {
                throw Damaged(describe, version is null ? "no \"version\"" : "no \"payload\"");
            }

            return new Parsed(found, payload);
        }
        catch (JsonException ex)
        {
            throw new GrainStateFormatException($"{describe()}: not valid JSON ({ex.Message}); the state file is damaged (truncated or edited)", ex);
        }
    }

    /// <summary>
    /// The stored version for a write's check (null when there is no file), from the head of the file: a write need
    /// not parse (nor even read) the whole state it replaces. A head of another shape gets the full, strict parse.
    /// </summary>
    public static long? ReadVersion(string path, Func<string> describe)
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
                && reader.Read() && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals(VersionName)
                && reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var version) && version >= 1
                && reader.Read() && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals(PayloadName))
            {
                return version;
            }
        }
        catch (JsonException)
        {
            // not this class's layout: the strict parse below words the error
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        return Parse(bytes, describe).Version;
    }

    private static GrainStateFormatException Damaged(Func<string> describe, string what) =>
        new($"{describe()}: {what}; the state file is damaged (truncated or edited)");
}

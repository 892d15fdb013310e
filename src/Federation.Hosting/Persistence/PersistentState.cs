using System.Text.Json;

namespace Federation.Hosting.Persistence;

internal interface IStateLoader
{
    Task ReadStateAsync();
}

/// <summary>
/// <see cref="IPersistentState{TState}"/> over an <see cref="IGrainStorage"/>: the state is JSON (protocol
/// settings: snake_case names, unknown members refused), so persisted names are the format.
/// </summary>
public sealed class PersistentState<TState>(IGrainStorage storage, GrainStateKey key, JsonSerializerOptions json) : IPersistentState<TState>, IStateLoader
{
    public TState State { get; set; } = Create();

    public string? Etag { get; private set; }

    public bool RecordExists { get; private set; }

    public GrainStateKey Key => key;

    public async Task ReadStateAsync()
    {
        var stored = await storage.ReadAsync(key);
        Etag = stored?.Etag;
        if (stored?.Payload is { } payload)
        {
            State = JsonSerializer.Deserialize<TState>(payload, json)
                ?? throw new InvalidDataException($"stored state of {key} is JSON null");
            RecordExists = true;
        }
        else
        {
            State = Create();
            RecordExists = false;
        }
    }

    public async Task WriteStateAsync()
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(State, json);
        Etag = await storage.WriteAsync(key, payload, Etag);
        RecordExists = true;
    }

    public async Task ClearStateAsync()
    {
        Etag = await storage.ClearAsync(key, Etag);
        State = Create();
        RecordExists = false;
    }

    private static TState Create() => Activator.CreateInstance<TState>();
}

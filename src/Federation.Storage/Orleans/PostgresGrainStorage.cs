using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

namespace Federation.Storage.Orleans;

/// <summary>
/// Orleans' ADO.NET grain storage on the project's PostgreSQL schema, unchanged but for one thing: a stored state
/// that does not read fails with a <see cref="GrainStateFormatException"/> naming the state, the grain and the
/// storage (as the file storage's does), where Orleans would pass on the serializer's message alone.
/// </summary>
public sealed class PostgresGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly string _name;
    private readonly AdoNetGrainStorage _inner;

    public PostgresGrainStorage(string name, AdoNetGrainStorage inner)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(inner);
        _name = name;
        _inner = inner;
    }

    /// <summary>The ADO.NET storage underneath (its queries and options).</summary>
    public AdoNetGrainStorage Inner => _inner;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        try
        {
            await _inner.ReadStateAsync(stateName, grainId, grainState, cancellationToken).ConfigureAwait(false);
        }
        catch (GrainStateFormatException ex)
        {
            throw new GrainStateFormatException(
                $"state \"{stateName}\" of grain {grainId} (PostgreSQL grain storage \"{_name}\", table OrleansStorage) does not read: {ex.Message}; " +
                "the row is left as it is for an operator to repair or remove", ex);
        }
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _inner.WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
        _inner.WriteStateAsync(stateName, grainId, grainState, cancellationToken);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _inner.ClearStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
        _inner.ClearStateAsync(stateName, grainId, grainState, cancellationToken);

    public void Participate(ISiloLifecycle lifecycle) => _inner.Participate(lifecycle);
}

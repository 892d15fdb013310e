using System.Collections.Concurrent;
using System.Text.Json;
using Federation.Core.Canonical;
using Federation.Hosting.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Hosting.Persistence;

/// <summary>Builds the <see cref="IPersistentState{TState}"/> a grain constructor asks for with [PersistentState].</summary>
internal sealed class StateFactory(IServiceProvider services)
{
    /// <summary>Grain state is JSON with the protocol settings: persisted names are snake_case and part of the format.</summary>
    public static JsonSerializerOptions StateJson => ProtocolJson.Options;

    private readonly ConcurrentDictionary<Type, Func<IGrainStorage, GrainStateKey, IStateLoader>> _constructors = new();

    public IStateLoader Create(Type parameterType, GrainId grainId, PersistentStateAttribute attribute)
    {
        if (!parameterType.IsGenericType || parameterType.GetGenericTypeDefinition() != typeof(IPersistentState<>))
        {
            throw new InvalidOperationException($"[PersistentState(\"{attribute.StateName}\")] is on a parameter of type {parameterType.Name}; it must be IPersistentState<T>");
        }

        var storageName = attribute.StorageName ?? GrainStorageOptions.DefaultStorageName;
        var storage = services.GetKeyedService<IGrainStorage>(storageName)
            ?? throw new InvalidOperationException($"no grain storage named '{storageName}' is registered (state '{attribute.StateName}' of {grainId})");
        var create = _constructors.GetOrAdd(parameterType, static type =>
        {
            var stateType = typeof(PersistentState<>).MakeGenericType(type.GetGenericArguments()[0]);
            return (storage, key) => (IStateLoader)Activator.CreateInstance(stateType, storage, key, StateJson)!;
        });
        return create(storage, new GrainStateKey(grainId, attribute.StateName));
    }
}

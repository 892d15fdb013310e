using System.Text.Json;
using Federation.Core.Canonical;
using Federation.Storage.Governance;
using Federation.Storage.Scrolls;

namespace Federation.Simulation.Composition;

/// <summary>
/// What outlives a simulated coordinator (a crash loses everything else): the scrolls in a <see cref="MemoryScrollVolume"/>,
/// the state the grains persist (membership, the epoch chain, each node's standing, published advisories), kept here as
/// its serialized JSON (<see cref="ProtocolJson"/>, as the grain storage writes it) so a restart truly rebuilds it, and
/// the governance log file.
/// </summary>
public sealed class CoordinatorStore(MemoryScrollVolume volume, GovernanceLog governanceLog)
{
    private readonly Dictionary<string, byte[]> _states = new(StringComparer.Ordinal);

    public MemoryScrollVolume Volume => volume;

    public GovernanceLog GovernanceLog => governanceLog;

    /// <summary>A fresh copy of the stored state, or null when none was written.</summary>
    public T? Read<T>(string key)
        where T : class =>
        _states.TryGetValue(key, out var json) ? JsonSerializer.Deserialize<T>(json, ProtocolJson.Options) : null;

    public bool Contains(string key) => _states.ContainsKey(key);

    /// <summary>Persists <paramref name="state"/> (what a grain's WriteStateAsync does): later changes to the object are not stored until written again.</summary>
    public void Write<T>(string key, T state) => _states[key] = JsonSerializer.SerializeToUtf8Bytes(state, ProtocolJson.Options);
}

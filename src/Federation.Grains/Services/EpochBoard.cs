using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Federation.Grains.Services;

/// <summary>
/// The epoch state each federation grain last published (on activation and on every change), so a node grain
/// need not call the federation grain once per update. Only what admits an update is taken from here: a node
/// grain that would refuse an update for its epoch (future, or closed) asks the federation grain itself, which
/// answers after any change in progress, exactly as before. One per host, like <see cref="UpdateIndex"/>: it
/// assumes a federation grain and its node grains share the host (true of this single-process host; a
/// multi-silo host would have to invalidate it when a federation grain moves).
/// </summary>
public sealed class EpochBoard
{
    private readonly ConcurrentDictionary<string, EpochInfo> _epochs = new(StringComparer.Ordinal);

    public void Publish(string federationId, EpochInfo epoch) => _epochs[federationId] = epoch;

    /// <summary>The published epoch state when it admits updates for <paramref name="epoch"/> (open, or late).</summary>
    public bool TryGetAdmitting(string federationId, long epoch, [NotNullWhen(true)] out EpochInfo? info) =>
        _epochs.TryGetValue(federationId, out info) && epoch <= info.OpenEpoch && epoch != info.ClosingEpoch;
}

using System.Collections.Concurrent;

namespace Federation.Grains.Services;

/// <summary>
/// The epoch state each federation's update scroll last answered on this silo: what a node grain decides an update
/// under before it asks. After an epoch changes, the first node of the federation on this silo asks the update scroll
/// and every other node starts from its answer — in a federation each node sends one update per epoch, so without the
/// hint every update would cost a question more. A hint, never the truth: the update scroll seals only under its
/// current state (and answers with that one otherwise), and a refusal decided under a hint is decided again under the
/// scroll's current state before it is given. Losing it (a silo restart) costs one question per federation; it holds
/// one entry per configured federation.
/// </summary>
public sealed class EpochHints
{
    private readonly ConcurrentDictionary<string, EpochInfo> _latest = new(StringComparer.Ordinal);

    public EpochInfo? For(string federationId) => _latest.GetValueOrDefault(federationId);

    /// <summary>What the update scroll of <paramref name="federationId"/> answered (the latest answer wins).</summary>
    public EpochInfo Heard(string federationId, EpochInfo epoch) => _latest[federationId] = epoch;
}

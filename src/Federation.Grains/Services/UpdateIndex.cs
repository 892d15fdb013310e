using System.Collections.Concurrent;
using Federation.Core.Ingest;
using Federation.Core.Scrolls;
using Federation.Storage.Ledger;

namespace Federation.Grains.Services;

/// <summary>
/// Per federation and node, the updates its update scroll holds: rebuilt from the scroll when first used,
/// then kept current by the node grains as they seal. The scroll is the durable truth; this is its index
/// (so acknowledging an update needs one durable write: the receipt).
/// </summary>
public sealed class UpdateIndex(LedgerDirectory ledgers)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<FederationUpdates>>> _federations = new(StringComparer.Ordinal);

    public Task<FederationUpdates> ForAsync(string federationId) =>
        (_federations.TryGetValue(federationId, out var built) ? built : _federations.GetOrAdd(federationId, id => new Lazy<Task<FederationUpdates>>(() => BuildAsync(id)))).Value;

    /// <summary>The signed update a recorded receipt sealed (canonical JSON), read back from the update scroll.</summary>
    public async Task<byte[]> ReadSignedUpdateAsync(string federationId, RecordedUpdate recorded) =>
        await RecordedUpdatesReader.ReadSignedUpdateAsync(await ledgers.GetAsync(FederationScrolls.Updates(federationId)), recorded);

    private async Task<FederationUpdates> BuildAsync(string federationId) =>
        await RecordedUpdatesReader.ReadAsync(await ledgers.GetAsync(FederationScrolls.Updates(federationId)));
}

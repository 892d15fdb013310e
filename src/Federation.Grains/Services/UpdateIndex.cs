using System.Collections.Concurrent;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Scrolls;
using Federation.Storage.Ledger;

namespace Federation.Grains.Services;

/// <summary>One update the update scroll recorded for a node and epoch.</summary>
/// <remarks>The signed update itself stays in the scroll (read back by <see cref="Seq"/> when a duplicate or equivocation needs it), so the index costs about 150 bytes per update, not the update's size.</remarks>
public sealed record RecordedUpdate(long Epoch, Sha256Digest SignedHash, string ReceiptId, long Seq, Sha256Digest LeafHash, bool Late);

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
    public async Task<byte[]> ReadSignedUpdateAsync(string federationId, RecordedUpdate recorded)
    {
        var ledger = await ledgers.GetAsync(FederationScrolls.Updates(federationId));
        await foreach (var (_, line) in ledger.ReadAsync(recorded.Seq, recorded.Seq + 1))
        {
            return Core.Canonical.CanonicalJson.Write(Receipt.Parse(line).Body["update"]);
        }

        throw new InvalidOperationException($"receipt {recorded.ReceiptId} is not in the update scroll");
    }

    private async Task<FederationUpdates> BuildAsync(string federationId)
    {
        var ledger = await ledgers.GetAsync(FederationScrolls.Updates(federationId));
        var index = new FederationUpdates();
        await foreach (var (seq, line) in ledger.ReadAsync(0, ledger.Size))
        {
            var receipt = Receipt.Parse(line);
            if (receipt.Type is not (UpdateReceipts.AcceptedType or UpdateReceipts.LateType) || receipt.Node is null)
            {
                continue;
            }

            index.Record(KeyFingerprint.Parse(receipt.Node), new RecordedUpdate(
                (long)receipt.Body["federated_epoch"]!.GetValue<double>(),
                Sha256Digest.Parse(receipt.Body["signed_hash"]!.GetValue<string>()),
                receipt.Id,
                seq,
                ledger.LeafHash(seq),
                receipt.Type == UpdateReceipts.LateType));
        }

        return index;
    }
}

public sealed class FederationUpdates
{
    private readonly ConcurrentDictionary<KeyFingerprint, NodeUpdates> _nodes = new();

    public NodeUpdates For(KeyFingerprint node) => _nodes.GetOrAdd(node, _ => new NodeUpdates());

    public void Record(KeyFingerprint node, RecordedUpdate update) => For(node).Record(update);

    /// <summary>Every recorded update of an epoch, in ledger order (the input of alignment).</summary>
    public IReadOnlyList<(KeyFingerprint Node, RecordedUpdate Update)> ForEpoch(long epoch) =>
        _nodes.SelectMany(n => n.Value.All.Where(u => u.Epoch == epoch).Select(u => (n.Key, u))).OrderBy(x => x.u.Seq).ToList();
}

public sealed class NodeUpdates
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, RecordedUpdate> _byEpoch = [];

    public long LastEpoch { get; private set; } = -1;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byEpoch.Count;
            }
        }
    }

    public IReadOnlyList<RecordedUpdate> All
    {
        get
        {
            lock (_lock)
            {
                return _byEpoch.Values.ToList();
            }
        }
    }

    public RecordedUpdate? ForEpoch(long epoch)
    {
        lock (_lock)
        {
            return _byEpoch.GetValueOrDefault(epoch);
        }
    }

    public void Record(RecordedUpdate update)
    {
        lock (_lock)
        {
            _byEpoch.TryAdd(update.Epoch, update);
            LastEpoch = Math.Max(LastEpoch, update.Epoch);
        }
    }
}

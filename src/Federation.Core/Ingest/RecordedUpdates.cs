using System.Collections.Concurrent;
using Federation.Core.Crypto;
using Federation.Core.Hashing;

namespace Federation.Core.Ingest;

/// <summary>One update the update scroll recorded for a node and epoch.</summary>
/// <remarks>The signed update itself stays in the scroll (read back by <see cref="Seq"/> when a duplicate or equivocation needs it), so the index costs about 150 bytes per update, not the update's size.</remarks>
public sealed record RecordedUpdate(long Epoch, Sha256Digest SignedHash, string ReceiptId, long Seq, Sha256Digest LeafHash, bool Late);

/// <summary>
/// Per node, the updates a federation's update scroll holds (the input of duplicate, equivocation and epoch checks and
/// of alignment). Built from the scroll (<c>Federation.Storage.Ledger.RecordedUpdatesReader</c>), then kept current by
/// whoever seals updates. The scroll is the durable truth; this is its index.
/// </summary>
public sealed class FederationUpdates
{
    private readonly ConcurrentDictionary<KeyFingerprint, NodeUpdates> _nodes = new();

    public NodeUpdates For(KeyFingerprint node) => _nodes.GetOrAdd(node, _ => new NodeUpdates());

    public void Record(KeyFingerprint node, RecordedUpdate update) => For(node).Record(update);

    /// <summary>Every recorded update of an epoch, in ledger order (the input of alignment).</summary>
    public IReadOnlyList<(KeyFingerprint Node, RecordedUpdate Update)> ForEpoch(long epoch) =>
        _nodes.Select(n => (n.Key, Update: n.Value.ForEpoch(epoch))).Where(x => x.Update is not null).Select(x => (x.Key, x.Update!)).OrderBy(x => x.Item2.Seq).ToList();
}

/// <summary>
/// One node's recorded updates, in epoch order. A node's epochs only grow (a stale one is refused; a late one is
/// still past its last), so recording appends and a lookup is a binary search: no hash table per node.
/// </summary>
public sealed class NodeUpdates
{
    private readonly Lock _lock = new();
    private readonly List<RecordedUpdate> _byEpoch = [];

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

    /// <summary>Every recorded update, in epoch order.</summary>
    public IReadOnlyList<RecordedUpdate> All
    {
        get
        {
            lock (_lock)
            {
                return [.. _byEpoch];
            }
        }
    }

    public RecordedUpdate? ForEpoch(long epoch)
    {
        lock (_lock)
        {
            if (epoch > LastEpoch)
            {
                return null; // the usual question at ingest: an epoch this node has not sent yet
            }

            var at = IndexOf(epoch);
            return at >= 0 ? _byEpoch[at] : null;
        }
    }

    /// <summary>Records an update; a second one for an epoch already recorded changes nothing (the first stands).</summary>
    public void Record(RecordedUpdate update)
    {
        lock (_lock)
        {
            if (update.Epoch > LastEpoch)
            {
                _byEpoch.Add(update);
                LastEpoch = update.Epoch;
                return;
            }

            var at = IndexOf(update.Epoch);
            if (at < 0)
            {
                _byEpoch.Insert(~at, update); // out of order (never from ingest): kept sorted all the same
            }
        }
    }

    // Binary search by epoch: the index, or the complement of where it would go.
    private int IndexOf(long epoch)
    {
        var (low, high) = (0, _byEpoch.Count - 1);
        while (low <= high)
        {
            var middle = low + ((high - low) >> 1);
            var at = _byEpoch[middle].Epoch;
            if (at == epoch)
            {
                return middle;
            }

            (low, high) = at < epoch ? (middle + 1, high) : (low, middle - 1);
        }

        return ~low;
    }
}

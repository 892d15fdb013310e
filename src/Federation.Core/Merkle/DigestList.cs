using Federation.Core.Hashing;

namespace Federation.Core.Merkle;

/// <summary>
/// An append-only list of digests in fixed 128 KiB chunks, so a million-leaf tree never needs one huge
/// array or a doubling copy. The first chunk grows from small, so small scrolls stay small.
/// </summary>
internal sealed class DigestList
{
    private const int ChunkBits = 12;
    private const int ChunkSize = 1 << ChunkBits;
    private const int ChunkMask = ChunkSize - 1;
    private const int InitialCapacity = 16;

    private readonly List<Sha256Digest[]> _chunks = [];

    public long Count { get; private set; }

    public Sha256Digest this[long index]
    {
        get
        {
            if ((ulong)index >= (ulong)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"index beyond the {Count} stored digests");
            }

            return _chunks[(int)(index >> ChunkBits)][index & ChunkMask];
        }
    }

    public void Add(in Sha256Digest digest)
    {
        var chunk = (int)(Count >> ChunkBits);
        var offset = (int)(Count & ChunkMask);
        if (chunk == _chunks.Count)
        {
            _chunks.Add(new Sha256Digest[chunk == 0 ? InitialCapacity : ChunkSize]);
        }
        else if (offset == _chunks[chunk].Length)
        {
            var grown = _chunks[chunk];
            Array.Resize(ref grown, Math.Min(ChunkSize, grown.Length * 2));
            _chunks[chunk] = grown;
        }

        _chunks[chunk][offset] = digest;
        Count++;
    }

    /// <summary>Drops digests from the end (rollback of a scroll to an anchored size).</summary>
    public void Truncate(long count)
    {
        if (count < 0 || count > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"cannot truncate {Count} digests to {count}");
        }

        Count = count;
        var chunksNeeded = (int)((count + ChunkMask) >> ChunkBits);
        if (_chunks.Count > chunksNeeded)
        {
            _chunks.RemoveRange(chunksNeeded, _chunks.Count - chunksNeeded);
        }
    }

    /// <summary>Bytes held by the chunks (for the memory-per-leaf figure).</summary>
    public long AllocatedBytes
    {
        get
        {
            long total = 0;
            foreach (var chunk in _chunks)
            {
                total += (long)chunk.Length * Sha256Digest.Size;
            }

            return total;
        }
    }
}

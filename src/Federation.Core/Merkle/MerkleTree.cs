using System.Diagnostics;
using Federation.Core.Hashing;

namespace Federation.Core.Merkle;

/// <summary>
/// An append-only Merkle tree over leaf hashes (RFC 9162 §2.1). Appending is incremental: it stores
/// the leaf hashes and every complete aligned subtree (level L holds the hashes of subtrees of 2^L
/// leaves), about 64 bytes per leaf, and never recomputes what it has. Any earlier tree size can be
/// served: its root, inclusion proofs and consistency proofs. Not thread-safe: the owner serialises access.
/// </summary>
public sealed class MerkleTree
{
    // _levels[0] = leaf hashes; _levels[L][i] = MTH of leaves [i·2^L, (i+1)·2^L).
    private readonly List<DigestList> _levels = [new DigestList()];

    public long Size => _levels[0].Count;

    /// <summary>Appends the data of a leaf (hashed with the leaf prefix); returns its index.</summary>
    public long AppendData(ReadOnlySpan<byte> leafData) => AppendLeafHash(MerkleHash.Leaf(leafData));

    /// <summary>Appends an already computed leaf hash; returns its index.</summary>
    public long AppendLeafHash(in Sha256Digest leafHash)
    {
        var index = Size;
        _levels[0].Add(leafHash);

        // Each time a level gains an even count, its last two nodes complete a node one level up.
        var node = leafHash;
        var position = index;
        for (var level = 0; (position & 1) == 1; level++)
        {
            var left = _levels[level][position - 1];
            node = MerkleHash.Node(left, node);
            if (_levels.Count == level + 1)
            {
                _levels.Add(new DigestList());
            }

            _levels[level + 1].Add(node);
            position >>= 1;
        }

        return index;
    }

    public Sha256Digest LeafHash(long index) => _levels[0][index];

    /// <summary>The tree head of the current size.</summary>
    public Sha256Digest Root() => Root(Size);

    /// <summary>MTH(D[0:size]) for any size up to the current one (§2.1.1).</summary>
    public Sha256Digest Root(long size)
    {
        CheckSize(size);
        return size == 0 ? MerkleHash.EmptyRoot : RangeHash(0, size);
    }

    /// <summary>The inclusion proof of leaf <paramref name="index"/> in the tree of <paramref name="size"/> leaves (§2.1.3.1), leaf-side first.</summary>
    public IReadOnlyList<Sha256Digest> InclusionProof(long index, long size)
    {
        CheckSize(size);
        if (index < 0 || index >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"leaf index must be below the tree size {size}");
        }

        // PATH(m, D[lo:hi]) appends the sibling subtree after the deeper path: collect top-down, then reverse.
        var path = new List<Sha256Digest>(64 - (int)long.LeadingZeroCount(size));
        long lo = 0, hi = size;
        while (hi - lo > 1)
        {
            var k = MerkleHash.SplitPoint(hi - lo);
            if (index < lo + k)
            {
                path.Add(RangeHash(lo + k, hi));
                hi = lo + k;
            }
            else
            {
                path.Add(RangeHash(lo, lo + k));
                lo += k;
            }
        }

        path.Reverse();
        return path;
    }

    /// <summary>The consistency proof between tree sizes <paramref name="first"/> ≤ <paramref name="second"/> (§2.1.4.1).</summary>
    public IReadOnlyList<Sha256Digest> ConsistencyProof(long first, long second)
    {
        CheckSize(second);
        if (first < 0 || first > second)
        {
            throw new ArgumentOutOfRangeException(nameof(first), first, $"the first size must be between 0 and {second}");
        }

        var proof = new List<Sha256Digest>();
        if (first == 0 || first == second)
        {
            return proof; // nothing to prove: the empty tree and a tree itself are trivially consistent
        }

        // SUBPROOF(m, D[lo:hi], b), unrolled: siblings are appended after the deeper part, so collect and reverse.
        long m = first, lo = 0, hi = second;
        var completeSubtree = true;
        while (m != hi - lo)
        {
            var k = MerkleHash.SplitPoint(hi - lo);
            if (m <= k)
            {
                proof.Add(RangeHash(lo + k, hi));
                hi = lo + k;
            }
            else
            {
                proof.Add(RangeHash(lo, lo + k));
                m -= k;
                lo += k;
                completeSubtree = false;
            }
        }

        if (!completeSubtree)
        {
            proof.Add(RangeHash(lo, hi));
        }

        proof.Reverse();
        return proof;
    }

    /// <summary>Drops leaves back to <paramref name="size"/> (rollback to an anchor); the caller re-verifies what remains.</summary>
    public void Truncate(long size)
    {
        CheckSize(size);
        for (var level = 0; level < _levels.Count; level++)
        {
            _levels[level].Truncate(size >> level);
        }
    }

    /// <summary>Bytes allocated for stored hashes, for the memory-per-leaf figure.</summary>
    public long AllocatedBytes
    {
        get
        {
            long total = 0;
            foreach (var level in _levels)
            {
                total += level.AllocatedBytes;
            }

            return total;
        }
    }

    /// <summary>MTH of leaves [lo, hi). Left parts of the recursion are always complete aligned subtrees, so each step is a lookup.</summary>
    private Sha256Digest RangeHash(long lo, long hi)
    {
        var n = hi - lo;
        Debug.Assert(n > 0 && hi <= Size, $"range [{lo}, {hi}) outside the tree of {Size}");
        if ((n & (n - 1)) == 0)
        {
            var level = 63 - (int)long.LeadingZeroCount(n);
            Debug.Assert(lo % n == 0, $"complete subtree [{lo}, {hi}) is not aligned");
            return _levels[level][lo >> level];
        }

        var k = MerkleHash.SplitPoint(n);
        return MerkleHash.Node(RangeHash(lo, lo + k), RangeHash(lo + k, hi));
    }

    private void CheckSize(long size)
    {
        if (size < 0 || size > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"tree size must be between 0 and the current size {Size}");
        }
    }
}

using Federation.Core.Hashing;

namespace Federation.Core.Merkle;

/// <summary>The hash functions of RFC 9162 §2.1.1 (SHA-256 with domain-separation prefixes).</summary>
public static class MerkleHash
{
    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    /// <summary>MTH({}) = SHA-256 of the empty string.</summary>
    public static Sha256Digest EmptyRoot { get; } = Sha256Digest.Of([]);

    /// <summary>MTH({d}) = SHA-256(0x00 ‖ d).</summary>
    public static Sha256Digest Leaf(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[Sha256Digest.Size];
        Sha256.Hash([LeafPrefix], data, [], hash);
        return new Sha256Digest(hash);
    }

    /// <summary>SHA-256(0x01 ‖ left ‖ right).</summary>
    public static Sha256Digest Node(in Sha256Digest left, in Sha256Digest right)
    {
        Span<byte> buffer = stackalloc byte[1 + 2 * Sha256Digest.Size];
        buffer[0] = NodePrefix;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + Sha256Digest.Size)..]);
        Span<byte> hash = stackalloc byte[Sha256Digest.Size];
        Sha256.Hash(buffer, hash);
        return new Sha256Digest(hash);
    }

    /// <summary>The largest power of two strictly less than <paramref name="n"/> (n ≥ 2), the split point k of §2.1.1.</summary>
    internal static long SplitPoint(long n) => 1L << (63 - (int)long.LeadingZeroCount(n - 1));
}

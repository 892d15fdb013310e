using Federation.Core.Hashing;
using Federation.Core.Merkle;

namespace Federation.Core.Tests.Merkle;

public class MerkleTreeTests
{
    /// <summary>An independent, deliberately naive MTH (RFC 9162 §2.1.1) to check the incremental tree against.</summary>
    private static Sha256Digest ReferenceRoot(IReadOnlyList<Sha256Digest> leaves, int lo, int hi)
    {
        if (hi - lo == 0)
        {
            return Sha256Digest.Of([]);
        }

        if (hi - lo == 1)
        {
            return leaves[lo];
        }

        var k = 1;
        while (k * 2 < hi - lo)
        {
            k *= 2;
        }

        return MerkleHash.Node(ReferenceRoot(leaves, lo, lo + k), ReferenceRoot(leaves, lo + k, hi));
    }

    private static (MerkleTree Tree, List<Sha256Digest> Leaves) RandomTree(int size, int seed)
    {
        var random = new Random(seed);
        var tree = new MerkleTree();
        var leaves = new List<Sha256Digest>();
        for (var i = 0; i < size; i++)
        {
            var data = new byte[random.Next(0, 64)];
            random.NextBytes(data);
            tree.AppendData(data);
            leaves.Add(MerkleHash.Leaf(data));
        }

        return (tree, leaves);
    }

    [Fact]
    public void Roots_of_every_size_up_to_300_match_the_reference()
    {
        var (tree, leaves) = RandomTree(300, 1);
        for (var size = 0; size <= 300; size++)
        {
            Assert.Equal(ReferenceRoot(leaves, 0, size), tree.Root(size));
        }
    }

    [Fact]
    public void Every_inclusion_proof_of_every_size_up_to_130_verifies()
    {
        var (tree, _) = RandomTree(130, 2);
        for (long size = 1; size <= 130; size++)
        {
            var root = tree.Root(size);
            for (long index = 0; index < size; index++)
            {
                var check = MerkleVerifier.VerifyInclusion(index, size, tree.LeafHash(index), tree.InclusionProof(index, size), root);
                Assert.True(check.IsValid, $"index {index} size {size}: {check.Error}");
            }
        }
    }

    [Fact]
    public void Every_consistency_proof_between_sizes_up_to_130_verifies()
    {
        var (tree, _) = RandomTree(130, 3);
        for (long second = 0; second <= 130; second++)
        {
            for (long first = 0; first <= second; first++)
            {
                var check = MerkleVerifier.VerifyConsistency(first, second, tree.Root(first), tree.Root(second), tree.ConsistencyProof(first, second));
                Assert.True(check.IsValid, $"{first} -> {second}: {check.Error}");
            }
        }
    }

    [Fact]
    public void Random_proofs_in_a_tree_of_4000_leaves_verify_and_every_corruption_fails()
    {
        var (tree, _) = RandomTree(4000, 4);
        var random = new Random(5);
        for (var trial = 0; trial < 300; trial++)
        {
            var size = random.NextInt64(2, tree.Size + 1);
            var index = random.NextInt64(0, size);
            var root = tree.Root(size);
            var leaf = tree.LeafHash(index);
            var proof = tree.InclusionProof(index, size).ToList();
            Assert.True(MerkleVerifier.VerifyInclusion(index, size, leaf, proof, root).IsValid);
            foreach (var (what, bad) in CorruptInclusion(index, size, proof, random))
            {
                Assert.False(MerkleVerifier.VerifyInclusion(bad.Index, bad.Size, leaf, bad.Proof, root).IsValid, $"{what} at index {index} size {size} verified");
            }

            Assert.False(MerkleVerifier.VerifyInclusion(index, size, MerkleHash.Leaf([1, 2, 3]), proof, root).IsValid);
            Assert.False(MerkleVerifier.VerifyInclusion(index, size, leaf, proof, MerkleHash.Leaf([9])).IsValid);

            var first = random.NextInt64(1, size);
            var consistency = tree.ConsistencyProof(first, size).ToList();
            var firstRoot = tree.Root(first);
            Assert.True(MerkleVerifier.VerifyConsistency(first, size, firstRoot, root, consistency).IsValid);
            foreach (var (what, bad) in CorruptConsistency(first, size, consistency, random))
            {
                Assert.False(MerkleVerifier.VerifyConsistency(bad.First, bad.Second, firstRoot, root, bad.Proof).IsValid, $"{what} for {first} -> {size} verified");
            }

            Assert.False(MerkleVerifier.VerifyConsistency(first, size, MerkleHash.Leaf([7]), root, consistency).IsValid);
            Assert.False(MerkleVerifier.VerifyConsistency(first, size, firstRoot, MerkleHash.Leaf([7]), consistency).IsValid);
        }
    }

    // The corruptions of transparency-dev/merkle's proof tests: wrong index, wrong tree height, and a
    // missing, extra or altered hash. (A size that keeps the height, like size + 1, can legitimately
    // verify against the same root: the checkpoint's signature is what binds root and size.)
    private static IEnumerable<(string, (long Index, long Size, List<Sha256Digest> Proof))> CorruptInclusion(long index, long size, List<Sha256Digest> proof, Random random)
    {
        yield return ("index - 1", (index - 1, size, proof));
        yield return ("index + 1", (index + 1, size, proof));
        yield return ("index ^ 2", (index ^ 2, size, proof));
        yield return ("size * 2", (index, size * 2, proof));
        yield return ("size / 2", (index, size / 2, proof));
        if (proof.Count > 0)
        {
            yield return ("missing last hash", (index, size, proof[..^1]));
            yield return ("missing first hash", (index, size, proof[1..]));
            var altered = proof.ToList();
            var at = random.Next(altered.Count);
            var bytes = altered[at].ToArray();
            bytes[random.Next(32)] ^= 1;
            altered[at] = new Sha256Digest(bytes);
            yield return ("altered hash", (index, size, altered));
        }

        yield return ("extra hash", (index, size, [.. proof, MerkleHash.Leaf([0])]));
        yield return ("extra leading hash", (index, size, [MerkleHash.Leaf([0]), .. proof]));
    }

    private static IEnumerable<(string, (long First, long Second, List<Sha256Digest> Proof))> CorruptConsistency(long first, long second, List<Sha256Digest> proof, Random random)
    {
        yield return ("first - 1", (first - 1, second, proof));
        yield return ("first + 1", (first + 1, second, proof));
        yield return ("first ^ 2", (first ^ 2, second, proof));
        yield return ("second * 2", (first, second * 2, proof));
        yield return ("second / 2", (first, second / 2, proof));
        if (proof.Count > 0)
        {
            yield return ("missing last hash", (first, second, proof[..^1]));
            yield return ("missing first hash", (first, second, proof[1..]));
            var altered = proof.ToList();
            var at = random.Next(altered.Count);
            var bytes = altered[at].ToArray();
            bytes[random.Next(32)] ^= 0x80;
            altered[at] = new Sha256Digest(bytes);
            yield return ("altered hash", (first, second, altered));
        }

        yield return ("extra hash", (first, second, [.. proof, MerkleHash.Leaf([0])]));
    }

    [Fact]
    public void Consistency_edge_cases_follow_rfc9162()
    {
        var (tree, _) = RandomTree(10, 6);
        var root = tree.Root();
        Assert.True(MerkleVerifier.VerifyConsistency(10, 10, root, root, []).IsValid);
        Assert.False(MerkleVerifier.VerifyConsistency(10, 10, root, tree.Root(9), []).IsValid);
        Assert.False(MerkleVerifier.VerifyConsistency(10, 10, root, root, [root]).IsValid);
        Assert.True(MerkleVerifier.VerifyConsistency(0, 10, MerkleHash.EmptyRoot, root, []).IsValid);
        Assert.False(MerkleVerifier.VerifyConsistency(0, 10, MerkleHash.EmptyRoot, root, [root]).IsValid);
        Assert.Contains("never shrinks", MerkleVerifier.VerifyConsistency(10, 9, root, tree.Root(9), []).Error);
        Assert.Contains("empty", MerkleVerifier.VerifyConsistency(3, 10, tree.Root(3), root, []).Error);
    }

    [Fact]
    public void Requests_beyond_the_tree_are_refused()
    {
        var (tree, _) = RandomTree(5, 7);
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.Root(6));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.InclusionProof(5, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.InclusionProof(0, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.ConsistencyProof(4, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.ConsistencyProof(5, 4));
        Assert.False(MerkleVerifier.VerifyInclusion(-1, 5, tree.LeafHash(0), [], tree.Root()).IsValid);
    }

    [Fact]
    public void Truncate_returns_to_an_earlier_tree_and_appending_again_matches_a_fresh_tree()
    {
        var (tree, leaves) = RandomTree(1000, 8);
        var rootAt777 = tree.Root(777);
        tree.Truncate(777);
        Assert.Equal(777, tree.Size);
        Assert.Equal(rootAt777, tree.Root());

        var fresh = new MerkleTree();
        foreach (var leaf in leaves.Take(777))
        {
            fresh.AppendLeafHash(leaf);
        }

        for (var i = 0; i < 300; i++)
        {
            var extra = MerkleHash.Leaf(BitConverter.GetBytes(i));
            tree.AppendLeafHash(extra);
            fresh.AppendLeafHash(extra);
        }

        Assert.Equal(fresh.Root(), tree.Root());
        Assert.Equal(fresh.InclusionProof(800, 1077), tree.InclusionProof(800, 1077));
    }

    [Fact]
    public void Memory_stays_near_64_bytes_per_leaf()
    {
        var tree = new MerkleTree();
        for (var i = 0; i < 200_000; i++)
        {
            tree.AppendLeafHash(MerkleHash.Leaf(BitConverter.GetBytes(i)));
        }

        var perLeaf = (double)tree.AllocatedBytes / tree.Size;
        Assert.InRange(perLeaf, 63.9, 80);
    }
}

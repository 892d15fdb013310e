using System.Text;
using System.Text.Json;
using Federation.Core.Hashing;
using Federation.Core.Merkle;

namespace Federation.Core.Tests.Merkle;

/// <summary>The published RFC 6962 / RFC 9162 vectors of transparency-dev/merkle (../shared/vectors/merkle-rfc6962.json).</summary>
public class MerkleVectorTests
{
    private static readonly JsonElement Vectors = SharedVectors.Load("merkle-rfc6962.json").RootElement;

    private static MerkleTree VectorTree(int size)
    {
        var tree = new MerkleTree();
        foreach (var leaf in Vectors.GetProperty("leaves_hex").EnumerateArray().Take(size))
        {
            tree.AppendData(Convert.FromHexString(leaf.GetString()!));
        }

        return tree;
    }

    private static Sha256Digest Hex(JsonElement e) => Sha256Digest.ParseHex(e.GetString()!);

    private static List<Sha256Digest> Proof(JsonElement e) => e.EnumerateArray().Select(Hex).ToList();

    [Fact]
    public void Basic_hashes_match()
    {
        var basic = Vectors.GetProperty("basic");
        Assert.Equal(Hex(basic.GetProperty("empty_tree_root")), new MerkleTree().Root());
        Assert.Equal(Hex(basic.GetProperty("leaf_hash_of_empty")), MerkleHash.Leaf([]));
        Assert.Equal(Hex(basic.GetProperty("leaf_hash_of_ascii_L123456")), MerkleHash.Leaf("L123456"u8));
        Assert.Equal(Hex(basic.GetProperty("node_hash_of_ascii_N123_N456")), NodeOfAscii("N123", "N456"));
    }

    // transparency-dev hashes the raw ASCII children ("N123", "N456") with the node prefix.
    private static Sha256Digest NodeOfAscii(string left, string right) =>
        Sha256Digest.Of([0x01, .. Encoding.ASCII.GetBytes(left), .. Encoding.ASCII.GetBytes(right)]);

    [Fact]
    public void Roots_of_every_size_match_and_earlier_sizes_are_served_by_the_grown_tree()
    {
        var full = VectorTree(8);
        foreach (var root in Vectors.GetProperty("roots_by_size").EnumerateObject())
        {
            var size = int.Parse(root.Name);
            Assert.Equal(Hex(root.Value), VectorTree(size).Root());
            Assert.Equal(Hex(root.Value), full.Root(size));
        }
    }

    [Fact]
    public void Inclusion_proofs_match_and_verify()
    {
        var tree = VectorTree(8);
        foreach (var vector in Vectors.GetProperty("inclusion").EnumerateArray())
        {
            var index = vector.GetProperty("index").GetInt64();
            var size = vector.GetProperty("size").GetInt64();
            var expected = Proof(vector.GetProperty("proof"));
            Assert.Equal(expected, tree.InclusionProof(index, size));
            var check = MerkleVerifier.VerifyInclusion(index, size, tree.LeafHash(index), expected, tree.Root(size));
            Assert.True(check.IsValid, check.Error);
        }
    }

    [Fact]
    public void Consistency_proofs_match_and_verify()
    {
        var tree = VectorTree(8);
        foreach (var vector in Vectors.GetProperty("consistency").EnumerateArray())
        {
            var first = vector.GetProperty("first").GetInt64();
            var second = vector.GetProperty("second").GetInt64();
            var expected = Proof(vector.GetProperty("proof"));
            Assert.Equal(expected, tree.ConsistencyProof(first, second));
            var check = MerkleVerifier.VerifyConsistency(first, second, tree.Root(first), tree.Root(second), expected);
            Assert.True(check.IsValid, check.Error);
        }
    }
}

using System.Text;
using Federation.Core.Hashing;
using Federation.Core.Merkle;

namespace Federation.Core.Tests.Hashing;

public class Sha256Tests
{
    [Fact]
    public void Uses_openssl_plain_functions_on_this_platform()
    {
        // Debian ships libcrypto.so.3 (the runtime needs it): the fast path must be the one in use here.
        Assert.True(Sha256.IsNative, "libcrypto.so.3's SHA256_Init/Update/Final were not usable: hashing fell back to the runtime's EVP path");
    }

    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    public void Fips_180_examples(string message, string hex)
    {
        Span<byte> hash = stackalloc byte[Sha256.Size];
        Sha256.Hash(Encoding.ASCII.GetBytes(message), hash);
        Assert.Equal(hex, Convert.ToHexStringLower(hash));
    }

    [Fact]
    public void One_million_a_crosses_the_short_input_bound()
    {
        var data = Enumerable.Repeat((byte)'a', 1_000_000).ToArray();
        Assert.Equal("sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", Sha256Digest.Of(data).ToString());
    }

    [Fact]
    public void Agrees_with_the_runtime_on_every_length_and_split()
    {
        var random = new Random(42);
        var data = new byte[9000];
        random.NextBytes(data);
        var expected = new byte[Sha256.Size];
        var actual = new byte[Sha256.Size];
        foreach (var length in Enumerable.Range(0, 300).Concat([4095, 4096, 4097, 8191, 8192, 9000]))
        {
            var message = data.AsSpan(0, length);
            Sha256.HashWithRuntime([], message, [], expected);
            Sha256.Hash(message, actual);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"length {length}");

            var split = random.Next(0, length + 1);
            var prefix = length > 0 ? message[..1] : [];
            var rest = length > 0 ? message[1..] : [];
            split = Math.Min(split, rest.Length);
            Sha256.Hash(prefix, rest[..split], rest[split..], actual);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"length {length} split at 1 and {split + 1}");
        }
    }

    [Fact]
    public void Is_safe_on_many_threads_at_once()
    {
        var inputs = Enumerable.Range(0, 64).Select(i => Enumerable.Range(0, 100 + i * 37).Select(b => (byte)(b * i)).ToArray()).ToArray();
        var expected = inputs.Select(i => System.Security.Cryptography.SHA256.HashData(i)).ToArray();
        Parallel.For(0, 20_000, n =>
        {
            var i = n % inputs.Length;
            Span<byte> hash = stackalloc byte[Sha256.Size];
            Sha256.Hash(inputs[i], hash);
            Assert.True(hash.SequenceEqual(expected[i]));
        });
    }

    [Fact]
    public void Merkle_leaf_and_node_keep_their_domain_prefixes()
    {
        var data = Encoding.UTF8.GetBytes("leaf");
        Assert.Equal(Sha256Digest.Of([0x00, .. data]), MerkleHash.Leaf(data));
        var left = Sha256Digest.Of([1]);
        var right = Sha256Digest.Of([2]);
        Assert.Equal(Sha256Digest.Of([0x01, .. left.ToArray(), .. right.ToArray()]), MerkleHash.Node(left, right));
    }

    [Fact]
    public void A_too_small_destination_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => Sha256.Hash([1, 2, 3], new byte[31]));
        Assert.Contains("needs 32 bytes", ex.Message);
    }
}

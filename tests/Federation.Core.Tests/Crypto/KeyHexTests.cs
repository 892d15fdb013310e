using System.Text;
using Federation.Core.Crypto;
using Federation.Core.Signing;

namespace Federation.Core.Tests.Crypto;

public sealed class KeyHexTests
{
    private static string Hex(int i) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)));

    [Fact]
    public void A_fingerprint_and_a_signature_naming_the_same_key_share_one_string()
    {
        var hex = Hex(1);
        KeyFingerprint.TryParseUtf8(Encoding.ASCII.GetBytes("ed25519:" + hex), out var first);
        KeyFingerprint.TryParseUtf8(Encoding.ASCII.GetBytes("ed25519:" + hex), out var second);
        var signature = SignatureBlock.TryReadCanonicalEd25519(Encoding.ASCII.GetBytes($"{{\"alg\":\"ed25519\",\"key\":\"{hex}\",\"value\":\"{Convert.ToBase64String(new byte[64])}\"}}"));

        Assert.Equal(hex, first.Hex);
        Assert.Same(first.Hex, second.Hex);
        Assert.Same(first.Hex, signature!.KeyId);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Past_its_capacity_the_table_starts_over_and_every_spelling_stays_right()
    {
        for (var i = 0; i < KeyHex.Capacity + 1000; i++)
        {
            var hex = Hex(i);
            var got = KeyHex.Get(Encoding.ASCII.GetBytes(hex));
            if (i % 997 == 0 || i >= KeyHex.Capacity)
            {
                Assert.Equal(hex, got);
            }
        }

        var again = Hex(7);
        Assert.Equal(again, KeyHex.Get(Encoding.ASCII.GetBytes(again)));
        Assert.NotEqual(Hex(8), KeyHex.Get(Encoding.ASCII.GetBytes(again)));
    }
}

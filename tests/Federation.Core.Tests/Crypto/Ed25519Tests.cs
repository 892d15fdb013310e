using Federation.Core.Crypto;

namespace Federation.Core.Tests.Crypto;

public class Ed25519Tests
{
    public static TheoryData<string, string, string, string, string> Rfc8032Vectors()
    {
        var data = new TheoryData<string, string, string, string, string>();
        using var doc = SharedVectors.Load("ed25519-rfc8032.json");
        foreach (var test in doc.RootElement.GetProperty("tests").EnumerateArray())
        {
            data.Add(
                test.GetProperty("name").GetString()!,
                test.GetProperty("secret_key").GetString()!,
                test.GetProperty("public_key").GetString()!,
                test.GetProperty("message").GetString()!,
                test.GetProperty("signature").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Rfc8032Vectors))]
    public void Rfc8032_vectors_derive_the_public_key_and_signature(string name, string secret, string publicKey, string message, string signature)
    {
        using var key = Ed25519PrivateKey.FromSeed(Convert.FromHexString(secret));
        Assert.True(publicKey == key.PublicKey.ToHex(), name);
        Assert.Equal(signature, Convert.ToHexStringLower(key.Sign(Convert.FromHexString(message))));
    }

    [Theory]
    [MemberData(nameof(Rfc8032Vectors))]
    public void Rfc8032_signatures_verify_with_the_published_public_key(string name, string secret, string publicKey, string message, string signature)
    {
        _ = secret;
        var key = Ed25519PublicKey.FromHex(publicKey);
        Assert.True(key.Verify(Convert.FromHexString(message), Convert.FromHexString(signature)), name);
    }

    [Fact]
    public void A_flipped_bit_in_message_signature_or_key_fails_verification()
    {
        using var key = Ed25519PrivateKey.FromSeed(new byte[32]);
        var message = "the epoch 7 aggregate"u8.ToArray();
        var signature = key.Sign(message);
        Assert.True(key.PublicKey.Verify(message, signature));

        for (var bit = 0; bit < message.Length * 8; bit += 7)
        {
            var tampered = (byte[])message.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(key.PublicKey.Verify(tampered, signature), $"message bit {bit}");
        }

        for (var bit = 0; bit < 512; bit += 5)
        {
            var tampered = (byte[])signature.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(key.PublicKey.Verify(message, tampered), $"signature bit {bit}");
        }

        var keyBytes = key.PublicKey.Bytes.ToArray();
        for (var bit = 0; bit < 256; bit += 3)
        {
            var tampered = (byte[])keyBytes.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            Ed25519PublicKey other;
            try
            {
                other = Ed25519PublicKey.FromBytes(tampered);
            }
            catch (FormatException)
            {
                continue; // not even a curve point: refused at import, which is also a failure to verify
            }

            Assert.False(other.Verify(message, signature), $"key bit {bit}");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(63)]
    [InlineData(65)]
    public void A_signature_of_the_wrong_length_is_a_clear_error(int length)
    {
        using var key = Ed25519PrivateKey.FromSeed(new byte[32]);
        var ex = Assert.Throws<FormatException>(() => key.PublicKey.Verify([1, 2, 3], new byte[length]));
        Assert.Contains($"64 bytes, got {length}", ex.Message);
    }

    [Fact]
    public void Public_keys_that_are_not_curve_points_or_have_small_order_are_refused()
    {
        // The identity point (small order) and an off-curve encoding.
        var identity = new byte[32];
        identity[0] = 1;
        Assert.Contains("not a valid Ed25519 point", Assert.Throws<FormatException>(() => Ed25519PublicKey.FromBytes(identity)).Message);
        Assert.Contains("32 bytes, got 31", Assert.Throws<FormatException>(() => Ed25519PublicKey.FromBytes(new byte[31])).Message);
        Assert.Throws<FormatException>(() => Ed25519PublicKey.FromHex(new string('z', 64)));
    }

    [Fact]
    public void Seeds_of_the_wrong_length_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Ed25519PrivateKey.FromSeed(new byte[31]));
    }

    [Fact]
    public void Generated_keys_are_distinct_and_sign_verifiably()
    {
        using var a = Ed25519PrivateKey.Generate();
        using var b = Ed25519PrivateKey.Generate();
        Assert.NotEqual(a.PublicKey, b.PublicKey);
        var signature = a.Sign("m"u8);
        Assert.True(a.PublicKey.Verify("m"u8, signature));
        Assert.False(b.PublicKey.Verify("m"u8, signature));
    }

    [Fact]
    public void A_private_key_never_prints_its_bytes_and_is_unusable_after_dispose()
    {
        var seed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        var key = Ed25519PrivateKey.FromSeed(seed);
        var text = key.ToString();
        Assert.DoesNotContain("9d61b19d", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(key.Fingerprint.ToString(), text);

        key.Dispose();
        Assert.Throws<ObjectDisposedException>(() => key.Sign("m"u8));
        Assert.Throws<ObjectDisposedException>(() => key.ExportSeed());
    }

    [Fact]
    public void Fingerprint_is_the_prefixed_hex_public_key_and_parses_strictly()
    {
        var key = Ed25519PublicKey.FromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        Assert.Equal("ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", key.Fingerprint.ToString());
        Assert.Equal(key, Ed25519PublicKey.FromFingerprint(KeyFingerprint.Parse(key.Fingerprint.ToString())));
        Assert.Equal("d75a9801", key.Fingerprint.Short);

        Assert.Contains("must start with", Assert.Throws<FormatException>(() => KeyFingerprint.Parse("d75a98")).Message);
        Assert.Contains("got 4", Assert.Throws<FormatException>(() => KeyFingerprint.Parse("ed25519:d75a")).Message);
        Assert.Contains("lowercase", Assert.Throws<FormatException>(() => KeyFingerprint.Parse("ed25519:D75A980182B10AB7D54BFED3C964073A0EE172F3DAA62325AF021A68F707511A")).Message);
    }

    [Fact]
    public void Fingerprint_utf8_forms_agree_with_the_string_forms()
    {
        var fingerprint = KeyFingerprint.Parse("ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        var utf8 = new byte[KeyFingerprint.Utf8Length];
        fingerprint.WriteUtf8(utf8);
        Assert.Equal(fingerprint.ToString(), System.Text.Encoding.UTF8.GetString(utf8));
        Assert.True(KeyFingerprint.TryParseUtf8(utf8, out var parsed));
        Assert.Equal(fingerprint, parsed);

        var random = new Random(5);
        for (var i = 0; i < 2000; i++)
        {
            var mutated = (byte[])utf8.Clone();
            mutated[random.Next(mutated.Length)] = (byte)random.Next(32, 127);
            var cut = mutated[..random.Next(mutated.Length - 2, mutated.Length + 1)];
            var text = System.Text.Encoding.UTF8.GetString(cut);
            Assert.Equal(KeyFingerprint.TryParse(text, out var fromString, out _), KeyFingerprint.TryParseUtf8(cut, out var fromBytes));
            Assert.Equal(fromString, fromBytes);
        }
    }
}

using Federation.Core.Crypto;

namespace Federation.Core.Tests.Crypto;

public class KeyPemTests
{
    // RFC 8032 §7.1 TEST 1, wrapped by hand as PKCS#8 (RFC 8410 §7) and SPKI (RFC 8410 §4).
    private const string Seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    private const string PublicHex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    private static string Pem(string label, string derHex) =>
        $"-----BEGIN {label}-----\n{Convert.ToBase64String(Convert.FromHexString(derHex))}\n-----END {label}-----\n";

    private static readonly string Pkcs8 = Pem("PRIVATE KEY", "302e020100300506032b657004220420" + Seed);
    private static readonly string Spki = Pem("PUBLIC KEY", "302a300506032b6570032100" + PublicHex);

    [Fact]
    public void Hand_built_pkcs8_and_spki_import_to_the_rfc8032_key()
    {
        using var key = KeyPem.ImportPrivateKey(Pkcs8);
        Assert.Equal(PublicHex, key.PublicKey.ToHex());
        Assert.Equal(PublicHex, KeyPem.ImportPublicKey(Spki).ToHex());
        Assert.Equal(PublicHex, KeyPem.ImportPublicKey(Pkcs8).ToHex());
    }

    [Fact]
    public void Export_writes_exactly_the_der_openssl_writes()
    {
        using var key = Ed25519PrivateKey.FromSeed(Convert.FromHexString(Seed));
        Assert.Equal(Pkcs8, KeyPem.ExportPrivateKey(key));
        Assert.Equal(Spki, KeyPem.ExportPublicKey(key.PublicKey));
    }

    [Fact]
    public void Pkcs8_v2_with_a_matching_public_key_is_accepted_and_a_mismatching_one_refused()
    {
        // OneAsymmetricKey v2 (RFC 5958): version 1, [1] publicKey.
        var v2 = Pem("PRIVATE KEY", "3051020101300506032b657004220420" + Seed + "812100" + PublicHex);
        using (var key = KeyPem.ImportPrivateKey(v2))
        {
            Assert.Equal(PublicHex, key.PublicKey.ToHex());
        }

        var wrong = Pem("PRIVATE KEY", "3051020101300506032b657004220420" + Seed + "812100" + new string('1', 64));
        Assert.Contains("does not match", Assert.Throws<FormatException>(() => KeyPem.ImportPrivateKey(wrong)).Message);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("not a key", "not a PEM key")]
    [InlineData("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n", "not a PEM key")]
    [InlineData("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n", "encrypted private keys are not supported")]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----\n", "RSA key")]
    [InlineData("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n", "unsupported PEM block \"CERTIFICATE\"")]
    [InlineData("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n", "malformed PKCS#8")]
    public void Malformed_or_foreign_pem_gives_a_clear_error(string pem, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => KeyPem.ImportPrivateKey(pem));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Keys_of_another_algorithm_are_named()
    {
        // X25519 (1.3.101.110) PKCS#8 with the same seed bytes.
        var x25519 = Pem("PRIVATE KEY", "302e020100300506032b656e04220420" + Seed);
        Assert.Contains("X25519 (1.3.101.110), expected Ed25519", Assert.Throws<FormatException>(() => KeyPem.ImportPrivateKey(x25519)).Message);
    }

    [Fact]
    public void A_public_key_is_not_accepted_where_a_private_key_is_needed()
    {
        Assert.Contains("this is a public key", Assert.Throws<FormatException>(() => KeyPem.ImportPrivateKey(Spki)).Message);
    }

    [Fact]
    public void A_truncated_key_is_refused()
    {
        var truncated = Pem("PRIVATE KEY", "302e020100300506032b657004220420" + Seed[..40]);
        Assert.Throws<FormatException>(() => KeyPem.ImportPrivateKey(truncated));
        var shortSpki = Pem("PUBLIC KEY", "3029300506032b6570032000" + PublicHex[..62]);
        Assert.Throws<FormatException>(() => KeyPem.ImportPublicKey(shortSpki));
    }
}

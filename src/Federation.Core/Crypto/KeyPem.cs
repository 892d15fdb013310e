using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Federation.Core.Crypto;

/// <summary>
/// Ed25519 keys as PEM, in the forms OpenSSL writes and reads (RFC 8410):
/// PKCS#8 <c>PRIVATE KEY</c> (RFC 5958) and SubjectPublicKeyInfo <c>PUBLIC KEY</c> (RFC 5280).
/// </summary>
public static class KeyPem
{
    public const string PrivateKeyLabel = "PRIVATE KEY";
    public const string PublicKeyLabel = "PUBLIC KEY";

    /// <summary>id-Ed25519, RFC 8410 §3.</summary>
    public const string Ed25519Oid = "1.3.101.112";

    private static readonly Dictionary<string, string> KnownAlgorithms = new(StringComparer.Ordinal)
    {
        ["1.2.840.113549.1.1.1"] = "RSA",
        ["1.2.840.10045.2.1"] = "EC (ECDSA)",
        ["1.3.101.110"] = "X25519",
        ["1.3.101.111"] = "X448",
        ["1.3.101.113"] = "Ed448",
        ["1.2.840.10040.4.1"] = "DSA",
    };

    public static string ExportPrivateKey(Ed25519PrivateKey key)
    {
        var seed = key.ExportSeed();
        try
        {
            var writer = new AsnWriter(AsnEncodingRules.DER);
            using (writer.PushSequence())
            {
                writer.WriteInteger(0);
                WriteAlgorithm(writer);
                var inner = new AsnWriter(AsnEncodingRules.DER);
                inner.WriteOctetString(seed);
                writer.WriteOctetString(inner.Encode());
            }

            return PemEncoding.WriteString(PrivateKeyLabel, writer.Encode()) + "\n";
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    public static string ExportPublicKey(Ed25519PublicKey key)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            WriteAlgorithm(writer);
            writer.WriteBitString(key.Bytes);
        }

        return PemEncoding.WriteString(PublicKeyLabel, writer.Encode()) + "\n";
    }

    /// <summary>Reads a private key PEM (PKCS#8).</summary>
    public static Ed25519PrivateKey ImportPrivateKey(string pem)
    {
        var (label, der) = FindPem(pem);
        return label switch
        {
            PrivateKeyLabel => ReadPkcs8(der),
            PublicKeyLabel => throw new FormatException("this is a public key (PUBLIC KEY); a private key (PRIVATE KEY) is needed"),
            _ => throw UnsupportedLabel(label),
        };
    }

    /// <summary>Reads a public key PEM, or derives the public key from a private key PEM.</summary>
    public static Ed25519PublicKey ImportPublicKey(string pem)
    {
        var (label, der) = FindPem(pem);
        switch (label)
        {
            case PublicKeyLabel:
                return ReadSpki(der);
            case PrivateKeyLabel:
                using (var key = ReadPkcs8(der))
                {
                    return key.PublicKey;
                }

            default:
                throw UnsupportedLabel(label);
        }
    }

    private static (string Label, byte[] Der) FindPem(string pem)
    {
        if (string.IsNullOrWhiteSpace(pem))
        {
            throw new FormatException("the key file is empty");
        }

        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new FormatException("not a PEM key: expected a \"-----BEGIN PRIVATE KEY-----\" or \"-----BEGIN PUBLIC KEY-----\" block with valid base64");
        }

        var label = pem[fields.Label];
        var der = new byte[fields.DecodedDataLength];
        if (!Convert.TryFromBase64Chars(pem.AsSpan()[fields.Base64Data], der, out var written) || written != der.Length)
        {
            throw new FormatException($"the {label} block's base64 does not decode");
        }

        return (label, der);
    }

    private static Exception UnsupportedLabel(string label) => label switch
    {
        "ENCRYPTED PRIVATE KEY" => new FormatException("encrypted private keys are not supported: decrypt it first, e.g. `openssl pkey -in KEY -out PLAIN`"),
        "RSA PRIVATE KEY" or "RSA PUBLIC KEY" => new FormatException($"this is an RSA key ({label}); an Ed25519 key is needed"),
        "EC PRIVATE KEY" => new FormatException("this is an EC key (EC PRIVATE KEY); an Ed25519 key is needed"),
        "OPENSSH PRIVATE KEY" => new FormatException("OpenSSH key format is not supported: convert it with `ssh-keygen -p -m PKCS8 -f KEY`"),
        _ => new FormatException($"unsupported PEM block \"{label}\": expected PRIVATE KEY or PUBLIC KEY"),
    };

    private static void WriteAlgorithm(AsnWriter writer)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(Ed25519Oid);
        }
    }

    private static void ReadAlgorithm(AsnReader outer)
    {
        var algorithm = outer.ReadSequence();
        var oid = algorithm.ReadObjectIdentifier();
        if (oid != Ed25519Oid)
        {
            var name = KnownAlgorithms.TryGetValue(oid, out var known) ? $"{known} ({oid})" : oid;
            throw new FormatException($"wrong key type: the key is {name}, expected Ed25519 ({Ed25519Oid})");
        }

        if (algorithm.HasData)
        {
            throw new FormatException("Ed25519 AlgorithmIdentifier must have no parameters (RFC 8410 §3)");
        }
    }

    private static Ed25519PrivateKey ReadPkcs8(byte[] der)
    {
        byte[]? seed = null;
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var info = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var version = info.ReadInteger();
            if (version != 0 && version != 1)
            {
                throw new FormatException($"unsupported PKCS#8 version {version}");
            }

            ReadAlgorithm(info);
            var curvePrivateKey = new AsnReader(info.ReadOctetString(), AsnEncodingRules.DER);
            seed = curvePrivateKey.ReadOctetString();
            curvePrivateKey.ThrowIfNotEmpty();
            if (seed.Length != Ed25519PrivateKey.SeedSize)
            {
                throw new FormatException($"an Ed25519 private key is {Ed25519PrivateKey.SeedSize} bytes, got {seed.Length}");
            }

            var key = Ed25519PrivateKey.FromSeed(seed);
            CheckEmbeddedPublicKey(info, key);
            return key;
        }
        catch (AsnContentException ex)
        {
            throw new FormatException($"malformed PKCS#8 private key: {ex.Message}", ex);
        }
        finally
        {
            if (seed is not null)
            {
                CryptographicOperations.ZeroMemory(seed);
            }
        }
    }

    /// <summary>RFC 5958 v2 keys may carry the public key; it must match the one the seed gives.</summary>
    private static void CheckEmbeddedPublicKey(AsnReader info, Ed25519PrivateKey key)
    {
        var attributes = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
        if (info.HasData && info.PeekTag().HasSameClassAndValue(attributes))
        {
            info.ReadEncodedValue();
        }

        var publicKeyTag = new Asn1Tag(TagClass.ContextSpecific, 1);
        if (info.HasData && info.PeekTag().HasSameClassAndValue(publicKeyTag))
        {
            var embedded = info.ReadBitString(out _, publicKeyTag);
            if (!embedded.AsSpan().SequenceEqual(key.PublicKey.Bytes))
            {
                key.Dispose();
                throw new FormatException("the private key's embedded public key does not match its seed");
            }
        }

        info.ThrowIfNotEmpty();
    }

    private static Ed25519PublicKey ReadSpki(byte[] der)
    {
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var spki = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            ReadAlgorithm(spki);
            var bits = spki.ReadBitString(out var unused);
            spki.ThrowIfNotEmpty();
            if (unused != 0)
            {
                throw new FormatException("malformed public key: the BIT STRING has unused bits");
            }

            return Ed25519PublicKey.FromBytes(bits);
        }
        catch (AsnContentException ex)
        {
            throw new FormatException($"malformed public key: {ex.Message}", ex);
        }
    }
}

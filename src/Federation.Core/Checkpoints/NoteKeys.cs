using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Federation.Core.Crypto;

namespace Federation.Core.Checkpoints;

/// <summary>Key names and key IDs of C2SP signed notes (c2sp.org/signed-note), Ed25519 only.</summary>
public static class NoteKeyId
{
    /// <summary>Signature type byte for Ed25519 (signed-note, "Signature types").</summary>
    public const byte Ed25519Type = 0x01;

    /// <summary>key ID = SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[:4], big-endian.</summary>
    public static uint Compute(string name, Ed25519PublicKey key)
    {
        ValidateName(name);
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[nameBytes.Length + 2 + Ed25519PublicKey.Size];
        nameBytes.CopyTo(input, 0);
        input[nameBytes.Length] = 0x0A;
        input[nameBytes.Length + 1] = Ed25519Type;
        key.Bytes.CopyTo(input.AsSpan(nameBytes.Length + 2));
        return BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(input));
    }

    /// <summary>Key names are non-empty and contain no Unicode spaces and no '+'.</summary>
    public static void ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new FormatException("a note key name must not be empty");
        }

        foreach (var rune in name.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune) || rune.Value == '+' || Rune.IsControl(rune))
            {
                throw new FormatException($"note key name \"{name}\" must not contain spaces, control characters or '+'");
            }
        }
    }
}

/// <summary>
/// A verifier key in the <c>name+&lt;8 hex key id&gt;+&lt;base64(0x01 ‖ public key)&gt;</c> form used by
/// golang.org/x/mod/sumdb/note and the transparency-dev tools.
/// </summary>
public sealed record NoteVerifierKey(string Name, uint KeyId, Ed25519PublicKey PublicKey)
{
    public static NoteVerifierKey For(string name, Ed25519PublicKey key) => new(name, NoteKeyId.Compute(name, key), key);

    public static NoteVerifierKey Parse(string text)
    {
        var parts = text.Split('+', 3);
        if (parts.Length != 3)
        {
            throw new FormatException($"verifier key \"{text}\" must be name+<8 hex key id>+<base64 key>");
        }

        var (name, idHex, keyBase64) = (parts[0], parts[1], parts[2]);
        NoteKeyId.ValidateName(name);
        if (idHex.Length != 8 || !uint.TryParse(idHex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var id) || idHex != idHex.ToLowerInvariant())
        {
            throw new FormatException($"verifier key \"{text}\": the key id must be 8 lowercase hex digits");
        }

        byte[] material;
        try
        {
            material = Convert.FromBase64String(keyBase64);
        }
        catch (FormatException)
        {
            throw new FormatException($"verifier key \"{text}\": the key is not valid base64");
        }

        if (material.Length != 1 + Ed25519PublicKey.Size || material[0] != NoteKeyId.Ed25519Type)
        {
            throw new FormatException($"verifier key \"{text}\": expected 0x01 (Ed25519) followed by a 32-byte key");
        }

        var key = Ed25519PublicKey.FromBytes(material.AsSpan(1));
        var expected = NoteKeyId.Compute(name, key);
        if (expected != id)
        {
            throw new FormatException($"verifier key \"{text}\": key id {id:x8} does not match the name and key (expected {expected:x8})");
        }

        return new NoteVerifierKey(name, id, key);
    }

    public override string ToString() =>
        $"{Name}+{KeyId:x8}+{Convert.ToBase64String([NoteKeyId.Ed25519Type, .. PublicKey.Bytes])}";
}

/// <summary>Signs note texts under a key name. Does not own the private key.</summary>
public sealed class NoteSigner
{
    private readonly Ed25519PrivateKey _key;

    public NoteSigner(string name, Ed25519PrivateKey key)
    {
        NoteKeyId.ValidateName(name);
        Name = name;
        _key = key;
        KeyId = NoteKeyId.Compute(name, key.PublicKey);
    }

    public string Name { get; }

    public uint KeyId { get; }

    public NoteVerifierKey VerifierKey => new(Name, KeyId, _key.PublicKey);

    /// <summary>The same key under another name (a scroll's next origin generation).</summary>
    public NoteSigner WithName(string name) => new(name, _key);

    /// <summary>base64(4-byte key ID ‖ 64-byte Ed25519 signature of the note text).</summary>
    public string Sign(ReadOnlySpan<byte> text)
    {
        var blob = new byte[4 + Ed25519PublicKey.SignatureSize];
        BinaryPrimitives.WriteUInt32BigEndian(blob, KeyId);
        _key.Sign(text, blob.AsSpan(4));
        return Convert.ToBase64String(blob);
    }
}

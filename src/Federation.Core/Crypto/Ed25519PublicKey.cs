using System.Buffers.Binary;
using System.Collections.Concurrent;
using NSec.Cryptography;

namespace Federation.Core.Crypto;

/// <summary>An Ed25519 public key: 32 bytes, checked to be a valid curve point of large order.</summary>
public sealed class Ed25519PublicKey : IEquatable<Ed25519PublicKey>
{
    public const int Size = 32;
    public const int SignatureSize = 64;

    /// <summary>
    /// How many checked keys <see cref="FromBytes"/> remembers (a few hundred bytes each). Past it the table starts
    /// over: nothing is lost but the saving.
    /// </summary>
    internal const int CheckedKeysCapacity = 1 << 15;

    // Keys that passed the point check. It costs a scalar multiplication by L (tens of µs, more than a verify), and
    // keys are imported again and again: every validator re-imports each update's key every epoch, handshakes and
    // heartbeats import theirs. A federation's keys are few beside its messages, so each is checked once. Only
    // accepted keys are kept; a refused one is checked (and refused) every time.
    private static readonly ConcurrentDictionary<RawKey, Ed25519PublicKey> s_checked = new();

    private readonly byte[] _bytes;

    // NSec's form of the same key, imported once so that a verify allocates nothing.
    private readonly PublicKey _key;

    private Ed25519PublicKey(byte[] bytes, PublicKey key)
    {
        _bytes = bytes;
        _key = key;
        Fingerprint = new KeyFingerprint(Convert.ToHexStringLower(bytes));
    }

    public KeyFingerprint Fingerprint { get; }

    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>
    /// Imports 32 raw bytes, refusing anything that is not a usable Ed25519 point: NSec's import does not look,
    /// so <see cref="Ed25519PointCheck"/> does (canonical, on the curve, not of small order, in the prime-order
    /// subgroup), once per key (see <see cref="CheckedKeysCapacity"/>).
    /// </summary>
    public static Ed25519PublicKey FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new FormatException($"an Ed25519 public key is {Size} bytes, got {bytes.Length}");
        }

        var raw = RawKey.From(bytes);
        if (s_checked.TryGetValue(raw, out var known))
        {
            return known;
        }

        if (!Ed25519PointCheck.IsValid(bytes))
        {
            // The words libsodium's crypto_core_ed25519_is_valid_point earned here; refusals quote them.
            throw new FormatException("the public key is not a valid Ed25519 point (off the curve, or of small order)");
        }

        if (s_checked.Count >= CheckedKeysCapacity)
        {
            s_checked.Clear();
        }

        var key = new Ed25519PublicKey(bytes.ToArray(), PublicKey.Import(Ed25519Algorithm.Instance, bytes, KeyBlobFormat.RawPublicKey));
        return s_checked.GetOrAdd(raw, key);
    }

    /// <summary>The public half of a key NSec derived from a seed; no point check needed.</summary>
    internal static Ed25519PublicKey FromDerived(PublicKey key) => new(key.Export(KeyBlobFormat.RawPublicKey), key);

    /// <summary>Parses 64 lowercase hex digits (the form used in signature blocks and plans).</summary>
    public static Ed25519PublicKey FromHex(string hex)
    {
        if (hex.Length != Size * 2)
        {
            throw new FormatException($"an Ed25519 public key is {Size * 2} hex digits, got {hex.Length}");
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw new FormatException($"public key \"{hex}\" is not hex");
        }

        return FromBytes(bytes);
    }

    /// <summary>The public key a fingerprint names (a fingerprint is the key itself).</summary>
    public static Ed25519PublicKey FromFingerprint(KeyFingerprint fingerprint) => FromHex(fingerprint.Hex);

    /// <summary>
    /// True when <paramref name="signature"/> is a valid Ed25519 signature of <paramref name="message"/>
    /// by this key (libsodium's verification through NSec, which rejects non-canonical encodings: S ≥ L, a
    /// small-order R).
    /// </summary>
    /// <exception cref="FormatException">The signature is not 64 bytes.</exception>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != SignatureSize)
        {
            throw new FormatException($"an Ed25519 signature is {SignatureSize} bytes, got {signature.Length}");
        }

        return Ed25519Algorithm.Instance.Verify(_key, message, signature);
    }

    public string ToHex() => Fingerprint.Hex;

    public bool Equals(Ed25519PublicKey? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => Equals(obj as Ed25519PublicKey);

    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);

    public override string ToString() => Fingerprint.ToString();

    /// <summary>The 32 bytes as a value, to key the table of checked keys (hashed with the process's random seed).</summary>
    private readonly record struct RawKey(ulong W0, ulong W1, ulong W2, ulong W3)
    {
        public static RawKey From(ReadOnlySpan<byte> bytes) => new(
            BinaryPrimitives.ReadUInt64LittleEndian(bytes),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]));

        public override int GetHashCode() => HashCode.Combine(W0, W1, W2, W3);
    }
}

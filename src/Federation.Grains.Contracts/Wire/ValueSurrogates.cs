using System.Buffers.Binary;
using Federation.Core.Crypto;
using Federation.Core.Hashing;

namespace Federation.Grains.Wire;

// Federation.Core knows nothing of Orleans (it is the pure domain): its types cross grain boundaries through the
// surrogates declared here. A surrogate's [Id]s are the wire form of the Core type (docs/formats/wire-types.md).

/// <summary>A <see cref="Sha256Digest"/> on the wire: its 32 bytes as four big-endian words (fixed 8-byte fields, no array).</summary>
[GenerateSerializer, Immutable]
public readonly record struct Sha256DigestSurrogate([property: Id(0)] ulong A, [property: Id(1)] ulong B, [property: Id(2)] ulong C, [property: Id(3)] ulong D);

[RegisterConverter]
public sealed class Sha256DigestConverter : IConverter<Sha256Digest, Sha256DigestSurrogate>
{
    public Sha256Digest ConvertFromSurrogate(in Sha256DigestSurrogate surrogate)
    {
        Span<byte> bytes = stackalloc byte[Sha256Digest.Size];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, surrogate.A);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], surrogate.B);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[16..], surrogate.C);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[24..], surrogate.D);
        return new Sha256Digest(bytes);
    }

    public Sha256DigestSurrogate ConvertToSurrogate(in Sha256Digest value)
    {
        Span<byte> bytes = stackalloc byte[Sha256Digest.Size];
        value.CopyTo(bytes);
        return new Sha256DigestSurrogate(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]));
    }
}

/// <summary>A <see cref="KeyFingerprint"/> on the wire: the 64 lowercase hex digits of the key (null for the default value), parsed strictly on arrival.</summary>
[GenerateSerializer, Immutable]
public readonly record struct KeyFingerprintSurrogate([property: Id(0)] string? Hex);

[RegisterConverter]
public sealed class KeyFingerprintConverter : IConverter<KeyFingerprint, KeyFingerprintSurrogate>
{
    public KeyFingerprint ConvertFromSurrogate(in KeyFingerprintSurrogate surrogate) =>
        surrogate.Hex is null ? default : KeyFingerprint.Parse(KeyFingerprint.Prefix + surrogate.Hex);

    public KeyFingerprintSurrogate ConvertToSurrogate(in KeyFingerprint value) => new(value.Hex);
}

using System.Buffers.Binary;
using System.Numerics;

namespace Federation.Core.Crypto;

/// <summary>
/// An element of GF(p), p = 2^255 - 19 (RFC 8032 §5.1), for <see cref="Ed25519PointCheck"/>: five 51-bit limbs,
/// value = l0 + l1·2^51 + l2·2^102 + l3·2^153 + l4·2^204. Every operation returns limbs carried below 2^51 (the lowest below 2^51 + 2^18),
/// so products of two elements fit in <see cref="UInt128"/>. Values need not be reduced below p; comparisons and
/// encodings reduce. Not constant time: it only ever handles public keys.
/// </summary>
internal readonly struct Field25519 : IEquatable<Field25519>
{
    private const ulong Mask = (1UL << 51) - 1;

    private readonly ulong _l0, _l1, _l2, _l3, _l4;

    private Field25519(ulong l0, ulong l1, ulong l2, ulong l3, ulong l4)
    {
        _l0 = l0;
        _l1 = l1;
        _l2 = l2;
        _l3 = l3;
        _l4 = l4;
    }

    public static Field25519 Zero => default;

    public static Field25519 One => new(1, 0, 0, 0, 0);

    /// <summary>The 255-bit little-endian integer in <paramref name="bytes"/> (32 bytes), bit 255 ignored (RFC 8032 §5.1.2).</summary>
    public static Field25519 FromBytes(ReadOnlySpan<byte> bytes)
    {
        var w0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var w1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        var w2 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]);
        var w3 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]);
        return new(
            w0 & Mask,
            ((w0 >> 51) | (w1 << 13)) & Mask,
            ((w1 >> 38) | (w2 << 26)) & Mask,
            ((w2 >> 25) | (w3 << 39)) & Mask,
            (w3 >> 12) & Mask);
    }

    /// <summary><paramref name="value"/> mod p; for deriving the curve constants from their definitions.</summary>
    public static Field25519 FromInteger(BigInteger value)
    {
        var p = (BigInteger.One << 255) - 19;
        Span<byte> bytes = stackalloc byte[32];
        (((value % p) + p) % p).TryWriteBytes(bytes, out _, isUnsigned: true);
        return FromBytes(bytes);
    }

    /// <summary>The canonical encoding: the value reduced below p, 32 bytes little-endian, bit 255 clear.</summary>
    public void WriteBytes(Span<byte> destination)
    {
        var (l0, l1, l2, l3, l4) = Reduced();
        BinaryPrimitives.WriteUInt64LittleEndian(destination, l0 | (l1 << 51));
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], (l1 >> 13) | (l2 << 38));
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], (l2 >> 26) | (l3 << 25));
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], (l3 >> 39) | (l4 << 12));
    }

    public bool IsZero => Equals(Zero);

    /// <summary>"Negative" in RFC 8032's sense: the reduced value is odd (§5.1.2, the sign bit of x).</summary>
    public bool IsOdd => (Reduced().L0 & 1) == 1;

    public static Field25519 operator +(in Field25519 a, in Field25519 b) =>
        Carry(a._l0 + b._l0, a._l1 + b._l1, a._l2 + b._l2, a._l3 + b._l3, a._l4 + b._l4);

    /// <summary>a - b computed as a + 2p - b, which stays non-negative for carried limbs.</summary>
    public static Field25519 operator -(in Field25519 a, in Field25519 b) =>
        Carry(
            a._l0 + 0xFFFFFFFFFFFDA - b._l0,
            a._l1 + 0xFFFFFFFFFFFFE - b._l1,
            a._l2 + 0xFFFFFFFFFFFFE - b._l2,
            a._l3 + 0xFFFFFFFFFFFFE - b._l3,
            a._l4 + 0xFFFFFFFFFFFFE - b._l4);

    public static Field25519 operator -(in Field25519 a) => Zero - a;

    /// <summary>Schoolbook multiplication; limbs past 2^255 fold back multiplied by 19 (2^255 ≡ 19 mod p).</summary>
    public static Field25519 operator *(in Field25519 a, in Field25519 b)
    {
        ulong b1x19 = b._l1 * 19, b2x19 = b._l2 * 19, b3x19 = b._l3 * 19, b4x19 = b._l4 * 19;
        var r0 = Math.BigMul(a._l0, b._l0) + Math.BigMul(a._l1, b4x19) + Math.BigMul(a._l2, b3x19) + Math.BigMul(a._l3, b2x19) + Math.BigMul(a._l4, b1x19);
        var r1 = Math.BigMul(a._l0, b._l1) + Math.BigMul(a._l1, b._l0) + Math.BigMul(a._l2, b4x19) + Math.BigMul(a._l3, b3x19) + Math.BigMul(a._l4, b2x19);
        var r2 = Math.BigMul(a._l0, b._l2) + Math.BigMul(a._l1, b._l1) + Math.BigMul(a._l2, b._l0) + Math.BigMul(a._l3, b4x19) + Math.BigMul(a._l4, b3x19);
        var r3 = Math.BigMul(a._l0, b._l3) + Math.BigMul(a._l1, b._l2) + Math.BigMul(a._l2, b._l1) + Math.BigMul(a._l3, b._l0) + Math.BigMul(a._l4, b4x19);
        var r4 = Math.BigMul(a._l0, b._l4) + Math.BigMul(a._l1, b._l3) + Math.BigMul(a._l2, b._l2) + Math.BigMul(a._l3, b._l1) + Math.BigMul(a._l4, b._l0);

        return Carry(r0, r1, r2, r3, r4);
    }

    /// <summary>this · this with the 10 cross products counted once and doubled (15 products instead of 25).</summary>
    public Field25519 Square()
    {
        ulong a0 = _l0, a1 = _l1, a2 = _l2, a3 = _l3, a4 = _l4;
        ulong a0x2 = a0 * 2, a1x2 = a1 * 2, a1x38 = a1 * 38, a2x38 = a2 * 38, a3x19 = a3 * 19, a3x38 = a3 * 38, a4x19 = a4 * 19;
        var r0 = Math.BigMul(a0, a0) + Math.BigMul(a1x38, a4) + Math.BigMul(a2x38, a3);
        var r1 = Math.BigMul(a0x2, a1) + Math.BigMul(a2x38, a4) + Math.BigMul(a3x19, a3);
        var r2 = Math.BigMul(a0x2, a2) + Math.BigMul(a1, a1) + Math.BigMul(a3x38, a4);
        var r3 = Math.BigMul(a0x2, a3) + Math.BigMul(a1x2, a2) + Math.BigMul(a4x19, a4);
        var r4 = Math.BigMul(a0x2, a4) + Math.BigMul(a1x2, a3) + Math.BigMul(a2, a2);
        return Carry(r0, r1, r2, r3, r4);
    }

    /// <summary>this squared <paramref name="times"/> times: this^(2^times).</summary>
    public Field25519 SquareTimes(int times)
    {
        var result = this;
        for (var i = 0; i < times; i++)
        {
            result = result.Square();
        }

        return result;
    }

    /// <summary>
    /// this^((p-5)/8) = this^(2^252 - 3), the exponent of the square root in RFC 8032 §5.1.3 step 2, by the
    /// addition chain of ref10's <c>fe_pow22523</c>: 252 squarings and 11 multiplications.
    /// </summary>
    public Field25519 PowP58()
    {
        var z2 = Square();
        var z9 = z2.SquareTimes(2) * this;
        var z11 = z9 * z2;
        var z2to5minus1 = z11.Square() * z9;
        var z2to10minus1 = z2to5minus1.SquareTimes(5) * z2to5minus1;
        var z2to20minus1 = z2to10minus1.SquareTimes(10) * z2to10minus1;
        var z2to40minus1 = z2to20minus1.SquareTimes(20) * z2to20minus1;
        var z2to50minus1 = z2to40minus1.SquareTimes(10) * z2to10minus1;
        var z2to100minus1 = z2to50minus1.SquareTimes(50) * z2to50minus1;
        var z2to200minus1 = z2to100minus1.SquareTimes(100) * z2to100minus1;
        var z2to250minus1 = z2to200minus1.SquareTimes(50) * z2to50minus1;

        // (2^250 - 1) · 4 + 1 = 2^252 - 3.
        return z2to250minus1.SquareTimes(2) * this;
    }

    public bool Equals(Field25519 other) => Reduced() == other.Reduced();

    public override bool Equals(object? obj) => obj is Field25519 other && Equals(other);

    public override int GetHashCode() => Reduced().GetHashCode();

    public static bool operator ==(Field25519 a, Field25519 b) => a.Equals(b);

    public static bool operator !=(Field25519 a, Field25519 b) => !a.Equals(b);

    /// <summary>Five limb sums, each below 2^110: the bits from 51 up of each carry into the next limb.</summary>
    private static Field25519 Carry(UInt128 r0, UInt128 r1, UInt128 r2, UInt128 r3, UInt128 r4)
    {
        r1 += r0 >> 51;
        r2 += r1 >> 51;
        r3 += r2 >> 51;
        r4 += r3 >> 51;
        var l0 = ((ulong)r0 & Mask) + ((ulong)(r4 >> 51) * 19);
        return Carry(l0, (ulong)r1 & Mask, (ulong)r2 & Mask, (ulong)r3 & Mask, (ulong)r4 & Mask);
    }

    private static Field25519 Carry(ulong l0, ulong l1, ulong l2, ulong l3, ulong l4)
    {
        l1 += l0 >> 51;
        l0 &= Mask;
        l2 += l1 >> 51;
        l1 &= Mask;
        l3 += l2 >> 51;
        l2 &= Mask;
        l4 += l3 >> 51;
        l3 &= Mask;
        l0 += (l4 >> 51) * 19;
        l4 &= Mask;
        return new(l0, l1, l2, l3, l4);
    }

    /// <summary>The limbs of the value reduced below p: subtract p once when value + 19 reaches 2^255.</summary>
    private (ulong L0, ulong L1, ulong L2, ulong L3, ulong L4) Reduced()
    {
        var f = Carry(_l0, _l1, _l2, _l3, _l4);
        var q = (f._l0 + 19) >> 51;
        q = (f._l1 + q) >> 51;
        q = (f._l2 + q) >> 51;
        q = (f._l3 + q) >> 51;
        q = (f._l4 + q) >> 51;

        var l0 = f._l0 + (19 * q);
        var l1 = f._l1 + (l0 >> 51);
        l0 &= Mask;
        var l2 = f._l2 + (l1 >> 51);
        l1 &= Mask;
        var l3 = f._l3 + (l2 >> 51);
        l2 &= Mask;
        var l4 = f._l4 + (l3 >> 51);
        l3 &= Mask;
        l4 &= Mask;
        return (l0, l1, l2, l3, l4);
    }
}

using System.Globalization;
using System.Numerics;

namespace Federation.Core.Crypto;

/// <summary>Why a 32-byte string is, or is not, a usable Ed25519 public key.</summary>
internal enum Ed25519PointStatus
{
    /// <summary>A canonical encoding of a point of the prime-order subgroup, other than the identity.</summary>
    Valid,

    /// <summary>The y coordinate is p or more (RFC 8032 §5.1.3 step 1).</summary>
    NonCanonical,

    /// <summary>No x satisfies the curve equation for this y (RFC 8032 §5.1.3 step 3).</summary>
    NotOnCurve,

    /// <summary>x is 0 but its sign bit is set (RFC 8032 §5.1.3 step 4).</summary>
    NegativeZero,

    /// <summary>One of the eight points of order 1, 2, 4 or 8; a signature by it says nothing about a signer.</summary>
    SmallOrder,

    /// <summary>A point with a torsion component: outside the subgroup of order L.</summary>
    OutsidePrimeOrderSubgroup,
}

/// <summary>
/// The public-key check libsodium's <c>crypto_core_ed25519_is_valid_point</c> made for us, in managed code:
/// NSec's <c>PublicKey.Import</c> copies the 32 bytes without looking at them (it binds no point check), and
/// libsodium's verify refuses non-canonical and small-order keys but not keys with a torsion component, whose
/// signatures it accepts whenever the hash is a multiple of 8. A key passes when its encoding is canonical, it
/// decodes (RFC 8032 §5.1.3), it is not of small order, and [L]A is the identity — libsodium's answer on every
/// input of the recorded comparison (tests, Vectors/ed25519-libsodium-valid-points.txt).
/// </summary>
/// <remarks>
/// The cost is the multiplication by L (253 doublings) and one exponentiation, on <see cref="Field25519"/>'s
/// 51-bit limbs: about 2.5 times libsodium's own check on the same machine, so <see cref="Ed25519PublicKey"/>
/// remembers the keys that passed. The key is public data: no constant time is needed.
/// </remarks>
internal static class Ed25519PointCheck
{
    /// <summary>p = 2^255 - 19, RFC 8032 §5.1.</summary>
    private static readonly BigInteger P = (BigInteger.One << 255) - 19;

    /// <summary>d = -121665/121666 mod p, RFC 8032 §5.1.</summary>
    private static readonly Field25519 D = Field25519.FromInteger(-121665 * BigInteger.ModPow(121666, P - 2, P));

    private static readonly Field25519 TwoD = D + D;

    /// <summary>sqrt(-1) = 2^((p-1)/4) mod p, used in RFC 8032 §5.1.3 step 3.</summary>
    private static readonly Field25519 SqrtMinusOne = Field25519.FromInteger(BigInteger.ModPow(2, (P - 1) / 4, P));

    /// <summary>The window of <see cref="LDigits"/>: 2^(5-2) = 8 precomputed odd multiples of the point.</summary>
    private const int DigitWidth = 5;

    /// <summary>
    /// L = 2^252 + 27742317777372353535851937790883648493, the order of the base point (RFC 8032 §5.1), as its
    /// width-5 non-adjacent form: 253 digits, 23 of them non-zero.
    /// </summary>
    private static readonly sbyte[] LDigits = NonAdjacentForm((BigInteger.One << 252) + BigInteger.Parse("27742317777372353535851937790883648493", CultureInfo.InvariantCulture));

    /// <summary>
    /// The encodings of the eight points of small order, as libsodium's <c>ge25519_has_small_order</c> lists them
    /// (compared without the sign bit, so both signs of x are covered): canonical y = 0 (order 4), 1 (order 1),
    /// the two y of the points of order 8, p - 1 (order 2), and the non-canonical p (= 0) and p + 1 (= 1), which
    /// the canonical check refuses first here but which stay listed so the table is libsodium's, whole.
    /// </summary>
    public static IReadOnlyList<string> SmallOrderEncodings { get; } =
    [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ];

    private static readonly byte[][] SmallOrderBytes = [.. SmallOrderEncodings.Select(Convert.FromHexString)];

    /// <summary>True when <paramref name="encoded"/> (32 bytes) is a usable Ed25519 public key.</summary>
    public static bool IsValid(ReadOnlySpan<byte> encoded) => Check(encoded) == Ed25519PointStatus.Valid;

    /// <summary>
    /// Classifies a 32-byte public key encoding: RFC 8032 §5.1.3 decoding first (which also refuses x = 0 with the
    /// sign bit set, a case libsodium lets through to its small-order list), then small order, then the subgroup.
    /// </summary>
    public static Ed25519PointStatus Check(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length != Ed25519PublicKey.Size)
        {
            throw new ArgumentException($"an Ed25519 point is {Ed25519PublicKey.Size} bytes, got {encoded.Length}", nameof(encoded));
        }

        // RFC 8032 §5.1.3 step 1: bit 255 is the sign of x, the rest is y, which must be less than p: reduced
        // and encoded again, it must come back the same.
        var signOfX = (encoded[31] & 0x80) != 0;
        Span<byte> yBytes = stackalloc byte[Ed25519PublicKey.Size];
        encoded.CopyTo(yBytes);
        yBytes[31] &= 0x7f;
        var y = Field25519.FromBytes(yBytes);
        Span<byte> canonical = stackalloc byte[Ed25519PublicKey.Size];
        y.WriteBytes(canonical);
        if (!canonical.SequenceEqual(yBytes))
        {
            return Ed25519PointStatus.NonCanonical;
        }

        if (!TryRecoverX(y, signOfX, out var x, out var status))
        {
            return status;
        }

        if (HasSmallOrder(yBytes))
        {
            return Ed25519PointStatus.SmallOrder;
        }

        var point = new ExtendedPoint(x, y, Field25519.One, x * y);
        return IsInPrimeOrderSubgroup(point) ? Ed25519PointStatus.Valid : Ed25519PointStatus.OutsidePrimeOrderSubgroup;
    }

    /// <summary>libsodium's <c>ge25519_has_small_order</c>: the y bytes (sign bit cleared) against the list.</summary>
    private static bool HasSmallOrder(ReadOnlySpan<byte> yBytes)
    {
        foreach (var small in SmallOrderBytes)
        {
            if (yBytes.SequenceEqual(small))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>RFC 8032 §5.1.3 steps 2–4: x from y and the sign bit.</summary>
    private static bool TryRecoverX(Field25519 y, bool signOfX, out Field25519 x, out Ed25519PointStatus failure)
    {
        // Step 2: x^2 = u/v with u = y^2 - 1, v = d y^2 + 1; the candidate root is x = u v^3 (u v^7)^((p-5)/8).
        var y2 = y.Square();
        var u = y2 - Field25519.One;
        var v = (D * y2) + Field25519.One;
        var v3 = v.Square() * v;
        var v7 = v3.Square() * v;
        x = u * v3 * (u * v7).PowP58();

        // Step 3: x is a root, or x * sqrt(-1) is, or u/v is not a square and y is not on the curve.
        var vx2 = v * x.Square();
        if (vx2 != u)
        {
            if (vx2 != -u)
            {
                failure = Ed25519PointStatus.NotOnCurve;
                return false;
            }

            x *= SqrtMinusOne;
        }

        // Step 4: x = 0 has no negative; otherwise pick the root whose parity is the sign bit.
        if (x.IsZero && signOfX)
        {
            failure = Ed25519PointStatus.NegativeZero;
            return false;
        }

        if (x.IsOdd != signOfX)
        {
            x = -x;
        }

        failure = Ed25519PointStatus.Valid;
        return true;
    }

    /// <summary>
    /// True when [L]A is the identity. [L]A by the signed digits of <see cref="LDigits"/> from the top: a doubling per
    /// digit (253), and an addition of a precomputed odd multiple ±A, ±3A, …, ±15A per non-zero digit (23). The
    /// formulas (ref10's, RFC 8032 §5.1.4's in other coordinates) are complete: no special cases.
    /// </summary>
    private static bool IsInPrimeOrderSubgroup(in ExtendedPoint a)
    {
        // multiples[i] = (2i + 1)A.
        Span<CachedPoint> multiples = stackalloc CachedPoint[1 << (DigitWidth - 2)];
        var twice = a.ToProjective().Double().ToExtended().ToCached();
        var multiple = a;
        multiples[0] = a.ToCached();
        for (var i = 1; i < multiples.Length; i++)
        {
            multiple = multiple.Add(twice).ToExtended();
            multiples[i] = multiple.ToCached();
        }

        var result = ProjectivePoint.Identity;
        for (var i = LDigits.Length - 1; i >= 0; i--)
        {
            var doubled = result.Double();
            int digit = LDigits[i];
            result = digit switch
            {
                0 => doubled.ToProjective(),
                > 0 => doubled.ToExtended().Add(multiples[digit >> 1]).ToProjective(),
                _ => doubled.ToExtended().Subtract(multiples[-digit >> 1]).ToProjective(),
            };
        }

        return result.IsIdentity;
    }

    /// <summary>
    /// The width-5 non-adjacent form of <paramref name="scalar"/>, least significant digit first: each digit 0 or odd
    /// in [-15, 15], non-zero digits at least 5 apart, and the sum of digit·2^i equal to the scalar.
    /// </summary>
    private static sbyte[] NonAdjacentForm(BigInteger scalar)
    {
        var digits = new List<sbyte>();
        var window = 1 << DigitWidth;
        while (scalar > 0)
        {
            var digit = 0;
            if (!scalar.IsEven)
            {
                digit = (int)(scalar % window);
                if (digit >= window / 2)
                {
                    digit -= window;
                }

                scalar -= digit;
            }

            digits.Add((sbyte)digit);
            scalar >>= 1;
        }

        return [.. digits];
    }

    /// <summary>A point as (X:Y:Z), x = X/Z, y = Y/Z: enough to double.</summary>
    private readonly record struct ProjectivePoint(Field25519 X, Field25519 Y, Field25519 Z)
    {
        public static ProjectivePoint Identity => new(Field25519.Zero, Field25519.One, Field25519.One);

        /// <summary>(0, 1) projectively: X = 0 and Y = Z.</summary>
        public bool IsIdentity => X.IsZero && Y == Z;

        /// <summary>2P (ref10's <c>ge_p2_dbl</c>, "dbl-2008-hwcd" for a = -1): 4 squarings.</summary>
        public CompletedPoint Double()
        {
            var xx = X.Square();
            var yy = Y.Square();
            var zz = Z.Square();
            var sum = yy + xx;
            var difference = yy - xx;
            return new CompletedPoint((X + Y).Square() - sum, sum, difference, zz + zz - difference);
        }
    }

    /// <summary>A point in extended coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, x y = T/Z (RFC 8032 §5.1.4): enough to add to.</summary>
    private readonly record struct ExtendedPoint(Field25519 X, Field25519 Y, Field25519 Z, Field25519 T)
    {
        public ProjectivePoint ToProjective() => new(X, Y, Z);

        /// <summary>The form added from: (Y + X, Y - X, Z, 2d T).</summary>
        public CachedPoint ToCached() => new(Y + X, Y - X, Z, T * TwoD);

        /// <summary>P + Q (ref10's <c>ge_add</c>, "add-2008-hwcd-3" for a = -1): 4 multiplications.</summary>
        public CompletedPoint Add(in CachedPoint q)
        {
            var a = (Y + X) * q.YPlusX;
            var b = (Y - X) * q.YMinusX;
            var c = T * q.TwoDT;
            var zz = Z * q.Z;
            var d = zz + zz;
            return new CompletedPoint(a - b, a + b, d + c, d - c);
        }

        /// <summary>P - Q: <see cref="Add"/> with -Q = (-x, y), whose cached form swaps Y + X with Y - X and negates 2d T.</summary>
        public CompletedPoint Subtract(in CachedPoint q)
        {
            var a = (Y + X) * q.YMinusX;
            var b = (Y - X) * q.YPlusX;
            var c = T * q.TwoDT;
            var zz = Z * q.Z;
            var d = zz + zz;
            return new CompletedPoint(a - b, a + b, d - c, d + c);
        }
    }

    /// <summary>A point added to others: (Y + X, Y - X, Z, 2d T) of its extended coordinates.</summary>
    private readonly record struct CachedPoint(Field25519 YPlusX, Field25519 YMinusX, Field25519 Z, Field25519 TwoDT);

    /// <summary>
    /// The result of a doubling or an addition, before its division: x = X/Z, y = Y/T (ref10's <c>ge_p1p1</c>).
    /// Projective costs 3 multiplications from here, extended 4.
    /// </summary>
    private readonly record struct CompletedPoint(Field25519 X, Field25519 Y, Field25519 Z, Field25519 T)
    {
        public ProjectivePoint ToProjective() => new(X * T, Y * Z, Z * T);

        public ExtendedPoint ToExtended() => new(X * T, Y * Z, Z * T, X * Y);
    }
}

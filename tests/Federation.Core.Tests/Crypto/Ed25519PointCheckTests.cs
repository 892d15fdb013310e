using System.Numerics;
using Federation.Core.Crypto;
using NSec.Cryptography;

namespace Federation.Core.Tests.Crypto;

/// <summary>
/// The public-key check that replaced libsodium's <c>crypto_core_ed25519_is_valid_point</c>: one row per class of
/// refused key beside the accepted ones, and libsodium's own answers on 586 inputs (Vectors/, recorded with the
/// libsodium the removed P/Invoke bound and with NSec's copy).
/// </summary>
public class Ed25519PointCheckTests
{
    private static readonly BigInteger P = (BigInteger.One << 255) - 19;
    private static readonly BigInteger L = (BigInteger.One << 252) + BigInteger.Parse("27742317777372353535851937790883648493");

    /// <summary>The base point B of RFC 8032 §5.1 (y = 4/5, x even).</summary>
    private const string BasePoint = "5866666666666666666666666666666666666666666666666666666666666666";

    public static TheoryData<string, string> AcceptedKeys()
    {
        var data = new TheoryData<string, string> { { "the base point B", BasePoint } };
        data.Add("-B (B with the sign bit set)", SetSignBit(BasePoint));
        using var doc = SharedVectors.Load("ed25519-rfc8032.json");
        foreach (var test in doc.RootElement.GetProperty("tests").EnumerateArray())
        {
            data.Add($"RFC 8032 {test.GetProperty("name").GetString()}", test.GetProperty("public_key").GetString()!);
        }

        return data;
    }

    public static TheoryData<string, string, string> RefusedKeys()
    {
        var data = new TheoryData<string, string, string>
        {
            // RFC 8032 §5.1.3 step 1: y must be less than p (bit 255 is the sign of x, not part of y).
            { "y = p", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", nameof(Ed25519PointStatus.NonCanonical) },
            { "y = p + 1", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", nameof(Ed25519PointStatus.NonCanonical) },
            { "y = p + 3 (3 is on the curve)", "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", nameof(Ed25519PointStatus.NonCanonical) },
            { "y = 2^255 - 1", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", nameof(Ed25519PointStatus.NonCanonical) },
            { "y = 2^255 - 1, sign bit set", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", nameof(Ed25519PointStatus.NonCanonical) },

            // Step 3: (y^2 - 1)/(d y^2 + 1) is not a square, so no x exists.
            { "y = 2 (off the curve)", Encode(2), nameof(Ed25519PointStatus.NotOnCurve) },
            { "y = 7 (off the curve)", Encode(7), nameof(Ed25519PointStatus.NotOnCurve) },

            // Step 4: x = 0 (y = 1 or p - 1) has no negative, so the sign bit must be clear.
            { "the identity with the sign bit set", SetSignBit(Encode(1)), nameof(Ed25519PointStatus.NegativeZero) },
            { "(0, -1) with the sign bit set", SetSignBit(Encode(P - 1)), nameof(Ed25519PointStatus.NegativeZero) },

            // The eight points of small order (libsodium's has_small_order list), both signs of x where x ≠ 0.
            { "the identity (0, 1), order 1", Encode(1), nameof(Ed25519PointStatus.SmallOrder) },
            { "(0, -1), order 2", Encode(P - 1), nameof(Ed25519PointStatus.SmallOrder) },
            { "(sqrt(-1), 0), order 4", Encode(0), nameof(Ed25519PointStatus.SmallOrder) },
            { "(-sqrt(-1), 0), order 4", SetSignBit(Encode(0)), nameof(Ed25519PointStatus.SmallOrder) },
            { "order 8, first y", Ed25519PointCheck.SmallOrderEncodings[2], nameof(Ed25519PointStatus.SmallOrder) },
            { "order 8, first y, sign bit set", SetSignBit(Ed25519PointCheck.SmallOrderEncodings[2]), nameof(Ed25519PointStatus.SmallOrder) },
            { "order 8, second y", Ed25519PointCheck.SmallOrderEncodings[3], nameof(Ed25519PointStatus.SmallOrder) },
            { "order 8, second y, sign bit set", SetSignBit(Ed25519PointCheck.SmallOrderEncodings[3]), nameof(Ed25519PointStatus.SmallOrder) },

            // On the curve, of large order, but with a torsion component: [L]A is not the identity.
            { "B + (0, -1)", AddOrderTwoPoint(BasePoint), nameof(Ed25519PointStatus.OutsidePrimeOrderSubgroup) },
            { "RFC 8032 TEST 1 key + (0, -1)", AddOrderTwoPoint("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), nameof(Ed25519PointStatus.OutsidePrimeOrderSubgroup) },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(AcceptedKeys))]
    public void Keys_in_the_prime_order_subgroup_are_accepted(string name, string hex)
    {
        Assert.True(Ed25519PointStatus.Valid == Ed25519PointCheck.Check(Convert.FromHexString(hex)), name);
        Assert.Equal(hex, Ed25519PublicKey.FromHex(hex).ToHex());
    }

    [Theory]
    [MemberData(nameof(RefusedKeys))]
    public void Each_class_of_unusable_key_is_refused_for_its_reason(string name, string hex, string status)
    {
        Assert.True(status == Ed25519PointCheck.Check(Convert.FromHexString(hex)).ToString(), name);
        // One message for every class, word for word the one libsodium's check earned (refusals quote it).
        var ex = Assert.Throws<FormatException>(() => Ed25519PublicKey.FromHex(hex));
        Assert.Equal("the public key is not a valid Ed25519 point (off the curve, or of small order)", ex.Message);
    }

    [Fact]
    public void Every_listed_small_order_encoding_is_refused_with_either_sign()
    {
        foreach (var hex in Ed25519PointCheck.SmallOrderEncodings)
        {
            foreach (var encoding in new[] { hex, SetSignBit(hex) })
            {
                Assert.NotEqual(Ed25519PointStatus.Valid, Ed25519PointCheck.Check(Convert.FromHexString(encoding)));
            }
        }
    }

    public static TheoryData<string, bool, string> LibsodiumAnswers()
    {
        var data = new TheoryData<string, bool, string>();
        foreach (var line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Vectors", "ed25519-libsodium-valid-points.txt")).Where(l => !l.StartsWith('#')))
        {
            var fields = line.Split(' ', 3);
            data.Add(fields[0], fields[1] == "1", fields[2]);
        }

        return data;
    }

    [Fact]
    public void The_recorded_libsodium_answers_cover_both_outcomes()
    {
        var rows = LibsodiumAnswers().Select(row => ((string)row[0], (bool)row[1], (string)row[2])).ToList();
        Assert.Equal(586, rows.Count);
        Assert.Equal(134, rows.Count(r => r.Item2));
        Assert.Contains(rows, r => r.Item3 == "a derived key plus a torsion point" && !r.Item2);
        Assert.Contains(rows, r => r.Item3 == "p + small y (non-canonical)");
    }

    [Theory]
    [MemberData(nameof(LibsodiumAnswers))]
    public void The_check_gives_libsodiums_answer(string hex, bool libsodiumAccepts, string what)
    {
        var bytes = Convert.FromHexString(hex);
        Assert.True(libsodiumAccepts == Ed25519PointCheck.IsValid(bytes), $"{what}: libsodium says {libsodiumAccepts}, the check says {Ed25519PointCheck.Check(bytes)}");
        if (libsodiumAccepts)
        {
            Assert.Equal(hex, Ed25519PublicKey.FromBytes(bytes).ToHex());
        }
        else
        {
            Assert.Equal(
                "the public key is not a valid Ed25519 point (off the curve, or of small order)",
                Assert.Throws<FormatException>(() => Ed25519PublicKey.FromBytes(bytes)).Message);
        }
    }

    [Fact]
    public void The_check_agrees_with_its_definition_on_keys_and_their_torsion_translates()
    {
        // An independent BigInteger reading of the same rules (RFC 8032 §6's reference arithmetic, [L]A bit by bit), for
        // inputs beyond the recorded ones: derived keys, their negatives, and each plus every point of order 2, 4, 8.
        var random = new Random(17);
        var torsion = TorsionPoints();
        var accepted = 0;
        for (var i = 0; i < 40; i++)
        {
            var seed = new byte[32];
            random.NextBytes(seed);
            using var key = Ed25519PrivateKey.FromSeed(seed);
            var a = Decode(key.PublicKey.Bytes.ToArray())!.Value;
            foreach (var candidate in new[] { a, (P - a.X, a.Y), Add(a, torsion[i % torsion.Count]) })
            {
                var encoded = EncodePoint(candidate);
                var expected = !IsSmallOrderEncoding(encoded) && IsOfOrderL(candidate);
                Assert.True(expected == Ed25519PointCheck.IsValid(encoded), Convert.ToHexStringLower(encoded));
                accepted += expected ? 1 : 0;
            }
        }

        Assert.Equal(80, accepted);
    }

    [Fact]
    public void A_key_checked_once_is_remembered_and_a_refused_one_is_refused_again()
    {
        var hex = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
        Assert.Same(Ed25519PublicKey.FromHex(hex), Ed25519PublicKey.FromHex(hex));

        var refused = Ed25519PointCheck.SmallOrderEncodings[3];
        Assert.Throws<FormatException>(() => Ed25519PublicKey.FromHex(refused));
        Assert.Throws<FormatException>(() => Ed25519PublicKey.FromHex(refused));
    }

    [Fact]
    public void NSec_import_alone_takes_keys_we_refuse_which_is_why_the_check_exists()
    {
        var smallOrder = Convert.FromHexString(Ed25519PointCheck.SmallOrderEncodings[2]);
        var offCurve = Convert.FromHexString(Encode(2));
        Assert.True(PublicKey.TryImport(SignatureAlgorithm.Ed25519, smallOrder, KeyBlobFormat.RawPublicKey, out _));
        Assert.True(PublicKey.TryImport(SignatureAlgorithm.Ed25519, offCurve, KeyBlobFormat.RawPublicKey, out _));
        Assert.True(PublicKey.TryImport(SignatureAlgorithm.Ed25519, Convert.FromHexString(AddOrderTwoPoint(BasePoint)), KeyBlobFormat.RawPublicKey, out _));
    }

    [Fact]
    public void NSec_verify_accepts_a_signature_by_a_key_with_a_torsion_component_which_import_refuses()
    {
        // libsodium's verify refuses small-order keys, not mixed-order ones: A' = [a]B + T (T of order 8) signs
        // like a, with S = r + k a, whenever k = H(R || A' || M) is a multiple of 8, since then [k]T is the identity.
        var a = (BigInteger.One << 200) + 12345;
        var r = (BigInteger.One << 180) + 6789;
        var torsionKey = EncodePoint(Add(ToAffine(MultiplyBase(a)), TorsionPoints()[0]));
        var encodedR = EncodePoint(ToAffine(MultiplyBase(r)));
        for (var counter = 0; ; counter++)
        {
            var message = System.Text.Encoding.ASCII.GetBytes($"message {counter}");
            var k = new BigInteger(System.Security.Cryptography.SHA512.HashData([.. encodedR, .. torsionKey, .. message]), isUnsigned: true) % L;
            if (!(k % 8).IsZero)
            {
                continue;
            }

            var signature = new byte[64];
            encodedR.CopyTo(signature, 0);
            ((r + (k * a)) % L).TryWriteBytes(signature.AsSpan(32), out _, isUnsigned: true);

            var nsecKey = PublicKey.Import(SignatureAlgorithm.Ed25519, torsionKey, KeyBlobFormat.RawPublicKey);
            Assert.True(SignatureAlgorithm.Ed25519.Verify(nsecKey, message, signature));
            Assert.Equal(Ed25519PointStatus.OutsidePrimeOrderSubgroup, Ed25519PointCheck.Check(torsionKey));
            Assert.Throws<FormatException>(() => Ed25519PublicKey.FromBytes(torsionKey));
            return;
        }
    }

    [Fact]
    public void A_signature_whose_S_is_not_below_L_is_refused()
    {
        // RFC 8032 §5.1.7 step 1: S must be less than L; S + L would pass a cofactorless equation check otherwise.
        using var key = Ed25519PrivateKey.FromSeed(new byte[32]);
        var message = "epoch 9"u8.ToArray();
        var signature = key.Sign(message);
        Assert.True(key.PublicKey.Verify(message, signature));

        var s = new BigInteger(signature.AsSpan(32), isUnsigned: true);
        foreach (var nonCanonical in new[] { s + L, L, (BigInteger.One << 256) - 1 })
        {
            var tampered = (byte[])signature.Clone();
            nonCanonical.TryWriteBytes(tampered.AsSpan(32), out _, isUnsigned: true);
            Assert.False(key.PublicKey.Verify(message, tampered), $"S = {nonCanonical}");
        }
    }

    [Fact]
    public void A_signature_whose_R_has_small_order_is_refused_though_it_satisfies_the_equation()
    {
        // R = the identity and S = k a make [S]B = R + [k]A hold; libsodium's verify refuses R of small order
        // (a signature that says nothing about the message's hash) before it looks at the equation.
        var a = (BigInteger.One << 190) + 424242;
        var key = Ed25519PublicKey.FromBytes(EncodePoint(ToAffine(MultiplyBase(a))));
        var identity = Convert.FromHexString(Ed25519PointCheck.SmallOrderEncodings[1]);
        var message = "epoch 12"u8.ToArray();
        var k = new BigInteger(System.Security.Cryptography.SHA512.HashData([.. identity, .. key.Bytes, .. message]), isUnsigned: true) % L;
        var signature = new byte[64];
        identity.CopyTo(signature, 0);
        (k * a % L).TryWriteBytes(signature.AsSpan(32), out _, isUnsigned: true);

        var equationHolds = PointEqual(MultiplyBase(k * a % L), MultiplyExtended(ToExtended(Decode(key.Bytes.ToArray())!.Value), k));
        Assert.True(equationHolds);
        Assert.False(key.Verify(message, signature));
    }

    [Fact]
    public void A_verify_allocates_nothing()
    {
        using var key = Ed25519PrivateKey.FromSeed(new byte[32]);
        var message = "the hot path"u8.ToArray();
        var signature = key.Sign(message);
        Assert.True(key.PublicKey.Verify(message, signature));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 200; i++)
        {
            Assert.True(key.PublicKey.Verify(message, signature));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>The canonical encoding of y with x even (RFC 8032 §5.1.2), without checking that y is on the curve.</summary>
    private static string Encode(BigInteger y) => EncodeRaw(((y % P) + P) % P);

    private static string EncodeRaw(BigInteger value)
    {
        var bytes = new byte[32];
        value.TryWriteBytes(bytes, out _, isUnsigned: true);
        return Convert.ToHexStringLower(bytes);
    }

    private static string SetSignBit(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        bytes[31] |= 0x80;
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>A + (0, -1) = (-x, -y) on a twisted Edwards curve: negate y, and flip the sign of x (x ≠ 0).</summary>
    private static string AddOrderTwoPoint(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        var sign = bytes[31] & 0x80;
        bytes[31] &= 0x7f;
        var y = new BigInteger(bytes, isUnsigned: true);
        var shifted = Convert.FromHexString(Encode(P - y));
        shifted[31] |= (byte)(sign ^ 0x80);
        return Convert.ToHexStringLower(shifted);
    }

    private static readonly BigInteger D = Mod(-121665 * BigInteger.ModPow(121666, P - 2, P));

    private static BigInteger Mod(BigInteger value) => ((value % P) + P) % P;

    private static BigInteger Inverse(BigInteger value) => BigInteger.ModPow(Mod(value), P - 2, P);

    /// <summary>RFC 8032 §5.1.3 in BigInteger: null when y ≥ p or no x exists.</summary>
    private static (BigInteger X, BigInteger Y)? Decode(byte[] encoded)
    {
        var bytes = (byte[])encoded.Clone();
        var sign = bytes[31] >> 7;
        bytes[31] &= 0x7f;
        var y = new BigInteger(bytes, isUnsigned: true);
        if (y >= P)
        {
            return null;
        }

        var x2 = Mod(((y * y) - 1) * Inverse((D * y * y) + 1));
        var x = BigInteger.ModPow(x2, (P + 3) / 8, P);
        if (Mod((x * x) - x2) != 0)
        {
            x = Mod(x * BigInteger.ModPow(2, (P - 1) / 4, P));
        }

        if (Mod((x * x) - x2) != 0 || (x == 0 && sign == 1))
        {
            return null;
        }

        return (x & 1) == sign ? (x, y) : (P - x, y);
    }

    private static byte[] EncodePoint((BigInteger X, BigInteger Y) point)
    {
        var bytes = new byte[32];
        Mod(point.Y).TryWriteBytes(bytes, out _, isUnsigned: true);
        bytes[31] |= (byte)(Mod(point.X).IsEven ? 0 : 0x80);
        return bytes;
    }

    /// <summary>The twisted Edwards addition law of RFC 8032 §5.1 (a = -1) in affine coordinates.</summary>
    private static (BigInteger X, BigInteger Y) Add((BigInteger X, BigInteger Y) p, (BigInteger X, BigInteger Y) q)
    {
        var t = Mod(D * p.X * q.X * p.Y * q.Y);
        return (Mod(((p.X * q.Y) + (q.X * p.Y)) * Inverse(1 + t)), Mod(((p.Y * q.Y) + (p.X * q.X)) * Inverse(1 - t)));
    }

    /// <summary>[L]P is the identity, with RFC 8032 §6's reference arithmetic.</summary>
    private static bool IsOfOrderL((BigInteger X, BigInteger Y) point) => PointEqual(MultiplyExtended(ToExtended(point), L), (0, 1, 1, 0));

    /// <summary>[scalar]B, RFC 8032 §6's point_mul.</summary>
    private static (BigInteger X, BigInteger Y, BigInteger Z, BigInteger T) MultiplyBase(BigInteger scalar) =>
        MultiplyExtended(ToExtended(Decode(Convert.FromHexString(BasePoint))!.Value), scalar);

    private static (BigInteger X, BigInteger Y, BigInteger Z, BigInteger T) ToExtended((BigInteger X, BigInteger Y) point) =>
        (point.X, point.Y, BigInteger.One, Mod(point.X * point.Y));

    private static (BigInteger X, BigInteger Y, BigInteger Z, BigInteger T) MultiplyExtended((BigInteger X, BigInteger Y, BigInteger Z, BigInteger T) q, BigInteger scalar)
    {
        (BigInteger X, BigInteger Y, BigInteger Z, BigInteger T) result = (0, 1, 1, 0);
        for (; scalar > 0; scalar >>= 1)
        {
            if (!scalar.IsEven)
            {
                result = PointAdd(result, q);
            }

            q = PointAdd(q, q);
        }

        return result;
    }

    /// <summary>RFC 8032 §6's point_equal: X1 Z2 = X2 Z1 and Y1 Z2 = Y2 Z1.</summary>
    private static bool PointEqual((BigInteger X, BigInteger Y, BigInteger Z, BigInteger T) p, (BigInteger X, BigInteger Y, BigInteger Z, BigInteger T) q) =>
        Mod((p.X * q.Z) - (q.X * p.Z)) == 0 && Mod((p.Y * q.Z) - (q.Y * p.Z)) == 0;

    private static (BigInteger X, BigInteger Y) ToAffine((BigInteger X, BigInteger Y, BigInteger Z, BigInteger T) point)
    {
        var zInverse = Inverse(point.Z);
        return (Mod(point.X * zInverse), Mod(point.Y * zInverse));
    }

    private static (BigInteger X, BigInteger Y, BigInteger Z, BigInteger T) PointAdd(
        (BigInteger X, BigInteger Y, BigInteger Z, BigInteger T) p, (BigInteger X, BigInteger Y, BigInteger Z, BigInteger T) q)
    {
        var a = Mod((p.Y - p.X) * (q.Y - q.X));
        var b = Mod((p.Y + p.X) * (q.Y + q.X));
        var c = Mod(2 * p.T * q.T * D);
        var d = Mod(2 * p.Z * q.Z);
        var (e, f, g, h) = (b - a, d - c, d + c, b + a);
        return (Mod(e * f), Mod(g * h), Mod(f * g), Mod(e * h));
    }

    private static bool IsSmallOrderEncoding(byte[] encoded)
    {
        var y = (byte[])encoded.Clone();
        y[31] &= 0x7f;
        return Ed25519PointCheck.SmallOrderEncodings.Contains(Convert.ToHexStringLower(y));
    }

    /// <summary>The seven points of order 2, 4 and 8: the multiples of a point of order 8.</summary>
    private static List<(BigInteger X, BigInteger Y)> TorsionPoints()
    {
        var eighth = Decode(Convert.FromHexString(Ed25519PointCheck.SmallOrderEncodings[2]))!.Value;
        var points = new List<(BigInteger X, BigInteger Y)> { eighth };
        while (points.Count < 7)
        {
            points.Add(Add(points[^1], eighth));
        }

        Assert.Equal((BigInteger.Zero, BigInteger.One), Add(points[^1], eighth));
        return points;
    }
}

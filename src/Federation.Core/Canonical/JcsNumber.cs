using System.Globalization;

namespace Federation.Core.Canonical;

/// <summary>
/// Number serialisation of RFC 8785 §3.2.2.3, which is ECMAScript's Number::toString
/// (ECMA-262 §7.1.12.1) applied to an IEEE-754 double.
/// </summary>
public static class JcsNumber
{
    /// <summary>Largest exponent written without "e" notation (ECMA-262: n ≤ 21).</summary>
    private const int MaxPlainExponent = 21;

    /// <summary>Smallest exponent written as "0.000ddd" (ECMA-262: −6 &lt; n ≤ 0).</summary>
    private const int MinPlainExponent = -5;

    public static string Format(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new CanonicalJsonException($"RFC 8785 cannot represent the number {value}: only finite IEEE-754 doubles are allowed");
        }

        if (value == 0)
        {
            return "0"; // +0 and −0 both serialise as "0".
        }

        // .NET Core 3.0+ "R" yields the shortest digit string that round-trips, which is exactly
        // the digit string s of ECMA-262 (k as small as possible). Only the layout differs.
        var roundTrip = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var (digits, n) = Decompose(roundTrip);
        var k = digits.Length;
        var sign = value < 0 ? "-" : string.Empty;

        if (k <= n && n <= MaxPlainExponent)
        {
            return sign + digits + new string('0', n - k);
        }

        if (0 < n && n <= MaxPlainExponent)
        {
            return sign + digits[..n] + "." + digits[n..];
        }

        if (MinPlainExponent <= n && n <= 0)
        {
            return sign + "0." + new string('0', -n) + digits;
        }

        var e = n - 1;
        var exponent = (e < 0 ? "-" : "+") + Math.Abs(e).ToString(CultureInfo.InvariantCulture);
        return k == 1
            ? sign + digits + "e" + exponent
            : sign + digits[0] + "." + digits[1..] + "e" + exponent;
    }

    /// <summary>
    /// Splits a positive round-trip string ("123.45", "1.2345E-07", "1E+21") into its significant
    /// digits (no leading or trailing zeros) and n, where value = 0.digits × 10^n.
    /// </summary>
    private static (string Digits, int N) Decompose(string text)
    {
        var exponent = 0;
        var ePos = text.IndexOf('E');
        var mantissa = text;
        if (ePos >= 0)
        {
            exponent = int.Parse(text.AsSpan(ePos + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = text[..ePos];
        }

        var dot = mantissa.IndexOf('.');
        var integerPart = dot >= 0 ? mantissa[..dot] : mantissa;
        var fraction = dot >= 0 ? mantissa[(dot + 1)..] : string.Empty;
        var all = integerPart + fraction;
        var pointPosition = integerPart.Length + exponent;

        var leading = 0;
        while (leading < all.Length - 1 && all[leading] == '0')
        {
            leading++;
        }

        var digits = all[leading..].TrimEnd('0');
        if (digits.Length == 0)
        {
            digits = "0";
        }

        return (digits, pointPosition - leading);
    }
}

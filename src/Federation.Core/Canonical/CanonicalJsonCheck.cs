using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Federation.Core.Canonical;

public static partial class CanonicalJson
{
    /// <summary>
    /// True when <paramref name="utf8Json"/> is a strict JSON document that is already in RFC 8785 form, that is
    /// <c>Canonicalize(utf8Json)</c> would succeed and return the same bytes. One pass of a forward-only reader,
    /// no tree: what a receiver usually gets is canonical, and then its canonical form is the input itself.
    /// Conservative: anything it is unsure of answers false (the caller then takes the tree path, which also
    /// produces the error message).
    /// </summary>
    public static bool IsCanonical(ReadOnlySpan<byte> utf8Json) => IsCanonical(utf8Json, default, out _, out _);

    /// <summary>
    /// <see cref="IsCanonical(ReadOnlySpan{byte})"/>, also locating the top-level member named <paramref name="member"/>
    /// (given as its canonical UTF-8 text): where its name's opening quote is, and its value's range; -1 and
    /// default when absent.
    /// </summary>
    internal static bool IsCanonical(ReadOnlySpan<byte> utf8Json, ReadOnlySpan<byte> member, out int memberStart, out Range memberValue)
    {
        memberStart = -1;
        memberValue = default;
        var valueStart = -1; // set while the member's value is being read
        var valueDepth = 0;
        // Utf8JsonReader does not validate the bytes of unescaped strings; a BOM fails the reader or the gap check.
        if (utf8Json.IsEmpty || !Utf8.IsValid(utf8Json))
        {
            return false;
        }

        // Per open container: where the previous member name's raw text is (or its decoded value).
        Span<int> nameStart = stackalloc int[MaxDepth + 1];
        Span<int> nameLength = stackalloc int[MaxDepth + 1];
        string?[]? decodedNames = null; // only documents with non-ASCII or escaped names need it
        var depth = 0;
        var end = 0; // where the previous token ended
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        try
        {
            while (reader.Read())
            {
                var start = checked((int)reader.TokenStartIndex);

                // RFC 8785 §3.2.1: no whitespace between tokens; the only byte between two tokens is ',' or ':'.
                if (start - end > 1 || (start - end == 1 && utf8Json[end] is not ((byte)',' or (byte)':')))
                {
                    return false;
                }

                var raw = reader.ValueSpan;
                if (memberStart >= 0 && valueStart < 0 && memberValue.Equals(default(Range)))
                {
                    valueStart = start;
                    valueDepth = depth;
                }

                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        depth++;
                        nameLength[depth] = -1;
                        if (decodedNames is not null)
                        {
                            decodedNames[depth] = null;
                        }

                        end = start + 1;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        depth--;
                        end = start + 1;
                        if (valueStart >= 0 && depth == valueDepth)
                        {
                            memberValue = valueStart..end;
                            valueStart = -1;
                        }

                        break;
                    case JsonTokenType.PropertyName:
                        if (!IsCanonicalString(raw, reader.ValueIsEscaped) || !FollowsPreviousName(ref reader, utf8Json, start + 1, nameStart, nameLength, ref decodedNames, depth))
                        {
                            return false;
                        }

                        end = start + raw.Length + 2;
                        if (depth == 1 && !member.IsEmpty && raw.SequenceEqual(member))
                        {
                            memberStart = start;
                        }

                        break;
                    case JsonTokenType.String:
                        if (!IsCanonicalString(raw, reader.ValueIsEscaped))
                        {
                            return false;
                        }

                        end = start + raw.Length + 2;
                        break;
                    case JsonTokenType.Number:
                        if (!IsCanonicalNumber(raw))
                        {
                            return false;
                        }

                        end = start + raw.Length;
                        break;
                    case JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null:
                        end = start + raw.Length;
                        break;
                    default:
                        return false;
                }

                if (valueStart >= 0 && depth == valueDepth && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
                {
                    memberValue = valueStart..end; // a scalar value
                    valueStart = -1;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or OverflowException)
        {
            return false;
        }

        return end == utf8Json.Length;
    }

    /// <summary>RFC 8785 §3.2.2.2: a string's only escapes are \" \\ \b \f \n \r \t and \u00xx (lowercase) for other controls.</summary>
    private static bool IsCanonicalString(ReadOnlySpan<byte> raw, bool escaped)
    {
        // Unescaped: the reader refused raw controls, '"' and '\'; the UTF-8 was validated (no lone surrogates).
        if (!escaped)
        {
            return true;
        }

        for (var i = raw.IndexOf((byte)'\\'); i >= 0 && i < raw.Length; i++)
        {
            if (raw[i] != (byte)'\\')
            {
                continue;
            }

            switch (raw[++i])
            {
                case (byte)'"' or (byte)'\\' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t':
                    break;
                case (byte)'u':
                    if (raw[i + 1] != (byte)'0' || raw[i + 2] != (byte)'0' || raw[i + 3] is not ((byte)'0' or (byte)'1') || !IsLowerHex(raw[i + 4]))
                    {
                        return false;
                    }

                    var code = ((raw[i + 3] - '0') << 4) | (raw[i + 4] <= '9' ? raw[i + 4] - '0' : raw[i + 4] - 'a' + 10);
                    if (code is 0x08 or 0x09 or 0x0A or 0x0C or 0x0D)
                    {
                        return false; // these have a short escape
                    }

                    i += 4;
                    break;
                default:
                    return false; // \/ and escapes of printable characters are not canonical
            }
        }

        return true;
    }

    private static bool IsLowerHex(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f';

    /// <summary>RFC 8785 §3.2.2.3: the number's text must be what ECMAScript prints for its double (so not -0).</summary>
    private static bool IsCanonicalNumber(ReadOnlySpan<byte> raw)
    {
        // Common case: an integer of at most 15 digits is exact in a double and prints as itself.
        var digits = raw[0] == (byte)'-' ? raw[1..] : raw;
        if (digits.Length is > 0 and <= 15 && !digits.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
        {
            return digits[0] != (byte)'0' || (digits.Length == 1 && digits.Length == raw.Length);
        }

        var value = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!double.IsFinite(value) || (value == 0 && raw[0] == (byte)'-'))
        {
            return false;
        }

        var text = JcsNumber.Format(value);
        if (text.Length != raw.Length)
        {
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != raw[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>RFC 8785 §3.2.3: member names strictly ascending as UTF-16 code units (which also refuses duplicates).</summary>
    private static bool FollowsPreviousName(ref Utf8JsonReader reader, scoped ReadOnlySpan<byte> utf8Json, int rawStart, scoped Span<int> nameStart, scoped Span<int> nameLength, ref string?[]? decodedNames, int depth)
    {
        var raw = reader.ValueSpan;
        var plain = !reader.ValueIsEscaped && Ascii.IsValid(raw);
        string? decoded = plain ? null : reader.GetString();
        if (nameLength[depth] >= 0)
        {
            var previousRaw = utf8Json.Slice(nameStart[depth], nameLength[depth]);
            var previousDecoded = decodedNames?[depth];
            int order;
            if (plain && previousDecoded is null)
            {
                order = previousRaw.SequenceCompareTo(raw); // ASCII: bytes order as UTF-16 code units do
            }
            else
            {
                order = string.CompareOrdinal(previousDecoded ?? Encoding.ASCII.GetString(previousRaw), decoded ?? Encoding.ASCII.GetString(raw));
            }

            if (order >= 0)
            {
                return false;
            }
        }

        nameStart[depth] = rawStart;
        nameLength[depth] = raw.Length;
        if (decoded is not null || decodedNames is not null)
        {
            decodedNames ??= new string?[MaxDepth + 1];
            decodedNames[depth] = decoded;
        }

        return true;
    }
}

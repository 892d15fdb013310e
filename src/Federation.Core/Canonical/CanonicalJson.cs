using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

namespace Federation.Core.Canonical;

/// <summary>
/// The one implementation of RFC 8785 (JSON Canonicalization Scheme) in the product. Everything
/// that is hashed or signed goes through <see cref="Write(JsonNode?)"/> or <see cref="Canonicalize"/>.
/// </summary>
/// <remarks>
/// Parsing is strict: duplicate member names, lone surrogates, numbers outside IEEE-754 double
/// and negative zero (RFC 8785 erratum 7920) are refused with a <see cref="CanonicalJsonException"/>.
/// </remarks>
public static partial class CanonicalJson
{
    /// <summary>Nesting limit for parsed documents (bounds the parser's stack).</summary>
    public const int MaxDepth = 64;

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = MaxDepth,
    };

    /// <summary>Parses UTF-8 JSON strictly into a node tree that <see cref="Write(JsonNode?)"/> accepts.</summary>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8Json) => Parse(utf8Json, negativeZeroAsZero: false);

    /// <param name="negativeZeroAsZero">
    /// Read <c>-0</c> as 0, as RFC 8785 serialises it (a formatting tool's reading, <c>fed canon</c>). Off everywhere a
    /// document is evidence: there a <c>-0</c> is refused, because its canonical form would not be the bytes that were signed.
    /// </param>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8Json, bool negativeZeroAsZero)
    {
        if (utf8Json.IsEmpty)
        {
            throw new CanonicalJsonException("empty input: expected a JSON document");
        }

        // A UTF-8 byte order mark is not JSON (RFC 8259 §8.1 forbids emitting it); skip one if present.
        if (utf8Json.StartsWith("\uFEFF"u8))
        {
            utf8Json = utf8Json[3..];
        }

        if (utf8Json.Trim(" \t\r\n"u8).IsEmpty)
        {
            throw new CanonicalJsonException("empty input: expected a JSON document");
        }

        // Utf8JsonReader does not validate the bytes of unescaped strings; JCS input must be UTF-8.
        if (!Utf8.IsValid(utf8Json))
        {
            throw new CanonicalJsonException($"the input is not valid UTF-8 (first bad byte at offset {FirstInvalidUtf8(utf8Json)})");
        }

        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        try
        {
            if (!reader.Read())
            {
                throw new CanonicalJsonException("empty input: expected a JSON document");
            }

            var root = ReadValue(ref reader, negativeZeroAsZero);
            if (reader.Read())
            {
                throw new CanonicalJsonException($"unexpected content after the JSON document at byte {reader.TokenStartIndex}");
            }

            return root;
        }
        catch (CanonicalJsonException ex)
        {
            throw Rooted(ex);
        }
        catch (JsonException ex)
        {
            throw new CanonicalJsonException($"malformed JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}: {FirstSentence(ex.Message)}", ex);
        }
    }

    /// <summary>Parses UTF-16 JSON text strictly.</summary>
    public static JsonNode? Parse(string json) => Parse(Encoding.UTF8.GetBytes(json));

    /// <summary>The canonical form of a UTF-8 JSON document (a <c>-0</c> refused: see <see cref="Parse(ReadOnlySpan{byte}, bool)"/>).</summary>
    public static byte[] Canonicalize(ReadOnlySpan<byte> utf8Json) => Write(Parse(utf8Json));

    /// <summary>RFC 8785's form of a UTF-8 JSON document with every number as the standard prints it, <c>-0</c> as <c>0</c> included.</summary>
    public static byte[] Format(ReadOnlySpan<byte> utf8Json) => Write(Parse(utf8Json, negativeZeroAsZero: true));

    /// <summary>The canonical form of a .NET value, serialised with System.Text.Json first.</summary>
    public static byte[] Serialize<T>(T value, JsonSerializerOptions? options = null) =>
        Canonicalize(JsonSerializer.SerializeToUtf8Bytes(value, options));

    /// <summary>The canonical form of a node tree.</summary>
    public static byte[] Write(JsonNode? node)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(buffer, node);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The canonical form of an object whose members are <paramref name="obj"/>'s plus <paramref name="raw"/>,
    /// whose values are already canonical JSON (spliced as they are, not re-parsed). Names must not repeat.
    /// </summary>
    public static byte[] WriteObject(JsonObject obj, IReadOnlyDictionary<string, byte[]> raw)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteObject(buffer, obj, raw);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Appends the canonical form of a node tree to <paramref name="output"/>.</summary>
    public static void Write(ArrayBufferWriter<byte> output, JsonNode? node)
    {
        try
        {
            WriteNode(output, node);
        }
        catch (CanonicalJsonException ex)
        {
            throw Rooted(ex);
        }
    }

    /// <summary>Appends the canonical form of a string value to <paramref name="output"/>.</summary>
    public static void Write(ArrayBufferWriter<byte> output, string value)
    {
        try
        {
            WriteString(output, value);
        }
        catch (CanonicalJsonException ex)
        {
            throw Rooted(ex);
        }
    }

    /// <summary>Appends the RFC 8785 form of an integer (digits up to 2^53, as ECMAScript prints the nearest double beyond).</summary>
    public static void Write(ArrayBufferWriter<byte> output, long value)
    {
        if (value is > -(1L << 53) and < (1L << 53))
        {
            value.TryFormat(output.GetSpan(20), out var written, default, CultureInfo.InvariantCulture);
            output.Advance(written);
            return;
        }

        var text = JcsNumber.Format(value);
        output.Advance(Encoding.ASCII.GetBytes(text, output.GetSpan(text.Length)));
    }

    /// <summary>Appends <see cref="WriteObject(JsonObject, IReadOnlyDictionary{string, byte[]})"/>'s bytes to <paramref name="output"/>.</summary>
    public static void WriteObject(ArrayBufferWriter<byte> output, JsonObject obj, IReadOnlyDictionary<string, byte[]> raw)
    {
        try
        {
            WriteObjectWithRaw(output, obj, raw);
        }
        catch (CanonicalJsonException ex)
        {
            throw Rooted(ex);
        }
    }

    private static void WriteObjectWithRaw(ArrayBufferWriter<byte> output, JsonObject obj, IReadOnlyDictionary<string, byte[]> raw)
    {
        var names = new List<string>(obj.Count + raw.Count);
        foreach (var (name, _) in obj)
        {
            names.Add(name);
        }

        foreach (var name in raw.Keys)
        {
            if (obj.ContainsKey(name))
            {
                throw new CanonicalJsonException($"member \"{name}\" is given twice");
            }

            names.Add(name);
        }

        names.Sort(string.CompareOrdinal);
        var buffer = output;
        buffer.Write("{"u8);
        for (var i = 0; i < names.Count; i++)
        {
            if (i > 0)
            {
                buffer.Write(","u8);
            }

            WriteString(buffer, names[i]);
            buffer.Write(":"u8);
            if (raw.TryGetValue(names[i], out var value))
            {
                buffer.Write(value);
            }
            else
            {
                try
                {
                    WriteNode(buffer, obj[names[i]]);
                }
                catch (CanonicalJsonException ex)
                {
                    throw Under(ex, names[i]);
                }
            }
        }

        buffer.Write("}"u8);
    }

    // Error paths are built while the error unwinds, so the happy path builds none: a thrower writes PathMarker
    // where the path goes, each container on the way out inserts its segment after the marker, and the entry
    // point replaces the marker with "$". The marker is a lone surrogate, which no reported name can contain.
    private const string PathMarker = "\uD800";

    private static CanonicalJsonException Under(CanonicalJsonException ex, string member) =>
        new(ex.Message.Replace(PathMarker, PathMarker + "." + member, StringComparison.Ordinal), ex.InnerException);

    private static CanonicalJsonException Under(CanonicalJsonException ex, int index) =>
        new(ex.Message.Replace(PathMarker, PathMarker + "[" + index.ToString(CultureInfo.InvariantCulture) + "]", StringComparison.Ordinal), ex.InnerException);

    private static CanonicalJsonException Rooted(CanonicalJsonException ex) =>
        new(ex.Message.Replace(PathMarker, "$", StringComparison.Ordinal), ex.InnerException);

    /// <summary>The canonical form of a node tree as a string.</summary>
    public static string WriteString(JsonNode? node) => Encoding.UTF8.GetString(Write(node));

    private static JsonNode? ReadValue(ref Utf8JsonReader reader, bool negativeZeroAsZero)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                return ReadObject(ref reader, negativeZeroAsZero);
            case JsonTokenType.StartArray:
                var array = new JsonArray();
                var index = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    try
                    {
                        array.Add(ReadValue(ref reader, negativeZeroAsZero));
                    }
                    catch (CanonicalJsonException ex)
                    {
                        throw Under(ex, index);
                    }

                    index++;
                }

                return array;
            case JsonTokenType.String:
                return JsonValue.Create(ReadString(ref reader));
            case JsonTokenType.Number:
                return JsonValue.Create(ReadNumber(ref reader, negativeZeroAsZero));
            case JsonTokenType.True:
                return JsonValue.Create(true);
            case JsonTokenType.False:
                return JsonValue.Create(false);
            case JsonTokenType.Null:
                return null;
            default:
                throw new CanonicalJsonException($"unexpected token {reader.TokenType} at {PathMarker}");
        }
    }

    private static JsonObject ReadObject(ref Utf8JsonReader reader, bool negativeZeroAsZero)
    {
        var members = new List<KeyValuePair<string, JsonNode?>>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = ReadString(ref reader);
            if (!names.Add(name))
            {
                throw new CanonicalJsonException($"duplicate member name \"{name}\" in the object at {PathMarker}: RFC 8785 requires unique names");
            }

            reader.Read();
            try
            {
                members.Add(new(name, ReadValue(ref reader, negativeZeroAsZero)));
            }
            catch (CanonicalJsonException ex)
            {
                throw Under(ex, name);
            }
        }

        return new JsonObject(members);
    }

    private static string ReadString(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            // The reader has validated the UTF-8; unescaped text cannot hold a lone surrogate.
            return Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
        }

        var raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan.ToArray();
        return Unescape(raw);
    }

    private static double ReadNumber(ref Utf8JsonReader reader, bool negativeZeroAsZero)
    {
        var raw = reader.ValueSpan;
        var value = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!double.IsFinite(value))
        {
            throw new CanonicalJsonException($"the number {Encoding.UTF8.GetString(raw)} at {PathMarker} is outside the range of an IEEE-754 double");
        }

        if (value == 0 && raw[0] == (byte)'-')
        {
            if (negativeZeroAsZero)
            {
                return 0;
            }

            throw new CanonicalJsonException($"negative zero ({Encoding.UTF8.GetString(raw)}) at {PathMarker} is refused: RFC 8785 (erratum 7920) serialises it as 0, which would change what was signed");
        }

        return value;
    }

    /// <summary>Decodes a JSON string body (RFC 8259 §7), refusing unpaired UTF-16 surrogates.</summary>
    private static string Unescape(ReadOnlySpan<byte> raw)
    {
        var text = Encoding.UTF8.GetString(raw);
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c != '\\')
            {
                builder.Append(c);
                continue;
            }

            var escape = text[++i];
            switch (escape)
            {
                case '"': builder.Append('"'); break;
                case '\\': builder.Append('\\'); break;
                case '/': builder.Append('/'); break;
                case 'b': builder.Append('\b'); break;
                case 'f': builder.Append('\f'); break;
                case 'n': builder.Append('\n'); break;
                case 'r': builder.Append('\r'); break;
                case 't': builder.Append('\t'); break;
                case 'u':
                    builder.Append((char)int.Parse(text.AsSpan(i + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                    i += 4;
                    break;
                default:
                    throw new CanonicalJsonException($"invalid escape \\{escape} in the string at {PathMarker}");
            }
        }

        var result = builder.ToString();
        EnsureWellFormed(result);
        return result;
    }

    private static void EnsureWellFormed(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                throw new CanonicalJsonException($"lone surrogate \\u{(int)c:x4} at index {i} of the string at {PathMarker}: RFC 8785 requires well-formed Unicode");
            }
        }
    }

    private static void WriteNode(ArrayBufferWriter<byte> output, JsonNode? node)
    {
        switch (node)
        {
            case null:
                output.Write("null"u8);
                break;
            case JsonObject obj:
                WriteObject(output, obj);
                break;
            case JsonArray array:
                output.Write("["u8);
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        output.Write(","u8);
                    }

                    try
                    {
                        WriteNode(output, array[i]);
                    }
                    catch (CanonicalJsonException ex)
                    {
                        throw Under(ex, i);
                    }
                }

                output.Write("]"u8);
                break;
            case JsonValue value:
                WriteValue(output, value);
                break;
            default:
                throw new CanonicalJsonException($"unsupported node {node.GetType().Name} at {PathMarker}");
        }
    }

    private static void WriteObject(ArrayBufferWriter<byte> output, JsonObject obj)
    {
        // RFC 8785 §3.2.3: members sorted by their names as arrays of UTF-16 code units.
        var members = new KeyValuePair<string, JsonNode?>[obj.Count];
        var n = 0;
        foreach (var member in obj)
        {
            members[n++] = member;
        }

        Array.Sort(members, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        output.Write("{"u8);
        for (var i = 0; i < members.Length; i++)
        {
            if (i > 0)
            {
                output.Write(","u8);
            }

            WriteString(output, members[i].Key);
            output.Write(":"u8);
            try
            {
                WriteNode(output, members[i].Value);
            }
            catch (CanonicalJsonException ex)
            {
                throw Under(ex, members[i].Key);
            }
        }

        output.Write("}"u8);
    }

    private static void WriteValue(ArrayBufferWriter<byte> output, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(output, value.GetValue<string>());
                break;
            case JsonValueKind.Number:
                // Integers are common (epochs, seqs): read them without a round trip through text. (double)l
                // rounds to nearest-even exactly as parsing the integer's text does.
                var number = value.TryGetValue<double>(out var d) ? d
                    : value.TryGetValue<long>(out var l) ? l
                    : value.TryGetValue<int>(out var n) ? n
                    : double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
                var text = JcsNumber.Format(number);
                output.Advance(Encoding.ASCII.GetBytes(text, output.GetSpan(text.Length)));
                break;
            case JsonValueKind.True:
                output.Write("true"u8);
                break;
            case JsonValueKind.False:
                output.Write("false"u8);
                break;
            case JsonValueKind.Null:
                output.Write("null"u8);
                break;
            default:
                // A value wrapping an object or array (e.g. a JsonElement): re-read it strictly.
                WriteNode(output, Parse(Encoding.UTF8.GetBytes(value.ToJsonString())));
                break;
        }
    }

    /// <summary>RFC 8785 §3.2.2.2: minimal escaping, everything else as UTF-8.</summary>
    // What a string needs looked at one character at a time: controls, '"', '\\' (escaped) and surrogates (checked).
    private static readonly SearchValues<char> NeedsAttention = SearchValues.Create(
        string.Concat(Enumerable.Range(0, 0x20).Select(c => (char)c)) + "\"\\" + string.Concat(Enumerable.Range(0xD800, 0x800).Select(c => (char)c)));

    private static void WriteString(ArrayBufferWriter<byte> output, string value)
    {
        if (!value.AsSpan().ContainsAny(NeedsAttention))
        {
            // Most strings (hashes, ids, names): nothing to escape or check, one vectorised transcoding.
            var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(value.Length) + 2);
            span[0] = (byte)'"';
            var length = Encoding.UTF8.GetBytes(value, span[1..]);
            span[length + 1] = (byte)'"';
            output.Advance(length + 2);
            return;
        }

        EnsureWellFormed(value);
        Span<byte> scratch = stackalloc byte[6];
        output.Write("\""u8);
        var start = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c >= 0x20 && c != '"' && c != '\\')
            {
                continue;
            }

            WriteUtf8(output, value.AsSpan(start, i - start));
            start = i + 1;
            switch (c)
            {
                case '"': output.Write("\\\""u8); break;
                case '\\': output.Write("\\\\"u8); break;
                case '\b': output.Write("\\b"u8); break;
                case '\t': output.Write("\\t"u8); break;
                case '\n': output.Write("\\n"u8); break;
                case '\f': output.Write("\\f"u8); break;
                case '\r': output.Write("\\r"u8); break;
                default:
                    "\\u00"u8.CopyTo(scratch);
                    scratch[4] = HexDigit(c >> 4);
                    scratch[5] = HexDigit(c & 0xF);
                    output.Write(scratch);
                    break;
            }
        }

        WriteUtf8(output, value.AsSpan(start));
        output.Write("\""u8);
    }

    private static byte HexDigit(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    private static void WriteUtf8(ArrayBufferWriter<byte> output, ReadOnlySpan<char> chars)
    {
        if (chars.IsEmpty)
        {
            return;
        }

        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(chars.Length));
        output.Advance(Encoding.UTF8.GetBytes(chars, span));
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return offset;
            }

            offset += consumed;
        }

        return offset;
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }
}

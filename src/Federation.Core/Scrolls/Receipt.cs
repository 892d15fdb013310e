using System.Buffers;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Federation.Core.Canonical;

namespace Federation.Core.Scrolls;

/// <summary>What a caller asks to seal: the scroll fills in <c>scroll</c>, <c>seq</c> and <c>time</c>.</summary>
/// <param name="Type">The receipt type, e.g. <c>update_accepted</c> (lowercase, digits, '_', '.', '-').</param>
/// <param name="Body">Domain fields.</param>
/// <param name="Tags">Optional labels for queries.</param>
/// <param name="Node">Optional fingerprint of the node the receipt concerns (queries filter on it).</param>
/// <param name="RawBody">Body members whose values are already canonical JSON (e.g. a signed message), spliced in unparsed.</param>
public sealed record ReceiptDraft(string Type, JsonObject Body, IReadOnlyList<string>? Tags = null, string? Node = null, IReadOnlyDictionary<string, byte[]>? RawBody = null);

/// <summary>
/// A receipt canonicalised up to its position and time (see <see cref="Receipt.Prepare"/>): the line's bytes with
/// room for the <c>seq</c> digits (as many as the seq expected when it was prepared) and the 24 time characters.
/// </summary>
/// <remarks>
/// <see cref="BuildOnce"/> (a ledger sealing the receipt: the hot path) writes seq and time into those bytes and
/// hands them over as the line when the seq has the expected number of digits, so a receipt costs one array;
/// otherwise, and for <see cref="Build"/>, the line is a copy.
/// </remarks>
public sealed class PreparedReceipt
{
    internal const int TimeLength = 24; // yyyy-MM-ddTHH:mm:ss.fffZ
    private const long MaxSeq = 1L << 53;

    private readonly string _scroll;
    private readonly byte[] _text;
    private readonly int _seqAt;
    private readonly int _seqRoom;
    private readonly int _timeAt;
    private int _handedOver;

    /// <param name="scroll">The scroll the receipt names (it may be sealed there only).</param>
    /// <param name="text">The canonical line with <paramref name="seqRoom"/> bytes at <paramref name="seqAt"/> for the seq digits and <see cref="TimeLength"/> bytes at <paramref name="timeAt"/> for the time.</param>
    internal PreparedReceipt(string scroll, byte[] text, int seqAt, int seqRoom, int timeAt)
    {
        (_scroll, _text, _seqAt, _seqRoom, _timeAt) = (scroll, text, seqAt, seqRoom, timeAt);
    }

    public string Scroll => _scroll;

    /// <summary>The receipt's line at <paramref name="seq"/> and <paramref name="time"/>, as a new array (may be called again, until <see cref="BuildOnce"/>).</summary>
    public byte[] Build(long seq, DateTimeOffset time)
    {
        if (Volatile.Read(ref _handedOver) != 0)
        {
            throw HandedOver();
        }

        return Copy(seq, time);
    }

    /// <summary>
    /// The line, for a caller that builds it once (a store writing it at its seq): the prepared bytes themselves
    /// when the seq fits their room. Afterwards this receipt builds nothing more (<see cref="InvalidOperationException"/>).
    /// </summary>
    public byte[] BuildOnce(long seq, DateTimeOffset time)
    {
        CheckSeq(seq);
        if (Interlocked.Exchange(ref _handedOver, 1) != 0)
        {
            throw HandedOver();
        }

        if (DigitCount(seq) != _seqRoom)
        {
            return Copy(seq, time);
        }

        var span = _text.AsSpan();
        seq.TryFormat(span.Slice(_seqAt, _seqRoom), out _, default, CultureInfo.InvariantCulture);
        if (!time.UtcDateTime.TryFormat(span.Slice(_timeAt, TimeLength), out var timeLength, Receipt.TimeFormat, CultureInfo.InvariantCulture) || timeLength != TimeLength)
        {
            throw new ArgumentOutOfRangeException(nameof(time), time, "a receipt time is written as yyyy-MM-ddTHH:mm:ss.fffZ (years 0001 to 9999)");
        }

        return _text;
    }

    /// <summary>Decimal digits of a seq (0 has one).</summary>
    internal static int DigitCount(long seq)
    {
        var digits = 1;
        while (seq >= 10)
        {
            seq /= 10;
            digits++;
        }

        return digits;
    }

    private byte[] Copy(long seq, DateTimeOffset time)
    {
        CheckSeq(seq);
        Span<byte> seqDigits = stackalloc byte[20];
        seq.TryFormat(seqDigits, out var seqLength, default, CultureInfo.InvariantCulture);
        Span<byte> timeBytes = stackalloc byte[TimeLength];
        time.UtcDateTime.TryFormat(timeBytes, out var timeLength, Receipt.TimeFormat, CultureInfo.InvariantCulture);
        var line = new byte[_text.Length - _seqRoom - TimeLength + seqLength + timeLength];
        var source = _text.AsSpan();
        var span = line.AsSpan();
        source[.._seqAt].CopyTo(span);
        seqDigits[..seqLength].CopyTo(span[_seqAt..]);
        var afterSeq = _seqAt + seqLength;
        source[(_seqAt + _seqRoom).._timeAt].CopyTo(span[afterSeq..]);
        var timeAt = afterSeq + (_timeAt - _seqAt - _seqRoom);
        timeBytes[..timeLength].CopyTo(span[timeAt..]);
        source[(_timeAt + TimeLength)..].CopyTo(span[(timeAt + timeLength)..]);
        return line;
    }

    private static void CheckSeq(long seq)
    {
        if (seq < 0 || seq > MaxSeq)
        {
            throw new ArgumentOutOfRangeException(nameof(seq), seq, $"a receipt seq is between 0 and 2^53 (exact in RFC 8785 numbers)");
        }
    }

    private InvalidOperationException HandedOver() => new($"this receipt for scroll {_scroll} was built once already: its bytes are the line a store holds");
}

/// <summary>
/// A sealed receipt (docs/formats/receipt.md): one line of a scroll, the RFC 8785 form of
/// <c>{"body", "node"?, "scroll", "seq", "tags"?, "time", "type"}</c>. Its leaf hash is
/// SHA-256(0x00 ‖ line bytes) and its id is <c>&lt;scroll&gt;:&lt;seq&gt;</c>.
/// </summary>
public sealed partial record Receipt(string Type, string Scroll, long Seq, DateTimeOffset Time, JsonObject Body, IReadOnlyList<string> Tags, string? Node)
{
    /// <summary>RFC 3339 UTC with milliseconds, e.g. 2026-11-21T23:42:31.123Z.</summary>
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public const int MaxTags = 32;

    public string Id => FormatId(Scroll, Seq);

    public static string FormatId(string scroll, long seq) => scroll + ":" + seq.ToString(CultureInfo.InvariantCulture);

    /// <summary>Builds the canonical line of a draft at its position.</summary>
    public static byte[] BuildLine(ReceiptDraft draft, string scroll, long seq, DateTimeOffset time) => Prepare(draft, scroll).Build(seq, time);

    /// <summary>
    /// Canonicalises everything but <c>seq</c> and <c>time</c> now, so the store's single writer only
    /// writes two numbers into bytes (the members' canonical order is fixed: body, node, scroll, seq,
    /// tags, time, type). <paramref name="expectedSeq"/> (e.g. the scroll's size) sizes the room for the seq:
    /// a seq with as many digits is written in place (see <see cref="PreparedReceipt.BuildOnce"/>).
    /// </summary>
    public static PreparedReceipt Prepare(ReceiptDraft draft, string scroll, long expectedSeq = 0) =>
        Prepare(draft.Type, scroll, draft.Tags, draft.Node, expectedSeq, draft, static (line, draft) =>
        {
            if (draft.RawBody is { Count: > 0 } raw)
            {
                CanonicalJson.WriteObject(line, draft.Body, raw);
            }
            else
            {
                CanonicalJson.Write(line, draft.Body);
            }
        });

    /// <summary>
    /// The same, for a body written by <paramref name="writeBody"/> as the RFC 8785 form of a JSON object (a hot
    /// path's typed body, without a tree). The caller answers for the body being canonical; everything around
    /// it is written and checked here.
    /// </summary>
    public static PreparedReceipt Prepare<TBody>(string type, string scroll, IReadOnlyList<string>? tags, string? node, long expectedSeq, TBody body, Action<ArrayBufferWriter<byte>, TBody> writeBody)
    {
        ValidateType(type);
        var seqRoom = PreparedReceipt.DigitCount(Math.Max(0, expectedSeq));
        // One buffer per thread, reused: a receipt is built here, then copied out once at its exact size.
        var line = t_line ?? new ArrayBufferWriter<byte>(4096);
        t_line = null; // a body writer that prepares a receipt of its own gets a fresh buffer
        try
        {
            line.ResetWrittenCount();
            line.Write("{\"body\":"u8);
            writeBody(line, body);
            if (node is not null)
            {
                line.Write(",\"node\":"u8);
                CanonicalJson.Write(line, node);
            }

            line.Write(",\"scroll\":"u8);
            CanonicalJson.Write(line, scroll);
            line.Write(",\"seq\":"u8);
            var seqAt = line.WrittenCount;
            Reserve(line, seqRoom);
            if (tags is { Count: > 0 })
            {
                ValidateTags(tags);
                line.Write(",\"tags\":["u8);
                for (var i = 0; i < tags.Count; i++)
                {
                    if (i > 0)
                    {
                        line.Write(","u8);
                    }

                    CanonicalJson.Write(line, tags[i]);
                }

                line.Write("]"u8);
            }

            line.Write(",\"time\":\""u8);
            var timeAt = line.WrittenCount;
            Reserve(line, PreparedReceipt.TimeLength);
            line.Write("\",\"type\":"u8);
            CanonicalJson.Write(line, type);
            line.Write("}"u8);
            return new PreparedReceipt(scroll, line.WrittenSpan.ToArray(), seqAt, seqRoom, timeAt);
        }
        finally
        {
            if (line.Capacity <= MaxCachedLineBytes)
            {
                t_line = line;
            }
        }
    }

    private const int MaxCachedLineBytes = 256 * 1024;

    // Room the store's writer fills in (zeros until then; never seen outside a built line).
    private static void Reserve(ArrayBufferWriter<byte> line, int bytes)
    {
        line.GetSpan(bytes)[..bytes].Fill((byte)'0');
        line.Advance(bytes);
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_line;

    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>Parses and checks a stored line: canonical form, required members, types.</summary>
    public static Receipt Parse(ReadOnlySpan<byte> line)
    {
        var node = CanonicalJson.Parse(line) as JsonObject ?? throw new FormatException("a receipt must be a JSON object");
        if (!CanonicalJson.Write(node).AsSpan().SequenceEqual(line))
        {
            throw new FormatException("the receipt line is not in RFC 8785 canonical form");
        }

        foreach (var (name, _) in node)
        {
            if (name is not ("type" or "scroll" or "seq" or "time" or "body" or "tags" or "node"))
            {
                throw new FormatException($"unexpected receipt member \"{name}\"");
            }
        }

        var type = RequireString(node, "type");
        ValidateType(type);
        var scroll = RequireString(node, "scroll");
        var seqValue = node["seq"] is JsonValue v && v.TryGetValue<double>(out var d) ? d : throw new FormatException("receipt member \"seq\" must be a number");
        if (seqValue < 0 || seqValue != Math.Floor(seqValue) || seqValue > (1L << 53))
        {
            throw new FormatException($"receipt seq {seqValue} is not a non-negative integer");
        }

        var timeText = RequireString(node, "time");
        if (!DateTimeOffset.TryParseExact(timeText, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            throw new FormatException($"receipt time \"{timeText}\" is not RFC 3339 UTC ({TimeFormat})");
        }

        var body = node["body"] as JsonObject ?? throw new FormatException("receipt member \"body\" must be an object");
        var tags = node["tags"] switch
        {
            null => [],
            JsonArray array => array.Select(t => t is JsonValue tv && tv.TryGetValue<string>(out var s) ? s : throw new FormatException("receipt tags must be strings")).ToList(),
            _ => throw new FormatException("receipt member \"tags\" must be an array"),
        };
        var nodeFingerprint = node["node"] is null ? null : RequireString(node, "node");
        return new Receipt(type, scroll, (long)seqValue, time, (JsonObject)body.DeepClone(), tags, nodeFingerprint);
    }

    private static string RequireString(JsonObject obj, string name) =>
        obj[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new FormatException($"receipt member \"{name}\" must be a string");

    private static void ValidateType(string type)
    {
        if (ReferenceEquals(type, s_validType))
        {
            return; // the same string checked last time (hot paths pass one constant per receipt kind)
        }

        if (!TypePattern().IsMatch(type))
        {
            throw new FormatException($"receipt type \"{type}\" must match {TypePattern()}");
        }

        s_validType = type;
    }

    private static string? s_validType;

    private static void ValidateTags(IReadOnlyList<string> tags)
    {
        if (tags.Count > MaxTags)
        {
            throw new FormatException($"a receipt has at most {MaxTags} tags, got {tags.Count}");
        }

        for (var i = 0; i < tags.Count; i++) // by index: no enumerator per receipt
        {
            var tag = tags[i];
            if (tag.Length is 0 or > 64)
            {
                throw new FormatException($"tag \"{tag}\" must be 1 to 64 characters");
            }
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9_.-]{0,63}$")]
    private static partial Regex TypePattern();
}

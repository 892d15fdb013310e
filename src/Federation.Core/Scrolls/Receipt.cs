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

/// <summary>A receipt canonicalised up to its position and time (see <see cref="Receipt.Prepare"/>).</summary>
public sealed class PreparedReceipt(byte[] head, byte[] middle, byte[] tail)
{
    private const int TimeLength = 24; // yyyy-MM-ddTHH:mm:ss.fffZ

    public byte[] Build(long seq, DateTimeOffset time)
    {
        if (seq < 0 || seq > MaxSeq)
        {
            throw new ArgumentOutOfRangeException(nameof(seq), seq, $"a receipt seq is between 0 and 2^53 (exact in RFC 8785 numbers)");
        }

        Span<byte> seqDigits = stackalloc byte[20];
        seq.TryFormat(seqDigits, out var seqLength, default, CultureInfo.InvariantCulture);
        Span<char> timeChars = stackalloc char[TimeLength];
        time.UtcDateTime.TryFormat(timeChars, out var timeLength, Receipt.TimeFormat, CultureInfo.InvariantCulture);
        var line = new byte[head.Length + seqLength + middle.Length + timeLength + tail.Length];
        var span = line.AsSpan();
        head.CopyTo(span);
        span = span[head.Length..];
        seqDigits[..seqLength].CopyTo(span);
        span = span[seqLength..];
        middle.CopyTo(span);
        span = span[middle.Length..];
        for (var i = 0; i < timeLength; i++)
        {
            span[i] = (byte)timeChars[i];
        }

        span = span[timeLength..];
        tail.CopyTo(span);
        return line;
    }

    private const long MaxSeq = 1L << 53;
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
    /// splices two numbers into bytes (the members' canonical order is fixed: body, node, scroll, seq,
    /// tags, time, type).
    /// </summary>
    public static PreparedReceipt Prepare(ReceiptDraft draft, string scroll)
    {
        ValidateType(draft.Type);
        var head = new List<byte>(256);
        head.AddRange("{\"body\":"u8.ToArray());
        head.AddRange(draft.RawBody is { Count: > 0 } raw ? CanonicalJson.WriteObject(draft.Body, raw) : CanonicalJson.Write(draft.Body));
        if (draft.Node is not null)
        {
            head.AddRange(",\"node\":"u8.ToArray());
            head.AddRange(CanonicalJson.Write(JsonValue.Create(draft.Node)));
        }

        head.AddRange(",\"scroll\":"u8.ToArray());
        head.AddRange(CanonicalJson.Write(JsonValue.Create(scroll)));
        head.AddRange(",\"seq\":"u8.ToArray());

        var middle = new List<byte>(128);
        if (draft.Tags is { Count: > 0 } tags)
        {
            ValidateTags(tags);
            middle.AddRange(",\"tags\":"u8.ToArray());
            middle.AddRange(CanonicalJson.Write(new JsonArray(tags.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray())));
        }

        middle.AddRange(",\"time\":\""u8.ToArray());
        var tail = new List<byte>(64);
        tail.AddRange("\",\"type\":"u8.ToArray());
        tail.AddRange(CanonicalJson.Write(JsonValue.Create(draft.Type)));
        tail.Add((byte)'}');
        return new PreparedReceipt([.. head], [.. middle], [.. tail]);
    }

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
        if (!TypePattern().IsMatch(type))
        {
            throw new FormatException($"receipt type \"{type}\" must match {TypePattern()}");
        }
    }

    private static void ValidateTags(IReadOnlyList<string> tags)
    {
        if (tags.Count > MaxTags)
        {
            throw new FormatException($"a receipt has at most {MaxTags} tags, got {tags.Count}");
        }

        foreach (var tag in tags)
        {
            if (tag.Length is 0 or > 64)
            {
                throw new FormatException($"tag \"{tag}\" must be 1 to 64 characters");
            }
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9_.-]{0,63}$")]
    private static partial Regex TypePattern();
}

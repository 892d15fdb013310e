using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Hashing;
using Federation.Core.Membership;

namespace Federation.Core.Ingest;

/// <summary>One keyed canon entry (SPEC B): the revision a node holds for a signature id, its confidence and patch.</summary>
public sealed record CanonEntry(long Revision, double Confidence, string Patch);

/// <summary>
/// A decoded update delta (docs/formats/update-payload.md): either a numeric vector or keyed canon entries.
/// On the wire: payload = base64(raw DEFLATE (RFC 1951) of the RFC 8785 form of
/// <c>{"kind":"vector","values":[…]}</c> or <c>{"kind":"canon","entries":{"id":{"confidence","patch","revision"}}}</c>),
/// and update_hash = SHA-256 of the compressed bytes.
/// </summary>
public sealed record UpdateDelta(AggregationKind Kind, IReadOnlyList<double>? Values, IReadOnlyDictionary<string, CanonEntry>? Entries)
{
    public static UpdateDelta Vector(IReadOnlyList<double> values) => new(AggregationKind.Vector, values, null);

    public static UpdateDelta Canon(IReadOnlyDictionary<string, CanonEntry> entries) => new(AggregationKind.Canon, null, entries);

    public JsonObject ToJson() => Kind == AggregationKind.Vector
        ? new JsonObject { ["kind"] = "vector", ["values"] = new JsonArray(Values!.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()) }
        : new JsonObject
        {
            ["kind"] = "canon",
            ["entries"] = new JsonObject(Entries!.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)new JsonObject
            {
                ["revision"] = e.Value.Revision,
                ["confidence"] = e.Value.Confidence,
                ["patch"] = e.Value.Patch,
            }))),
        };

    /// <summary>Encodes the delta: canonical JSON, raw DEFLATE (optimal), as sent in a MetaUpdate.</summary>
    public byte[] Compress() => Compress(CanonicalJson.Write(ToJson()));

    /// <summary>Raw DEFLATE (optimal) of a delta's JSON bytes, e.g. a program's output, to decode with <see cref="UpdatePayload.Decode"/>.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> canonical)
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(canonical);
        }

        return output.ToArray();
    }

    /// <summary>The payload string and update hash of this delta.</summary>
    public (string Payload, Sha256Digest UpdateHash) Encode()
    {
        var compressed = Compress();
        return (Convert.ToBase64String(compressed), Sha256Digest.Of(compressed));
    }
}

/// <summary>Decodes payloads within the policy's bounds; every failure is a <see cref="PayloadException"/> with its refusal code.</summary>
public static class UpdatePayload
{
    public static byte[] DecodeBase64(string payload, FederationPolicy policy)
    {
        // Base64 is 4/3 of the bytes: refuse oversized payloads before allocating for them.
        if ((long)payload.Length * 3 / 4 > policy.MaxPayloadBytes + 3)
        {
            throw new PayloadException(RefusalCode.OversizedPayload, $"the payload is about {(long)payload.Length * 3 / 4} bytes, over the federation's limit of {policy.MaxPayloadBytes}");
        }

        try
        {
            return Convert.FromBase64String(payload);
        }
        catch (FormatException)
        {
            throw new PayloadException(RefusalCode.MalformedPayload, "the payload is not valid base64");
        }
    }

    public static UpdateDelta Decode(byte[] compressed, FederationPolicy policy)
    {
        var (output, length) = Inflate(compressed, policy);
        try
        {
            var json = output.AsSpan(0, length);
            return TryDecodeVector(json, policy) ?? DecodeTree(json, policy);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(output);
        }
    }

    /// <summary>The policy's size limit, then the delta's JSON in a pooled array (the caller returns it).</summary>
    private static (byte[] Output, int Length) Inflate(byte[] compressed, FederationPolicy policy)
    {
        if (compressed.Length > policy.MaxPayloadBytes)
        {
            throw new PayloadException(RefusalCode.OversizedPayload, $"the payload is {compressed.Length} bytes, over the federation's limit of {policy.MaxPayloadBytes}");
        }

        return RawInflater.Inflate(compressed, policy.MaxDeltaBytes);
    }

    /// <summary>The delta's JSON through a strict tree: every kind, every error worded.</summary>
    internal static UpdateDelta DecodeTree(ReadOnlySpan<byte> json, FederationPolicy policy)
    {
        JsonObject obj;
        try
        {
            obj = CanonicalJson.Parse(json) as JsonObject ?? throw new FormatException("the delta must be a JSON object");
        }
        catch (FormatException ex)
        {
            throw new PayloadException(RefusalCode.MalformedPayload, $"the delta is not valid JSON: {ex.Message}");
        }

        var kind = obj["kind"] is JsonValue k && k.TryGetValue<string>(out var s) ? s : null;
        return kind switch
        {
            "vector" => DecodeVector(obj, policy),
            "canon" => DecodeCanon(obj),
            _ => throw new PayloadException(RefusalCode.MalformedPayload, "the delta's \"kind\" must be \"vector\" or \"canon\""),
        };
    }

    /// <summary>
    /// The common case without a tree: <c>{"kind":"vector","values":[…]}</c> with exactly the federation's
    /// dimension of finite numbers (no -0), members in any order, nothing else. Null for anything else: the
    /// tree path below then decides, with the same strict rules, and words the error.
    /// </summary>
    internal static UpdateDelta? TryDecodeVector(ReadOnlySpan<byte> json, FederationPolicy policy)
    {
        // Each value takes at least two bytes: the input bounds the allocation, not only the policy.
        var values = new double[Math.Min(policy.VectorDimension, json.Length / 2 + 1)];
        return ScanVector(json, policy, values) ? UpdateDelta.Vector(values) : null;
    }

    /// <summary>
    /// <see cref="Decode"/>'s verdict without the values (ingest checks a delta; aggregation reads it later): the
    /// delta's kind, or the <see cref="PayloadException"/> <see cref="Decode"/> would throw. The plain vector is
    /// checked in place — no array, and a number is parsed only when its text alone cannot show it finite.
    /// </summary>
    public static AggregationKind Check(byte[] compressed, FederationPolicy policy)
    {
        var (output, length) = Inflate(compressed, policy);
        try
        {
            var json = output.AsSpan(0, length);
            return ScanVector(json, policy, values: default) ? AggregationKind.Vector : DecodeTree(json, policy).Kind;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(output);
        }
    }

    /// <summary>
    /// True when <paramref name="json"/> is the plain vector shape (see <see cref="TryDecodeVector"/>); writes the
    /// values into <paramref name="values"/> when it is not empty, else only checks them.
    /// </summary>
    private static bool ScanVector(ReadOnlySpan<byte> json, FederationPolicy policy, Span<double> values)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            return false;
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = CanonicalJson.MaxDepth });
        var decode = !values.IsEmpty;
        var capacity = decode ? values.Length : policy.VectorDimension;
        var sawKind = false;
        var sawValues = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("kind"u8) && !sawKind)
                {
                    sawKind = true;
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String || !reader.ValueTextEquals("vector"u8))
                    {
                        return false;
                    }
                }
                else if (reader.ValueTextEquals("values"u8) && !sawValues)
                {
                    sawValues = true;
                    if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                    {
                        return false;
                    }

                    var count = 0;
                    while (reader.Read() && reader.TokenType == JsonTokenType.Number)
                    {
                        var raw = reader.ValueSpan;
                        if (count == capacity)
                        {
                            return false;
                        }

                        if (decode)
                        {
                            var value = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
                            if (!double.IsFinite(value) || (value == 0 && raw[0] == (byte)'-'))
                            {
                                return false;
                            }

                            values[count] = value;
                        }
                        else if (!IsFiniteNotNegativeZero(raw))
                        {
                            return false;
                        }

                        count++;
                    }

                    if (reader.TokenType != JsonTokenType.EndArray || count != policy.VectorDimension)
                    {
                        return false;
                    }
                }
                else
                {
                    return false;
                }
            }

            return reader.TokenType == JsonTokenType.EndObject && sawKind && sawValues && !reader.Read();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException) // e.g. a lone surrogate in a name
        {
            return false;
        }
    }

    /// <summary>
    /// What parsing would say of a JSON number — finite, and not -0 — read from its text where the text decides:
    /// without an exponent and under 300 characters it is below 10^300 in magnitude, so finite, and it is zero when
    /// every digit is. Only the rest (an exponent, or hundreds of digits) is parsed.
    /// </summary>
    private static bool IsFiniteNotNegativeZero(ReadOnlySpan<byte> raw)
    {
        if (raw.Length >= 300 || raw.IndexOfAny((byte)'e', (byte)'E') >= 0)
        {
            var value = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
            return double.IsFinite(value) && !(value == 0 && raw[0] == (byte)'-');
        }

        return raw[0] != (byte)'-' || raw[1..].IndexOfAnyExcept((byte)'0', (byte)'.') >= 0;
    }

    private static UpdateDelta DecodeVector(JsonObject obj, FederationPolicy policy)
    {
        RequireOnly(obj, "kind", "values");
        if (obj["values"] is not JsonArray array)
        {
            throw new PayloadException(RefusalCode.MalformedPayload, "a vector delta needs a \"values\" array");
        }

        if (array.Count != policy.VectorDimension)
        {
            throw new PayloadException(RefusalCode.MalformedPayload, $"the vector has {array.Count} values, the federation's dimension is {policy.VectorDimension}");
        }

        var values = new double[array.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = array[i] is JsonValue v && v.TryGetValue<double>(out var d)
                ? d
                : throw new PayloadException(RefusalCode.MalformedPayload, $"vector value {i} is not a number");
        }

        return UpdateDelta.Vector(values);
    }

    private static UpdateDelta DecodeCanon(JsonObject obj)
    {
        RequireOnly(obj, "kind", "entries");
        if (obj["entries"] is not JsonObject entries || entries.Count == 0)
        {
            throw new PayloadException(RefusalCode.MalformedPayload, "a canon delta needs a non-empty \"entries\" object");
        }

        var result = new SortedDictionary<string, CanonEntry>(StringComparer.Ordinal);
        foreach (var (id, node) in entries)
        {
            if (node is not JsonObject entry)
            {
                throw new PayloadException(RefusalCode.MalformedPayload, $"canon entry \"{id}\" must be an object");
            }

            RequireOnly(entry, "revision", "confidence", "patch");
            var revision = entry["revision"] is JsonValue r && r.TryGetValue<double>(out var rv) && rv >= 0 && rv == Math.Floor(rv) ? (long)rv
                : throw new PayloadException(RefusalCode.MalformedPayload, $"canon entry \"{id}\": revision must be a non-negative integer");
            var confidence = entry["confidence"] is JsonValue c && c.TryGetValue<double>(out var cv) && cv is >= 0 and <= 1 ? cv
                : throw new PayloadException(RefusalCode.MalformedPayload, $"canon entry \"{id}\": confidence must be a number in [0, 1]");
            var patch = entry["patch"] is JsonValue p && p.TryGetValue<string>(out var pv) ? pv
                : throw new PayloadException(RefusalCode.MalformedPayload, $"canon entry \"{id}\": patch must be a string");
            result[id] = new CanonEntry(revision, confidence, patch);
        }

        return UpdateDelta.Canon(result);
    }

    private static void RequireOnly(JsonObject obj, params string[] names)
    {
        foreach (var (key, _) in obj)
        {
            if (!names.Contains(key))
            {
                throw new PayloadException(RefusalCode.MalformedPayload, $"unexpected member \"{key}\" in the delta");
            }
        }
    }
}

public sealed class PayloadException(RefusalCode code, string message) : FormatException(message)
{
    public RefusalCode Code { get; } = code;
}

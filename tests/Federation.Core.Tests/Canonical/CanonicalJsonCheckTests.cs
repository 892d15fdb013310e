using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;

namespace Federation.Core.Tests.Canonical;

/// <summary><see cref="CanonicalJson.IsCanonical"/> answers exactly "Canonicalize(x) succeeds and returns x".</summary>
public class CanonicalJsonCheckTests
{
    private static bool Reference(byte[] json)
    {
        try
        {
            return CanonicalJson.Canonicalize(json).AsSpan().SequenceEqual(json);
        }
        catch (CanonicalJsonException)
        {
            return false;
        }
    }

    [Theory]
    [InlineData("""{"a":1,"b":[true,false,null],"c":"x"}""", true)]
    [InlineData("""{"b":1,"a":2}""", false)]
    [InlineData("""{"a":1,"a":1}""", false)]
    [InlineData("""{"a": 1}""", false)]
    [InlineData("""{"a":1} """, false)]
    [InlineData(""" {"a":1}""", false)]
    [InlineData("""[1,2 ,3]""", false)]
    [InlineData("""-0""", false)]
    [InlineData("""0""", true)]
    [InlineData("""-5""", true)]
    [InlineData("""05""", false)]
    [InlineData("""1.0""", false)]
    [InlineData("""1e+23""", true)]
    [InlineData("""1E+23""", false)]
    [InlineData("""1e23""", false)]
    [InlineData("""1e400""", false)]
    [InlineData("""123456789012345""", true)]
    [InlineData("""1234567890123456789""", false)]
    [InlineData("""1000000000000000000000""", false)]
    [InlineData("""100000000000000000000""", true)]
    [InlineData("""0.000001""", true)]
    [InlineData("""1e-7""", true)]
    [InlineData("""0.0000001""", false)]
    [InlineData("""["\u001f","\n","\"","\\"]""", true)]
    [InlineData("""["\u001F"]""", false)]
    [InlineData("""["\u000a"]""", false)]
    [InlineData("""["\u0041"]""", false)]
    [InlineData("""["\/"]""", false)]
    [InlineData("""["\ud800"]""", false)]
    [InlineData("""["é😀"]""", true)]
    [InlineData("{\"😀\":2,\"\uE000\":1}", true)] // UTF-16 order: a surrogate pair sorts before U+E000…U+FFFF
    [InlineData("{\"\uE000\":1,\"😀\":2}", false)]
    [InlineData("""{"a":{"b":1,"c":2},"b":{"a":1}}""", true)]
    [InlineData("""{"a":{"c":1,"b":2},"b":{}}""", false)]
    [InlineData("""{"a\n":1,"a\t":2}""", false)]
    [InlineData("""{"a\t":1,"a\n":2}""", true)]
    [InlineData("""[]""", true)]
    [InlineData("""{}""", true)]
    [InlineData("""{"a":1,}""", false)]
    [InlineData("""{"a":1}{}""", false)]
    [InlineData("", false)]
    public void Known_documents_are_classified_as_canonicalisation_would(string json, bool canonical)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.Equal(canonical, Reference(bytes));
        Assert.Equal(canonical, CanonicalJson.IsCanonical(bytes));
    }

    [Fact]
    public void A_byte_order_mark_or_invalid_utf8_is_not_canonical()
    {
        Assert.False(CanonicalJson.IsCanonical([0xEF, 0xBB, 0xBF, (byte)'1']));
        Assert.False(CanonicalJson.IsCanonical([(byte)'"', 0xC3, (byte)'"']));
    }

    [Fact]
    public void Random_documents_and_their_variants_are_classified_as_canonicalisation_would()
    {
        var random = new Random(8785);
        var relaxed = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        for (var n = 0; n < 3000; n++)
        {
            var tree = RandomValue(random, 0);
            var canonical = CanonicalJson.Write(tree);
            Assert.True(CanonicalJson.IsCanonical(canonical), Encoding.UTF8.GetString(canonical));
            Assert.True(CanonicalJson.IsCanonical(canonical, "signature"u8, out var memberStart, out var memberValue));
            if (tree is JsonObject obj && obj.TryGetPropertyValue("signature", out var member))
            {
                Assert.True(canonical.AsSpan(memberStart).StartsWith("\"signature\":"u8));
                Assert.Equal(CanonicalJson.Write(member), canonical[memberValue]);
            }
            else
            {
                Assert.Equal(-1, memberStart);
            }

            var variants = new List<byte[]>
            {
                Encoding.UTF8.GetBytes(tree?.ToJsonString() ?? "null"),
                Encoding.UTF8.GetBytes(tree?.ToJsonString(relaxed) ?? "null"),
                Encoding.UTF8.GetBytes(Reversed(tree)?.ToJsonString(relaxed) ?? "null"),
                Mutate(canonical, random),
                Mutate(canonical, random),
                Mutate(canonical, random),
            };
            foreach (var variant in variants)
            {
                Assert.True(Reference(variant) == CanonicalJson.IsCanonical(variant), Encoding.UTF8.GetString(variant));
            }
        }
    }

    private static readonly string[] Names = ["a", "b", "ab", "B", "é", "😀", "\uE000", "\uFFFD", "\u0001", "\n", "\"", "\\", "type", "signature", "z9", ""];

    private static JsonNode? RandomValue(Random random, int depth)
    {
        switch (random.Next(depth >= 4 ? 4 : 6))
        {
            case 0:
                return JsonValue.Create(RandomNumber(random));
            case 1:
                return JsonValue.Create(RandomString(random));
            case 2:
                return random.Next(3) switch { 0 => JsonValue.Create(true), 1 => JsonValue.Create(false), _ => null };
            case 3:
                return JsonValue.Create(random.Next(-1000, 1000));
            case 4:
                var array = new JsonArray();
                for (var i = random.Next(4); i > 0; i--)
                {
                    array.Add(RandomValue(random, depth + 1));
                }

                return array;
            default:
                var obj = new JsonObject();
                for (var i = random.Next(5); i > 0; i--)
                {
                    var name = random.Next(3) == 0 ? RandomString(random) : Names[random.Next(Names.Length)];
                    obj[name] = RandomValue(random, depth + 1);
                }

                return obj;
        }
    }

    private static double RandomNumber(Random random) => random.Next(4) switch
    {
        0 => BitConverter.Int64BitsToDouble(random.NextInt64()) is var d && double.IsFinite(d) ? d : 1.5,
        1 => Math.Round(random.NextDouble() * 1000, random.Next(4)),
        2 => random.NextInt64(-(1L << 53), 1L << 53),
        _ => Math.Pow(10, random.Next(-10, 25)),
    };

    private static string RandomString(Random random)
    {
        var pieces = new[] { "a", "Z", "é", "😀", "\uE000", "\uFFFD", "\u0001", "\u001f", "\u007f", "\n", "\t", "\b", "\f", "\r", "\"", "\\", "/", " ", "<", "中" };
        var builder = new StringBuilder();
        for (var i = random.Next(5); i > 0; i--)
        {
            builder.Append(pieces[random.Next(pieces.Length)]);
        }

        return builder.ToString();
    }

    private static JsonNode? Reversed(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.Reverse().Select(m => KeyValuePair.Create(m.Key, Reversed(m.Value)))),
        JsonArray array => new JsonArray(array.Select(Reversed).ToArray()),
        _ => node?.DeepClone(),
    };

    /// <summary>One small edit of canonical text: whitespace, an escape, a number's spelling, a stray byte.</summary>
    private static byte[] Mutate(byte[] canonical, Random random)
    {
        var text = Encoding.UTF8.GetString(canonical);
        var at = random.Next(text.Length + 1);
        var edit = random.Next(8) switch
        {
            0 => text.Insert(at, " "),
            1 => text.Insert(at, "\n"),
            2 => text.Replace("\\n", "\\u000a"),
            3 => text.Replace("\\u001f", "\\u001F"),
            4 => text.Replace("é", "\\u00e9"),
            5 => text.Replace("1", "1.0"),
            6 => text.Replace("e+", "E+"),
            _ => text.Remove(Math.Min(at, text.Length - 1), 1),
        };
        return Encoding.UTF8.GetBytes(edit);
    }
}

using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;

namespace Federation.Core.Tests.Canonical;

public class CanonicalJsonTests
{
    private static string Canon(string json) => Encoding.UTF8.GetString(CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(json)));

    // RFC 8785 Appendix B: IEEE-754 bit patterns and their required serialisation.
    [Theory]
    [InlineData(0x0000000000000000UL, "0")]
    [InlineData(0x8000000000000000UL, "0")]
    [InlineData(0x0000000000000001UL, "5e-324")]
    [InlineData(0x8000000000000001UL, "-5e-324")]
    [InlineData(0x7fefffffffffffffUL, "1.7976931348623157e+308")]
    [InlineData(0xffefffffffffffffUL, "-1.7976931348623157e+308")]
    [InlineData(0x4340000000000000UL, "9007199254740992")]
    [InlineData(0xc340000000000000UL, "-9007199254740992")]
    [InlineData(0x4430000000000000UL, "295147905179352830000")]
    [InlineData(0x44b52d02c7e14af5UL, "9.999999999999997e+22")]
    [InlineData(0x44b52d02c7e14af6UL, "1e+23")]
    [InlineData(0x44b52d02c7e14af7UL, "1.0000000000000001e+23")]
    [InlineData(0x444b1ae4d6e2ef4eUL, "999999999999999700000")]
    [InlineData(0x444b1ae4d6e2ef4fUL, "999999999999999900000")]
    [InlineData(0x444b1ae4d6e2ef50UL, "1e+21")]
    [InlineData(0x3eb0c6f7a0b5ed8cUL, "9.999999999999997e-7")]
    [InlineData(0x3eb0c6f7a0b5ed8dUL, "0.000001")]
    [InlineData(0x41b3de4355555553UL, "333333333.3333332")]
    [InlineData(0x41b3de4355555554UL, "333333333.33333325")]
    [InlineData(0x41b3de4355555555UL, "333333333.3333333")]
    [InlineData(0x41b3de4355555556UL, "333333333.3333334")]
    [InlineData(0x41b3de4355555557UL, "333333333.33333343")]
    [InlineData(0xbecbf647612f3696UL, "-0.0000033333333333333333")]
    [InlineData(0x43143ff3c1cb0959UL, "1424953923781206.2")]
    public void Numbers_serialise_as_in_rfc8785_appendix_b(ulong bits, string expected)
    {
        Assert.Equal(expected, JcsNumber.Format(BitConverter.UInt64BitsToDouble(bits)));
    }

    [Fact]
    public void Numbers_serialise_as_ecmascript_does_for_4000_random_doubles()
    {
        var lines = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Vectors", "jcs-numbers-ecmascript.txt")).Where(l => !l.StartsWith('#')).ToList();
        Assert.True(lines.Count >= 4000);
        foreach (var line in lines)
        {
            var parts = line.Split(' ');
            var value = BitConverter.UInt64BitsToDouble(Convert.ToUInt64(parts[0], 16));
            Assert.True(parts[1] == JcsNumber.Format(value), $"bits {parts[0]}: expected {parts[1]}, got {JcsNumber.Format(value)}");
        }
    }

    [Theory]
    [InlineData(0x7fffffffffffffffUL)] // NaN
    [InlineData(0x7ff0000000000000UL)] // Infinity
    [InlineData(0xfff0000000000000UL)] // -Infinity
    public void Numbers_jcs_cannot_represent_are_refused(ulong bits)
    {
        var ex = Assert.Throws<CanonicalJsonException>(() => JcsNumber.Format(BitConverter.UInt64BitsToDouble(bits)));
        Assert.Contains("finite", ex.Message);
    }

    [Fact]
    public void Rfc8785_section_3_2_2_example_canonicalises_exactly()
    {
        const string input = """
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """;
        const string expected = """{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}""";
        Assert.Equal(expected, Canon(input));
    }

    [Fact]
    public void Rfc8785_section_3_2_3_sorts_members_by_utf16_code_units()
    {
        const string input = """
            {
              "\u20ac": "Euro Sign",
              "\r": "Carriage Return",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "1": "One",
              "\ud83d\ude00": "Emoji: Grinning Face",
              "\u0080": "Control",
              "\u00f6": "Latin Small Letter O With Diaeresis"
            }
            """;
        var output = CanonicalJson.Parse(Canon(input))!.AsObject().Select(m => m.Value!.GetValue<string>()).ToArray();
        Assert.Equal(
            ["Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign", "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh"],
            output);
    }

    [Fact]
    public void Nested_objects_are_sorted_and_whitespace_removed()
    {
        Assert.Equal("""{"a":{"x":[1,{"m":2,"n":1}],"y":true},"b":null}""", Canon("""{ "b" : null, "a" : { "y" : true, "x" : [ 1, { "n" : 1, "m" : 2 } ] } }"""));
    }

    [Theory]
    [InlineData("\"\\u0000\\u001f\\b\\t\\n\\f\\r\"", "\"\\u0000\\u001f\\b\\t\\n\\f\\r\"")]
    [InlineData("\"\\u00e9\\u4e2d\\ud83d\\ude00\"", "\"é中😀\"")]
    [InlineData("\"\\/\\u007f\"", "\"/\u007f\"")]
    public void Strings_use_minimal_escaping(string input, string expected)
    {
        Assert.Equal(expected, Canon(input));
    }

    [Theory]
    [InlineData("100", "100")]
    [InlineData("1.0", "1")]
    [InlineData("1e2", "100")]
    [InlineData("-1.5e-10", "-1.5e-10")]
    [InlineData("123456789012345678901234", "1.2345678901234569e+23")]
    [InlineData("0.1", "0.1")]
    public void Numbers_in_documents_are_reserialised(string input, string expected)
    {
        Assert.Equal(expected, Canon(input));
    }

    [Fact]
    public void Duplicate_member_names_are_refused_with_the_name()
    {
        var ex = Assert.Throws<CanonicalJsonException>(() => Canon("""{"a":1,"b":{"c":1,"c":2}}"""));
        Assert.Contains("duplicate member name \"c\"", ex.Message);
        Assert.Contains("$.b", ex.Message);
    }

    [Fact]
    public void Duplicates_that_differ_only_in_escaping_are_still_duplicates()
    {
        var ex = Assert.Throws<CanonicalJsonException>(() => Canon("""{"a":1,"\u0061":2}"""));
        Assert.Contains("duplicate", ex.Message);
    }

    [Theory]
    [InlineData("\"\\ud800\"", "d800")]
    [InlineData("\"x\\udc00y\"", "dc00")]
    [InlineData("\"\\ud83d\\u0041\"", "d83d")]
    [InlineData("{\"\\udfff\":1}", "dfff")]
    public void Lone_surrogates_are_refused(string input, string code)
    {
        var ex = Assert.Throws<CanonicalJsonException>(() => Canon(input));
        Assert.Contains("lone surrogate \\u" + code, ex.Message);
    }

    [Fact]
    public void Lone_surrogates_in_dotnet_strings_are_refused_when_writing()
    {
        var node = new JsonObject { ["s"] = "a\ud800b" };
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Write(node));
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e309")]
    [InlineData("[1, 2e999999]")]
    public void Numbers_outside_double_range_are_refused(string input)
    {
        var ex = Assert.Throws<CanonicalJsonException>(() => Canon(input));
        Assert.Contains("outside the range of an IEEE-754 double", ex.Message);
    }

    [Theory]
    [InlineData("-0")]
    [InlineData("-0.0")]
    [InlineData("{\"a\":-0e10}")]
    public void Negative_zero_is_refused(string input)
    {
        var ex = Assert.Throws<CanonicalJsonException>(() => Canon(input));
        Assert.Contains("negative zero", ex.Message);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("{\"a\":1,}")]
    [InlineData("{\"a\":1} x")]
    [InlineData("[1 2]")]
    [InlineData("{'a':1}")]
    [InlineData("// c\n1")]
    [InlineData("\"unterminated")]
    public void Malformed_json_is_refused_with_a_position(string input)
    {
        var ex = Assert.Throws<CanonicalJsonException>(() => Canon(input));
        Assert.Matches("malformed JSON at line|unexpected content", ex.Message);
    }

    [Fact]
    public void Empty_input_is_refused()
    {
        Assert.Contains("empty", Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Canonicalize([])).Message);
        Assert.Contains("empty", Assert.Throws<CanonicalJsonException>(() => Canon("   ")).Message);
    }

    [Fact]
    public void Nesting_beyond_the_limit_is_refused()
    {
        var deep = new string('[', CanonicalJson.MaxDepth + 1) + new string(']', CanonicalJson.MaxDepth + 1);
        Assert.Throws<CanonicalJsonException>(() => Canon(deep));
        var ok = new string('[', CanonicalJson.MaxDepth) + new string(']', CanonicalJson.MaxDepth);
        Assert.Equal(ok, Canon(ok));
    }

    [Fact]
    public void Invalid_utf8_is_refused()
    {
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Canonicalize([(byte)'"', 0xC3, 0x28, (byte)'"']));
    }

    [Fact]
    public void Canonical_output_is_a_fixed_point()
    {
        var once = Canon("""{"z":[1.50,"\u00e9",{"b":false,"a":1e-7}],"a":"x"}""");
        Assert.Equal(once, Canon(once));
    }

    [Fact]
    public void Serialising_records_gives_the_same_bytes_as_parsing_their_json()
    {
        var fromObject = CanonicalJson.Serialize(new { Zeta = 1.25, Alpha = new[] { 3, 2, 1 }, Name = "n" });
        Assert.Equal("""{"Alpha":[3,2,1],"Name":"n","Zeta":1.25}""", Encoding.UTF8.GetString(fromObject));
    }

    [Fact]
    public void Programmatic_nodes_with_integer_values_are_written_as_numbers()
    {
        var node = new JsonObject { ["i"] = 42, ["l"] = 9007199254740993L, ["d"] = 0.5m, ["f"] = 1.5f };
        Assert.Equal("""{"d":0.5,"f":1.5,"i":42,"l":9007199254740992}""", CanonicalJson.WriteString(node));
    }
}

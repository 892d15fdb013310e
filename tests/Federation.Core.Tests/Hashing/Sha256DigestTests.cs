using System.Text;
using System.Text.Json;
using Federation.Core.Hashing;

namespace Federation.Core.Tests.Hashing;

public class Sha256DigestTests
{
    private const string EmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public void Digest_of_empty_input_is_the_fips_180_value()
    {
        Assert.Equal("sha256:" + EmptyHash, Sha256Digest.Of([]).ToString());
    }

    [Fact]
    public void Parse_round_trips_and_compares_by_value()
    {
        var digest = Sha256Digest.Of(Encoding.UTF8.GetBytes("abc"));
        var parsed = Sha256Digest.Parse(digest.ToString());
        Assert.Equal(digest, parsed);
        Assert.Equal(digest.ToArray(), parsed.ToArray());
        Assert.NotEqual(digest, Sha256Digest.Of([]));
    }

    [Theory]
    [InlineData(EmptyHash, "must start with \"sha256:\"")]
    [InlineData("SHA256:" + EmptyHash, "must start with \"sha256:\"")]
    [InlineData("sha512:" + EmptyHash, "must start with \"sha256:\"")]
    [InlineData("sha256:" + "e3b0", "got 4")]
    [InlineData("sha256:" + EmptyHash + "00", "got 66")]
    [InlineData("sha256:E3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "lowercase hex; found 'E' at position 7")]
    [InlineData("sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "non-hex character 'g' at position 7")]
    [InlineData("", "must start with")]
    public void Parse_says_what_is_wrong(string text, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => Sha256Digest.Parse(text));
        Assert.Contains(expected, ex.Message);
        Assert.False(Sha256Digest.TryParseUtf8(Encoding.UTF8.GetBytes(text), out _)); // the UTF-8 parser is as strict
    }

    [Fact]
    public void Utf8_forms_agree_with_the_string_forms()
    {
        var random = new Random(3);
        for (var i = 0; i < 500; i++)
        {
            var bytes = new byte[random.Next(0, 100)];
            random.NextBytes(bytes);
            var digest = Sha256Digest.Of(bytes);
            var utf8 = new byte[Sha256Digest.Utf8Length];
            digest.WriteUtf8(utf8);
            Assert.Equal(digest.ToString(), Encoding.UTF8.GetString(utf8));
            Assert.True(Sha256Digest.TryParseUtf8(utf8, out var parsed));
            Assert.Equal(digest, parsed);

            // One changed character: both parsers agree on accepting it, and on the value.
            utf8[random.Next(utf8.Length)] = (byte)random.Next(32, 127);
            var text = Encoding.UTF8.GetString(utf8);
            Assert.Equal(Sha256Digest.TryParse(text, out var fromString, out _), Sha256Digest.TryParseUtf8(utf8, out var fromBytes));
            Assert.Equal(fromString, fromBytes);
        }
    }

    [Fact]
    public void Json_uses_the_prefixed_form_and_rejects_bad_digests()
    {
        var digest = Sha256Digest.Of([1, 2, 3]);
        var json = JsonSerializer.Serialize(digest);
        Assert.Equal($"\"{digest}\"", json);
        Assert.Equal(digest, JsonSerializer.Deserialize<Sha256Digest>(json));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Sha256Digest>("\"sha256:00\""));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Sha256Digest>("12"));
    }
}

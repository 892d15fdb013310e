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

namespace Federation.Cli.Tests;

public class CanonCommandTests
{
    [Fact]
    public void Canon_prints_the_canonical_form_of_a_file()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("doc.json"), """{ "b": [1.0, 2e3], "a": "\u00e9" }""");
        var result = FedRunner.InProcess("canon", dir.File("doc.json"));
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("{\"a\":\"é\",\"b\":[1,2000]}\n", result.Out);
    }

    [Fact]
    public void Canon_reads_standard_input_with_a_dash()
    {
        var result = FedRunner.Process("""{"z":1,"y":[true,null]}""", "canon", "-");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("{\"y\":[true,null],\"z\":1}", result.Out.Trim());
    }

    [Theory]
    [InlineData("""{"a":1,"a":2}""", "duplicate member name \"a\"")]
    [InlineData("""{"a":1e999}""", "outside the range")]
    [InlineData("""["\udead"]""", "lone surrogate")]
    [InlineData("""{"a":""", "malformed JSON")]
    public void Canon_refuses_what_jcs_cannot_represent_with_exit_2(string json, string expected)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("bad.json"), json);
        var result = FedRunner.InProcess("canon", dir.File("bad.json"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Err);
        Assert.Equal(string.Empty, result.Out);
    }

    [Theory]
    [InlineData("""{"n":-0}""", """{"n":0}""")]
    [InlineData("""[-0.0, 4.50, -0e5, 1E2]""", "[0,4.5,0,100]")]
    public void Canon_writes_every_number_as_rfc_8785_prints_it_negative_zero_included(string json, string expected)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("n.json"), json);
        var result = FedRunner.InProcess("canon", dir.File("n.json"));
        Assert.True(result.ExitCode == 0, result.Err);
        Assert.Equal(expected + "\n", result.Out);
    }

    [Fact]
    public void A_negative_zero_stays_refused_where_a_document_is_evidence()
    {
        // What a signature covers is parsed strictly: -0's canonical form (0) would not be the bytes that were signed.
        var ex = Assert.Throws<Federation.Core.Canonical.CanonicalJsonException>(() => Federation.Core.Canonical.CanonicalJson.Parse("""{"n":-0}"""));
        Assert.Contains("negative zero", ex.Message);
    }

    [Fact]
    public void Canon_refuses_a_document_over_its_size_limit_unread()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("big.json"), "[" + string.Join(",", Enumerable.Repeat("1", 600)) + "]");
        var result = FedRunner.InProcess("canon", dir.File("big.json"), "--max-bytes", "1000");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("over the 1000-byte limit", result.Err);
        Assert.Equal(0, FedRunner.InProcess("canon", dir.File("big.json")).ExitCode);
        Assert.Equal(2, FedRunner.InProcess("canon", dir.File("big.json"), "--max-bytes", "0").ExitCode);
    }
}

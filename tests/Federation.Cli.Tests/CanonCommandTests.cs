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
}

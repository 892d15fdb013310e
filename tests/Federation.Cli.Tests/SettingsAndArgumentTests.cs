using Federation.Testing;

namespace Federation.Cli.Tests;

/// <summary>A settings file or a command line that cannot be used is exit 2 naming what is wrong — never an internal error.</summary>
public sealed class SettingsAndArgumentTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string name, string text)
    {
        var path = _dir.File(name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_malformed_settings_file_is_unusable_input_naming_the_file_and_the_place()
    {
        var path = Write("appsettings.json", "{\n  \"Federation\": { \"DataDirectory\": \"d\", },\n  oops\n}");
        var review = FedRunner.InProcess("review", "list", "--federation", "fed1", "--settings", path);
        Assert.Equal(ExitCodes.UnusableInput, review.ExitCode);
        Assert.Contains(path, review.Err);
        Assert.Contains("not valid JSON at line 3", review.Err);
        Assert.DoesNotContain("internal error", review.Err);

        // The scroll commands read the same file (FED_SETTINGS) and answer the same way.
        var scroll = FedRunner.Process(null, new Dictionary<string, string> { ["FED_SETTINGS"] = path }, "scroll", "verify", "--scroll", "fed1.updates", "--data-dir", _dir.Path);
        Assert.Equal(ExitCodes.UnusableInput, scroll.ExitCode);
        Assert.Contains(path, scroll.Err);
        Assert.Contains("line 3", scroll.Err);
        Assert.Empty(Directory.GetDirectories(_dir.Path));
    }

    [Fact]
    public void A_member_named_twice_in_settings_is_refused_whatever_its_case()
    {
        var path = Write("twice.json", "{ \"Federation\": { \"DataDirectory\": \"a\", \"datadirectory\": \"b\" } }");
        var result = FedRunner.InProcess("review", "list", "--federation", "fed1", "--settings", path);
        Assert.Equal(ExitCodes.UnusableInput, result.ExitCode);
        Assert.Contains("\"datadirectory\" twice in $.Federation", result.Err);
    }

    [Fact]
    public void Comments_and_trailing_commas_stay_allowed_in_settings()
    {
        using var document = SettingsFile.Read(Write("ok.json", "{\n  // the data\n  \"Federation\": { \"DataDirectory\": \"d\", },\n}"));
        Assert.Equal("d", document.RootElement.GetProperty("Federation").GetProperty("DataDirectory").GetString());
    }

    [Fact]
    public void An_oversized_settings_file_is_refused_unread()
    {
        var path = _dir.File("huge.json");
        using (var file = File.Create(path))
        {
            file.SetLength(SettingsFile.MaxBytes + 1);
        }

        var ex = Assert.Throws<FormatException>(() => SettingsFile.Read(path));
        Assert.Contains("over the 1048576-byte limit", ex.Message);
    }

    [Fact]
    public void Seed_and_seeds_together_are_refused_before_anything_runs()
    {
        var scenario = Path.Combine(SharedVectors.RepositoryRoot(), "simulations", "m5-baseline.json");
        var output = _dir.File("out");
        var result = FedRunner.InProcess("simulate", "--scenario", scenario, "--seed", "3", "--seeds", "1..2", "--out", output);
        Assert.Equal(ExitCodes.UnusableInput, result.ExitCode);
        Assert.Contains("--seed and --seeds cannot be used together", result.Err);
        Assert.False(Directory.Exists(output));
    }
}

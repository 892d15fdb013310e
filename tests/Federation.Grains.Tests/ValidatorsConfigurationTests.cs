using Federation.Core.Crypto;
using Federation.Grains.Services;
using Federation.Storage.Keys;
using Microsoft.Extensions.Configuration;

namespace Federation.Grains.Tests;

public class ValidatorsConfigurationTests
{
    private static IConfiguration Json(string json) => new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();

    private static (FederationDirectory, TempDirectory) Setup(int validators)
    {
        var dir = new TempDirectory();
        using (var governance = Ed25519PrivateKey.Generate())
        {
            KeyFiles.WriteKeyPair(dir.File("gov.key"), governance);
        }

        for (var i = 0; i < validators; i++)
        {
            using var key = Ed25519PrivateKey.Generate();
            KeyFiles.WriteKeyPair(dir.File($"v{i}.key"), key);
        }

        return (FederationsConfiguration.Load(Json("""{ "Federations": [ { "Id": "fed1", "GovernanceKeyFile": "gov.key" } ] }"""), dir.Path), dir);
    }

    private static string Config(int validators, string extra = "") =>
        $$"""{ "Epochs": { "QuorumFraction": 0.5, "Grace": "00:00:03", "ViewTimeout": "00:00:01" }, "Federations": [ { "Id": "fed1", "GovernanceKeyFile": "gov.key" {{extra}}, "Validators": [ {{string.Join(",", Enumerable.Range(0, validators).Select(i => $$"""{ "Id": "v{{i}}", "KeyFile": "v{{i}}.key" }"""))}} ] } ] }""";

    [Fact]
    public void Validators_and_epoch_rules_are_read_from_appsettings()
    {
        var (federations, dir) = Setup(4);
        using var _ = dir;
        var (validators, epochs) = ValidatorsConfiguration.Load(Json(Config(4, ", \"Strategy\": \"trimmed_mean\"")), dir.Path, federations);
        Assert.Equal(4, validators.SetOf("fed1").N);
        Assert.Equal(Core.Consensus.VectorStrategy.TrimmedMean, validators.PolicyOf("fed1").Strategy);
        Assert.Equal(TimeSpan.FromSeconds(1), validators.ViewTimeout);
        Assert.Equal((0.5, TimeSpan.FromSeconds(3)), (epochs.QuorumFraction, epochs.Grace));
    }

    [Theory]
    [InlineData(3, "", "n = 3f + 1")]
    [InlineData(4, ", \"Strategy\": \"mean\"", "Strategy must be")]
    public void Bad_validator_settings_stop_start_up_naming_the_setting(int count, string extra, string expected)
    {
        var (federations, dir) = Setup(count);
        using var _ = dir;
        var ex = Assert.Throws<ArgumentException>(() => ValidatorsConfiguration.Load(Json(Config(count, extra)), dir.Path, federations));
        Assert.Contains(expected, ex.Message);
        Assert.Contains("Federations:0", ex.Message);
    }
}

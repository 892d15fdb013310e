using Federation.Core.Crypto;
using Federation.Core.Membership;
using Federation.Grains.Services;
using Federation.Storage.Keys;
using Microsoft.Extensions.Configuration;

namespace Federation.Grains.Tests;

public class ConfigurationTests
{
    private static IConfiguration Json(string json) => new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();

    [Fact]
    public void Federations_and_their_registries_are_read_from_appsettings()
    {
        using var dir = new TempDirectory();
        using var governance = Ed25519PrivateKey.Generate();
        KeyFiles.WriteKeyPair(dir.File("gov.key"), governance);
        using var reviewer = Ed25519PrivateKey.Generate();
        KeyFiles.WriteKeyPair(dir.File("alice.key"), reviewer);
        var node = "ed25519:" + new string('a', 64);
        using var directory = FederationsConfiguration.Load(Json($$"""
            { "Federations": [ { "Id": "fed1", "Aggregation": "canon", "RequiredCapabilities": ["ingest.v1"], "GovernanceKeyFile": "gov.key",
                "InactivityTimeout": "00:02:00", "ReviewerKeys": ["alice.key.pub"],
                "Nodes": [ { "Fingerprint": "{{node}}", "TrustLevel": "root", "SyncPolicy": "pull_approved_only", "Capabilities": ["ingest.v1", "delta.canon.v1"] } ] } ] }
            """), dir.Path);

        var fed1 = directory.Get("fed1");
        Assert.Equal(AggregationKind.Canon, fed1.Policy.Aggregation);
        Assert.Equal(governance.PublicKey, fed1.RequireGovernanceKey().PublicKey);
        Assert.Equal(TimeSpan.FromMinutes(2), fed1.InactivityTimeout);
        Assert.Equal(reviewer.PublicKey, Assert.Single(fed1.ReviewerKeys));
        var registered = Assert.Single(fed1.Nodes);
        Assert.Equal((TrustLevel.Root, SyncPolicy.PullApprovedOnly), (registered.TrustLevel, registered.SyncPolicy));
        Assert.Throws<UnknownFederationException>(() => directory.Get("fed2"));
    }

    [Theory]
    [InlineData("""{ "Federations": [ { "Id": "Fed One", "GovernanceKeyFile": "gov.key" } ] }""", "federation id")]
    [InlineData("""{ "Federations": [ { "Id": "fed1", "GovernanceKeyFile": "missing.key" } ] }""", "Federations:0:GovernanceKeyFile")]
    [InlineData("""{ "Federations": [ { "Id": "fed1", "GovernanceKeyFile": "gov.key", "Aggregation": "mean" } ] }""", "Federations:0:Aggregation")]
    [InlineData("""{ "Federations": [ { "Id": "fed1", "GovernanceKeyFile": "gov.key", "Nodes": [ { "Fingerprint": "abc" } ] } ] }""", "Federations:0:Nodes:0:Fingerprint")]
    [InlineData("""{ "Federations": [ { "Id": "fed1", "GovernanceKeyFile": "gov.key", "Nodes": [ { "Fingerprint": "ed25519:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "TrustLevel": "god" } ] } ] }""", "TrustLevel must be one of federated, root")]
    [InlineData("""{ "Federations": [ { "Id": "fed1", "GovernanceKeyFile": "gov.key", "Nodes": [ { "Fingerprint": "ed25519:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "SyncPolicy": "1" } ] } ] }""", "SyncPolicy must be one of pull_approved_only, bidirectional, got \"1\"")]
    [InlineData("""{ "Federations": [ { "GovernanceKeyFile": "gov.key" } ] }""", "Federations:0:Id is required")]
    [InlineData("""{ "Federations": [ { "Id": "fed1", "GovernanceKeyFile": "gov.key", "ReviewerKeys": ["gov.key.pub", "bob.key.pub"] } ] }""", "Federations:0:ReviewerKeys:1")]
    public void Bad_settings_stop_start_up_naming_the_setting(string json, string expected)
    {
        using var dir = new TempDirectory();
        using var governance = Ed25519PrivateKey.Generate();
        KeyFiles.WriteKeyPair(dir.File("gov.key"), governance);
        var ex = Assert.ThrowsAny<Exception>(() => FederationsConfiguration.Load(Json(json), dir.Path));
        Assert.Contains(expected, ex.Message);
    }
}

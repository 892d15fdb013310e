using Federation.Grains.Services;
using Microsoft.Extensions.Configuration;

namespace Federation.Grains.Tests;

/// <summary>The silo's settings from appsettings.json (section Hosting and Telemetry): defaults, values, and bad settings named.</summary>
public sealed class SiloSettingsTests
{
    private static SiloSettings Load(params (string Key, string? Value)[] settings) =>
        SiloSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, s.Value))).Build(), "/data");

    [Fact]
    public void Nothing_configured_is_the_embedded_default_with_orleans_defaults()
    {
        var settings = Load();
        Assert.Equal(("/data", "file", "file"), (settings.DataDirectory, settings.StorageProvider, settings.ReminderProvider));
        Assert.Equal((TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)), (settings.CollectionAge, settings.CollectionQuantum, settings.DeactivationTimeout, settings.CallTimeout));
        Assert.Null(settings.OtlpEndpoint);
    }

    [Fact]
    public void Configured_values_are_taken()
    {
        var settings = Load(("Hosting:StorageProvider", "memory"), ("Hosting:Messaging:CallTimeout", "00:02:00"), ("Hosting:Reminders:MinimumPeriod", "00:00:05"), ("Telemetry:OtlpEndpoint", "http://127.0.0.1:4318"));
        Assert.Equal("memory", settings.StorageProvider);
        Assert.Equal(TimeSpan.FromMinutes(2), settings.CallTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.MinimumReminderPeriod);
        Assert.Equal(new Uri("http://127.0.0.1:4318"), settings.OtlpEndpoint);
    }

    [Fact]
    public void Postgres_clustering_takes_its_ports_address_and_cluster_id_and_needs_grain_state_in_the_database()
    {
        var settings = Load(("Hosting:Clustering", "postgres"), ("Hosting:StorageProvider", "postgres"), ("Hosting:PostgresConnectionString", "Host=db;Database=fed"),
            ("Hosting:SiloPort", "11111"), ("Hosting:GatewayPort", "30000"), ("Hosting:AdvertisedAddress", "10.0.0.7"), ("Hosting:ClusterId", "fed-prod"));
        Assert.Equal(("postgres", 11111, 30000, "10.0.0.7", "fed-prod"), (settings.Clustering, settings.SiloPort, settings.GatewayPort, settings.AdvertisedAddress.ToString(), settings.ClusterId));
        Assert.Equal(("localhost", 0, 0, "127.0.0.1", "federation"), (Load().Clustering, Load().SiloPort, Load().GatewayPort, Load().AdvertisedAddress.ToString(), Load().ClusterId));

        // Grain state in one silo's files would stay behind when its grains move to another silo.
        var error = Assert.Throws<ArgumentException>(() => Load(("Hosting:Clustering", "postgres"), ("Hosting:PostgresConnectionString", "Host=db;Database=fed")));
        Assert.Contains("Hosting:Clustering \"postgres\" needs StorageProvider \"postgres\"", error.Message);
    }

    [Theory]
    [InlineData("Hosting:StorageProvider", "tape", "Hosting:StorageProvider is \"tape\"")]
    [InlineData("Hosting:ReminderProvider", "cron", "Hosting:ReminderProvider is \"cron\"")]
    [InlineData("Hosting:Messaging:CallTimeout", "-00:00:01", "Hosting:Messaging:CallTimeout must be positive")]
    [InlineData("Hosting:Collection:CollectionAge", "soon", "Hosting:Collection:CollectionAge is not a time span")]
    [InlineData("Hosting:Collection:CollectionQuantum", "01:00:00", "CollectionQuantum (01:00:00) must be at most the collection age")]
    [InlineData("Hosting:StorageProvider", "postgres", "Hosting:PostgresConnectionString is required")]
    [InlineData("Hosting:Clustering", "multicast", "Hosting:Clustering is \"multicast\"; expected one of localhost, postgres")]
    [InlineData("Hosting:Clustering", "postgres", "Hosting:PostgresConnectionString is required")]
    [InlineData("Hosting:SiloPort", "70000", "Hosting:SiloPort is \"70000\"; expected a TCP port")]
    [InlineData("Hosting:GatewayPort", "-1", "Hosting:GatewayPort is \"-1\"; expected a TCP port")]
    [InlineData("Hosting:AdvertisedAddress", "example.org", "Hosting:AdvertisedAddress \"example.org\" is not an IP address")]
    [InlineData("Hosting:ClusterId", "two words", "Hosting:ClusterId \"two words\" must be 1 to 150 characters without spaces")]
    [InlineData("Telemetry:OtlpEndpoint", "not a uri", "Telemetry:OtlpEndpoint \"not a uri\" is not an absolute URI")]
    public void A_bad_setting_stops_start_up_naming_it(string key, string value, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => Load((key, value)));
        Assert.Contains(message, ex.Message);
    }
}

using Federation.Hosting.Configuration;
using Federation.Hosting.Persistence;
using Federation.Hosting.Reminders;
using Federation.Hosting.Tests.Grains;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Federation.Hosting.Tests.Configuration;

/// <summary>The Hosting and Telemetry sections of appsettings.json choose providers and limits; bad values stop the start.</summary>
public class ConfigurationTests
{
    private static IConfiguration Load(string json, params (string Key, string? Value)[] overrides)
    {
        var builder = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json)));
        builder.AddInMemoryCollection(overrides.Select(o => new KeyValuePair<string, string?>(o.Key, o.Value)));
        return builder.Build();
    }

    private static string RepositoryAppSettings() => File.ReadAllText(Path.Combine(SharedVectors.RepositoryRoot(), "appsettings.json"));

    [Fact]
    public async Task The_repository_appsettings_choose_file_storage_under_the_data_directory_with_Orleans_defaults()
    {
        using var data = new TempDirectory();
        var configuration = Load(RepositoryAppSettings(), ("Hosting:DataDirectory", data.Path));
        var host = new GrainHostBuilder(configuration).WithTestGrains(new Journal()).Build();

        var collection = host.Services.GetRequiredService<IOptions<GrainCollectionOptions>>().Value;
        var messaging = host.Services.GetRequiredService<IOptions<GrainMessagingOptions>>().Value;
        var reminders = host.Services.GetRequiredService<IOptions<ReminderOptions>>().Value;
        Assert.Equal(TimeSpan.FromMinutes(15), collection.CollectionAge);
        Assert.Equal(TimeSpan.FromSeconds(30), messaging.CallTimeout);
        Assert.Equal(TimeSpan.FromMinutes(1), reminders.MinimumPeriod);
        Assert.Null(host.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value.OtlpEndpoint);

        var storage = Assert.IsType<FileGrainStorage>(host.Services.GetRequiredKeyedService<IGrainStorage>(GrainStorageOptions.DefaultStorageName));
        Assert.Equal(Path.Combine(data.Path, "grains", "Default"), storage.RootDirectory);
        var table = Assert.IsType<FileReminderTable>(host.Services.GetRequiredService<IReminderTable>());
        Assert.Equal(Path.Combine(data.Path, "reminders"), table.RootDirectory);

        await host.StartAsync(CancellationToken.None);
        Assert.Equal(1, await host.GrainFactory.GetGrain<ICounterGrain>("cfg").Increment());
        await host.StopAsync(CancellationToken.None);
        await host.DisposeAsync();
        Assert.True(File.Exists(Path.Combine(data.Path, "grains", "Default", "counter", "cfg.counter.json")));
    }

    [Fact]
    public async Task The_postgres_provider_is_chosen_by_configuration_and_creates_its_schema()
    {
        var connection = await PostgresCluster.Instance.CreateDatabaseAsync("hostcfg");
        var configuration = Load(RepositoryAppSettings(),
            ("Hosting:StorageProvider", "postgres"), ("Hosting:ReminderProvider", "postgres"), ("Hosting:PostgresConnectionString", connection));
        var host = new GrainHostBuilder(configuration).WithTestGrains(new Journal()).Build();
        await host.StartAsync(CancellationToken.None);
        Assert.Equal(1, await host.GrainFactory.GetGrain<ICounterGrain>("pg").Increment());
        await host.GrainFactory.GetGrain<IAlarmGrain>("pg").Set("r", TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5));
        await host.StopAsync(CancellationToken.None);
        await host.DisposeAsync();

        var again = new GrainHostBuilder(configuration).WithTestGrains(new Journal()).Build();
        await again.StartAsync(CancellationToken.None);
        Assert.Equal(2, await again.GrainFactory.GetGrain<ICounterGrain>("pg").Increment());
        Assert.Single(await again.Management.ListRemindersAsync());
        await again.StopAsync(CancellationToken.None);
        await again.DisposeAsync();
    }

    [Theory]
    [InlineData("Hosting:StorageProvider", "s3", "Hosting:StorageProvider is 's3'")]
    [InlineData("Hosting:Messaging:CallTimeout", "00:00:00", "Hosting:Messaging:CallTimeout must be positive")]
    [InlineData("Hosting:Collection:CollectionAge", "-00:01:00", "Hosting:Collection:CollectionAge must be positive")]
    [InlineData("Hosting:Reminders:MinimumPeriod", "00:00:00", "Hosting:Reminders:MinimumPeriod must be positive")]
    [InlineData("Telemetry:OtlpEndpoint", "not a uri", "Telemetry:OtlpEndpoint 'not a uri' is not an absolute URI")]
    public async Task A_bad_setting_stops_the_start_with_a_message_naming_it(string key, string value, string message)
    {
        var configuration = Load(RepositoryAppSettings(), (key, value), ("Hosting:DataDirectory", Path.GetTempPath()));
        var host = new GrainHostBuilder(configuration).WithTestGrains(new Journal()).Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(CancellationToken.None));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        await host.DisposeAsync();
    }

    [Fact]
    public void Postgres_without_a_connection_string_is_refused()
    {
        var failures = new GrainStorageOptions { StorageProvider = "postgres" }.Validate().ToList();
        Assert.Contains("Hosting:PostgresConnectionString is required when a provider is 'postgres'", failures);
    }
}

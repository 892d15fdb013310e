using Federation.Hosting.Configuration;
using Federation.Hosting.Tests.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Federation.Hosting.Tests.Cluster;

public class GenericHostTests
{
    [Fact]
    public async Task A_generic_host_starts_and_stops_the_grain_host_as_a_hosted_service()
    {
        var journal = new Journal();
        var grainHost = new GrainHostBuilder()
            .Configure<GrainStorageOptions>(o =>
            {
                o.StorageProvider = GrainStorageOptions.MemoryProvider;
                o.ReminderProvider = GrainStorageOptions.MemoryProvider;
            })
            .WithTestGrains(journal)
            .Build();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddGrainHost(grainHost);
        using var app = builder.Build();

        await app.StartAsync();
        var factory = app.Services.GetRequiredService<IGrainFactory>();
        Assert.Equal(1, await factory.GetGrain<ICounterGrain>("hosted").Increment());
        Assert.Single(app.Services.GetRequiredService<IGrainManagement>().ListActivations());
        await app.StopAsync();

        Assert.Contains("deactivate counter/hosted HostShutdown", journal.Entries);
        await grainHost.DisposeAsync();
    }
}

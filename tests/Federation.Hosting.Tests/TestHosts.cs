using Federation.Hosting.Configuration;
using Federation.Hosting.Persistence;
using Federation.Hosting.Reminders;
using Federation.Hosting.Scheduling;
using Federation.Hosting.Tests.Grains;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Hosting.Tests;

/// <summary>Host set-ups shared by the tests.</summary>
internal static class TestHosts
{
    public static GrainHostBuilder WithTestGrains(this GrainHostBuilder builder, Journal journal)
    {
        builder.Services.AddSingleton(journal);
        return builder
            .AddGrain<CounterGrain>()
            .AddGrain<ProbeGrain>()
            .AddGrain<ChainGrain>()
            .AddGrain<ReentrantChainGrain>()
            .AddGrain<SlowGrain>()
            .AddGrain<AlarmGrain>()
            .AddGrain<MeteredGrain>()
            .AddGrain<ArchiveGrain>()
            .AddGrain<ContextGrain>()
            .AddGrain<GateGrain>()
            .AddGrain<EagerGrain>()
            .AddGrain<EagerCallerGrain>();
    }

    /// <summary>A host on the simulation scheduler with memory providers (shared across restarts when passed in).</summary>
    public static GrainHostBuilder Simulated(SimulationScheduler scheduler, Journal journal, MemoryGrainStorage? storage = null, MemoryReminderTable? reminders = null) =>
        new GrainHostBuilder()
            .UseSimulation(scheduler)
            .Configure<GrainStorageOptions>(o =>
            {
                o.StorageProvider = GrainStorageOptions.MemoryProvider;
                o.ReminderProvider = GrainStorageOptions.MemoryProvider;
            })
            .AddGrainStorage(GrainStorageOptions.DefaultStorageName, storage ?? new MemoryGrainStorage())
            .UseReminderTable(reminders ?? new MemoryReminderTable())
            .WithTestGrains(journal)
            .Configure<ReminderOptions>(o => o.MinimumPeriod = TimeSpan.FromSeconds(1));

    /// <summary>A production-shaped host: thread pool, file storage and file reminders under <paramref name="dataDirectory"/>.</summary>
    public static GrainHostBuilder Threaded(GrainHostBuilder builder, string dataDirectory, Journal journal) =>
        builder
            .UseThreadPool()
            .Configure<GrainStorageOptions>(o => o.DataDirectory = dataDirectory)
            .WithTestGrains(journal)
            .Configure<ReminderOptions>(o => o.MinimumPeriod = TimeSpan.FromSeconds(1));

    /// <summary>Starts a simulated host inside the simulation and returns it.</summary>
    public static async Task<GrainHost> StartAsync(GrainHostBuilder builder)
    {
        var host = builder.Build();
        await host.StartAsync(CancellationToken.None);
        return host;
    }
}

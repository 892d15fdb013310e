using System.Collections.Concurrent;
using Federation.Hosting.Configuration;
using Federation.Hosting.Persistence;
using Federation.Hosting.Reminders;
using Federation.Hosting.Tests.Grains;

namespace Federation.Hosting.Tests.Cluster;

/// <summary>
/// Calls racing against collection on the thread pool: at most one activation per grain at any time (a second
/// one would hit a stale etag), no request lost, and state carried across every reactivation.
/// </summary>
public class ChurnStressTests
{
    [Fact]
    public async Task Calls_racing_with_collection_never_see_two_activations_of_a_grain_nor_lose_an_increment()
    {
        var host = new GrainHostBuilder()
            .UseThreadPool()
            .Configure<GrainStorageOptions>(o =>
            {
                o.StorageProvider = GrainStorageOptions.MemoryProvider;
                o.ReminderProvider = GrainStorageOptions.MemoryProvider;
            })
            .AddGrainStorage(GrainStorageOptions.DefaultStorageName, new MemoryGrainStorage())
            .UseReminderTable(new MemoryReminderTable())
            .WithTestGrains(new Journal())
            .Build();
        await host.StartAsync(CancellationToken.None);

        const int Grains = 16;
        const int CallsPerCaller = 300;
        var acknowledged = new ConcurrentDictionary<int, int>();
        using var stop = new CancellationTokenSource();
        var collections = 0;
        var collector = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                Interlocked.Add(ref collections, await host.CollectIdleActivationsAsync(TimeSpan.Zero));
                await Task.Yield();
            }
        });

        // Each caller makes at least CallsPerCaller calls, and goes on until the collector has collected often
        // (bounded, so a starved collector fails the check below instead of hanging the test).
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var callers = Enumerable.Range(0, 8).Select(caller => Task.Run(async () =>
        {
            for (var i = 0; i < CallsPerCaller || (Volatile.Read(ref collections) < 200 && DateTime.UtcNow < deadline); i++)
            {
                var key = (caller * 7 + i) % Grains;
                await host.GrainFactory.GetGrain<ICounterGrain>($"churn-{key}").Increment();
                acknowledged.AddOrUpdate(key, 1, (_, n) => n + 1);
            }
        })).ToList();

        await Task.WhenAll(callers); // an InconsistentStateException here would mean two activations of one grain
        await stop.CancelAsync();
        await collector;

        for (var key = 0; key < Grains; key++)
        {
            Assert.Equal(acknowledged.GetValueOrDefault(key), await host.GrainFactory.GetGrain<ICounterGrain>($"churn-{key}").Get());
        }

        Assert.True(collections >= 200, $"the collector collected only {collections} activations: the race was barely exercised");
        await host.StopAsync(CancellationToken.None);
        await host.DisposeAsync();
    }
}

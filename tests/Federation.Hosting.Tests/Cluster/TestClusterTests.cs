using System.Collections.Concurrent;
using Federation.Hosting.Configuration;
using Federation.Hosting.Testing;
using Federation.Hosting.Tests.Grains;

namespace Federation.Hosting.Tests.Cluster;

/// <summary>
/// A production-shaped host (thread pool, durable storage and reminders) in a test cluster: stop, kill and
/// restart over shared storage — one subclass per durable provider. Waits are for events, bounded by generous
/// limits — never timing assertions.
/// </summary>
public abstract class TestClusterContract : IAsyncDisposable
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _data = new();
    private readonly Journal _journal = new();
    private TestCluster? _clusterInstance;

    /// <summary>Chooses the shared storage of every host this cluster builds.</summary>
    protected abstract void UseStorage(GrainHostBuilder builder, string dataDirectory);

    protected TestCluster Cluster => _clusterInstance ??= new TestCluster(builder =>
    {
        TestHosts.Threaded(builder, _data.Path, _journal);
        UseStorage(builder, _data.Path);
    });

    protected Journal Journal => _journal;

    protected string DataDirectory => _data.Path;

    [Fact]
    public async Task A_grain_never_runs_two_turns_at_once_on_the_thread_pool()
    {
        await Cluster.StartAsync();
        var probes = Enumerable.Range(0, 4).Select(i => Cluster.GrainFactory.GetGrain<IProbeGrain>($"p{i}")).ToList();
        var calls = new List<Task>();
        for (var round = 0; round < 200; round++)
        {
            foreach (var probe in probes)
            {
                calls.Add(Task.Run(() => probe.Work(3)));
            }
        }

        await Task.WhenAll(calls);
        foreach (var probe in probes)
        {
            Assert.Equal(1, await probe.MaxConcurrent());
            Assert.Equal(0, await probe.Violations());
        }
    }

    [Fact]
    public async Task A_caller_that_blocks_after_a_call_does_not_hold_the_grain_it_called()
    {
        await Cluster.StartAsync();
        var counter = Cluster.GrainFactory.GetGrain<ICounterGrain>("blocking-caller");
        await counter.Touch();

        // Whatever thread this continuation runs on, the activation has let go of it: a second call completes
        // even while this thread blocks (it would wait forever if the caller's code ran inside the grain's turn).
#pragma warning disable xUnit1031 // blocking is the point: it shows the caller's thread is not the grain's
        Assert.True(counter.Get().Wait(Patience));
#pragma warning restore xUnit1031
    }

    [Fact]
    public async Task After_a_kill_during_a_burst_of_writes_every_acknowledged_write_is_there_on_restart()
    {
        await Cluster.StartAsync();
        var acknowledged = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var key = $"burst-{i}";
            var counter = Cluster.GrainFactory.GetGrain<ICounterGrain>(key);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    acknowledged[key] = await counter.Increment();
                }
                catch (GrainHostStoppedException)
                {
                    return; // the kill: this write was not acknowledged
                }
            }
        })).ToList();

        // Kill once every writer has had several writes acknowledged.
        await WaitUntil(() => acknowledged.Count == 8 && acknowledged.Values.All(v => v >= 5));
        Cluster.Kill();
        stop.Cancel();
        await Task.WhenAll(writers);

        await Cluster.StartAsync();
        foreach (var (key, value) in acknowledged)
        {
            var stored = await Cluster.GrainFactory.GetGrain<ICounterGrain>(key).Get();
            // Each acknowledged write is there; at most the one write in flight at the kill landed unacknowledged.
            Assert.InRange(stored, value, value + 1);
        }

        Assert.DoesNotContain(_journal.Entries, e => e.StartsWith("deactivate", StringComparison.Ordinal)); // a kill runs no OnDeactivateAsync
    }

    [Fact]
    public async Task Reminders_registered_before_a_kill_fire_after_the_restart()
    {
        await Cluster.StartAsync();
        await Cluster.GrainFactory.GetGrain<IAlarmGrain>("k").Set("after-kill", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        Cluster.Kill();
        var before = _journal.Entries.Count(e => e.StartsWith("reminder k after-kill", StringComparison.Ordinal));

        await Cluster.StartAsync();
        await WaitUntil(() => _journal.Entries.Count(e => e.StartsWith("reminder k after-kill", StringComparison.Ordinal)) > before);
        Assert.Equal(2, Cluster.Generation);
        Assert.Contains(await Cluster.Management.ListRemindersAsync(), r => r.ReminderName == "after-kill");
    }

    [Fact]
    public async Task A_graceful_restart_keeps_state_and_runs_OnDeactivateAsync()
    {
        await Cluster.StartAsync();
        var counter = Cluster.GrainFactory.GetGrain<ICounterGrain>("keep");
        await counter.Increment();
        await counter.Increment();
        await Cluster.RestartAsync();

        Assert.Equal(2, await Cluster.GrainFactory.GetGrain<ICounterGrain>("keep").Get());
        Assert.Contains("deactivate counter/keep HostShutdown", _journal.Entries);
        Assert.Contains("activate counter/keep value=2 exists=True", _journal.Entries);
    }

    protected static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"condition not met within {Patience}");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_clusterInstance is not null)
        {
            await _clusterInstance.DisposeAsync();
        }

        _data.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class FileTestClusterTests : TestClusterContract
{
    protected override void UseStorage(GrainHostBuilder builder, string dataDirectory)
    {
        // The default: file state and file reminders under the data directory.
    }

    [Fact]
    public async Task A_state_that_cannot_be_loaded_fails_the_activating_call_and_a_repaired_one_activates()
    {
        await Cluster.StartAsync();
        await Cluster.GrainFactory.GetGrain<ICounterGrain>("corrupt").Increment();
        await Cluster.StopAsync();
        var file = Path.Combine(DataDirectory, "grains", GrainStorageOptions.DefaultStorageName, "counter", "corrupt.counter.json");
        var good = await File.ReadAllTextAsync(file);
        await File.WriteAllTextAsync(file, "{\"version\":1,\"payload\":{\"value\":");

        var activationsBefore = Journal.Entries.Count(e => e.StartsWith("activate counter/corrupt", StringComparison.Ordinal));
        await Cluster.StartAsync();
        var grain = Cluster.GrainFactory.GetGrain<ICounterGrain>("corrupt");
        var error = await Assert.ThrowsAsync<GrainActivationException>(() => grain.Get());
        var damaged = Assert.IsType<InvalidDataException>(error.InnerException);
        Assert.Contains(file, damaged.Message);
        Assert.IsAssignableFrom<System.Text.Json.JsonException>(damaged.InnerException);
        Assert.Empty(Cluster.Management.ListActivations());
        // OnActivateAsync never ran on a half-loaded grain.
        Assert.Equal(activationsBefore, Journal.Entries.Count(e => e.StartsWith("activate counter/corrupt", StringComparison.Ordinal)));

        await File.WriteAllTextAsync(file, good);
        Assert.Equal(1, await grain.Get());
    }

}

public sealed class PostgresTestClusterTests : TestClusterContract, IAsyncLifetime
{
    private string? _connection;

    public async Task InitializeAsync() => _connection = await PostgresCluster.Instance.CreateDatabaseAsync("cluster");

    Task IAsyncLifetime.DisposeAsync() => Task.CompletedTask;

    protected override void UseStorage(GrainHostBuilder builder, string dataDirectory) =>
        builder.Configure<GrainStorageOptions>(o =>
        {
            o.StorageProvider = GrainStorageOptions.PostgresProvider;
            o.ReminderProvider = GrainStorageOptions.PostgresProvider;
            o.PostgresConnectionString = _connection;
        });
}

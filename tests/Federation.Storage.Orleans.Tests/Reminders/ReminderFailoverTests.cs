using Federation.Storage.Orleans.Tests.Grains;
using Federation.Storage.Orleans.Tests.GrainStorage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Reminders;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Federation.Storage.Orleans.Tests.Reminders;

/// <summary>
/// The embedded default's providers together on a two-silo cluster: grain state and reminders in files under one
/// data directory, reminders on a fake clock (ORLEANS.md, "Fake time"), the rest of the silo on real time.
/// </summary>
public sealed class ReminderFailoverTests : IAsyncLifetime
{
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    // Bounds of the wait for the surviving silo to take the reminder over: clock steps, and real time per step.
    private const int MaxClockSteps = 100;
    private static readonly TimeSpan RealTimePerStep = TimeSpan.FromMilliseconds(100);

    private readonly TempDirectory _data = new();
    private readonly FakeTimeProvider _reminderClock = new(new DateTimeOffset(2026, 12, 3, 0, 0, 0, TimeSpan.Zero));
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await StartClusterAsync();

    private async Task<InProcessTestCluster> StartClusterAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureHost(host =>
        {
            host.Services.AddKeyedSingleton<TimeProvider>(ReminderTimeProviderNames.Reminders, _reminderClock);
            host.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
        });
        builder.ConfigureSilo((_, silo) => silo
            .AddFileGrainStorage(GrainStorageContract.StorageName, o => o.DataDirectory = _data.Path)
            .UseFileReminderTable(o => o.DataDirectory = _data.Path)
            .UseProtocolJsonGrainStorageSerializer());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task A_reminder_fires_on_the_remaining_silo_after_the_silo_hosting_its_grain_is_killed()
    {
        var alarm = _cluster.Client.GetGrain<IAlarmGrain>("failover");
        var host = await alarm.Arm(Period, Period);
        Assert.True(File.Exists(Path.Combine(_data.Path, "reminders", AlarmGrain.GrainTypeName, "failover.json")), "the reminder is durable before Arm returns");

        var victim = _cluster.Silos.Single(s => s.SiloAddress.ToString() == host);
        var survivor = _cluster.Silos.Single(s => s != victim);
        await _cluster.KillSiloAsync(victim);

        var view = await AdvanceUntilTickAsync(alarm);

        Assert.True(view.Ticks > 0, $"no tick after {MaxClockSteps} periods of the reminders' clock");
        Assert.Equal(survivor.SiloAddress.ToString(), view.LastSilo);
    }

    [Fact]
    public async Task A_reminder_registered_before_the_whole_cluster_stops_fires_after_it_starts_again()
    {
        await _cluster.Client.GetGrain<IAlarmGrain>("restart").Arm(Period, Period);

        await _cluster.DisposeAsync();
        _cluster = await StartClusterAsync();
        var view = await AdvanceUntilTickAsync(_cluster.Client.GetGrain<IAlarmGrain>("restart"));

        Assert.True(view.Ticks > 0, $"no tick after {MaxClockSteps} periods of the reminders' clock");
    }

    /// <summary>Advances the reminders' clock a period at a time until the grain counts a tick (bounded).</summary>
    private async Task<AlarmView> AdvanceUntilTickAsync(IAlarmGrain alarm)
    {
        var view = await alarm.Read();
        for (var step = 0; step < MaxClockSteps && view.Ticks == 0; step++)
        {
            _reminderClock.Advance(Period);
            await Task.Delay(RealTimePerStep);
            view = await alarm.Read();
        }

        return view;
    }
}

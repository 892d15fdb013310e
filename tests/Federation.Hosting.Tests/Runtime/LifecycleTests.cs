using Federation.Hosting.Configuration;
using Federation.Hosting.Persistence;
using Federation.Hosting.Reminders;
using Federation.Hosting.Scheduling;
using Federation.Hosting.Tests.Grains;

namespace Federation.Hosting.Tests.Runtime;

/// <summary>Timers, idle collection, deactivation and reminders, driven by the virtual clock (no test sleeps).</summary>
public class LifecycleTests
{
    private readonly Journal _journal = new();
    private readonly SimulationScheduler _sim = new(seed: 11);

    private int Count(string prefix) => _journal.Entries.Count(e => e.StartsWith(prefix, StringComparison.Ordinal));

    [Fact]
    public void A_timer_ticks_as_turns_of_its_activation_and_dies_with_it()
    {
        _sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(_sim, _journal));
            var slow = host.GrainFactory.GetGrain<ISlowGrain>("t");
            await slow.StartTimer(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
            await Task.Delay(TimeSpan.FromSeconds(35), _sim.Clock);
            Assert.Equal(3, await slow.Ticks()); // at 10, 20 and 30 s

            await slow.Leave(); // DeactivateOnIdle
            await Task.Delay(TimeSpan.FromSeconds(60), _sim.Clock);
            Assert.Equal(3, Count("tick t at"));
            Assert.Equal(0, await slow.Ticks()); // a new activation: timers lived only with the old one
            await host.StopAsync(CancellationToken.None);
        });

        Assert.Contains("deactivate slow/t ApplicationRequested", _journal.Entries);
    }

    [Fact]
    public void An_idle_activation_is_collected_after_the_collection_age_and_a_later_call_activates_it_again()
    {
        _sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(_sim, _journal)
                .Configure<GrainCollectionOptions>(o =>
                {
                    o.CollectionAge = TimeSpan.FromMinutes(15);
                    o.CollectionQuantum = TimeSpan.FromMinutes(1);
                }));
            var counter = host.GrainFactory.GetGrain<ICounterGrain>("idle");
            await counter.Increment();

            await Task.Delay(TimeSpan.FromMinutes(14), _sim.Clock);
            Assert.Single(host.Management.ListActivations());
            await counter.Touch(); // use resets the idle clock
            await Task.Delay(TimeSpan.FromMinutes(14), _sim.Clock);
            Assert.Single(host.Management.ListActivations());

            await Task.Delay(TimeSpan.FromMinutes(2), _sim.Clock);
            Assert.Empty(host.Management.ListActivations());
            Assert.Equal(1, await counter.Get()); // reactivated, state reloaded
            await host.StopAsync(CancellationToken.None);
        });

        Assert.Equal(2, Count("activate counter/idle"));
        Assert.Contains("deactivate counter/idle IdleCollection", _journal.Entries);
        Assert.Contains("activate counter/idle value=1 exists=True", _journal.Entries);
    }

    [Fact]
    public void Requests_queued_behind_DeactivateOnIdle_are_served_by_a_fresh_activation()
    {
        var (left, ticks) = _sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(_sim, _journal));
            var slow = host.GrainFactory.GetGrain<ISlowGrain>("relay");
            await slow.StartTimer(TimeSpan.FromHours(1), TimeSpan.FromHours(1));
            var leave = slow.Leave();
            var queued = slow.Ticks(); // queued behind Leave: must not be lost with the old activation
            await leave;
            var result = (true, await queued);
            await host.StopAsync(CancellationToken.None);
            return result;
        });

        Assert.True(left);
        Assert.Equal(0, ticks);
        Assert.Contains("deactivate slow/relay ApplicationRequested", _journal.Entries);
        Assert.Contains("deactivate slow/relay HostShutdown", _journal.Entries); // the fresh activation, at stop
    }

    [Fact]
    public void Timer_ticks_do_not_keep_an_idle_activation_alive()
    {
        _sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(_sim, _journal));
            await host.GrainFactory.GetGrain<ISlowGrain>("busy-timer").StartTimer(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
            await Task.Delay(TimeSpan.FromMinutes(17), _sim.Clock);
            Assert.Empty(host.Management.ListActivations());
            await host.StopAsync(CancellationToken.None);
        });

        Assert.Contains("deactivate slow/busy-timer IdleCollection", _journal.Entries);
        Assert.InRange(Count("tick busy-timer at"), 14, 16); // ticked until collected, then stopped with the activation
    }

    [Fact]
    public void A_reminder_activates_its_grain_and_ticks_every_period()
    {
        _sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(_sim, _journal));
            await host.GrainFactory.GetGrain<IAlarmGrain>("r").Set("wake", TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1));
            await host.Management.DeactivateAsync(new GrainId("alarm", "r"));
            Assert.Empty(host.Management.ListActivations());

            await Task.Delay(TimeSpan.FromMinutes(3), _sim.Clock);
            Assert.Single(host.Management.ListActivations()); // the reminder activated it
            await host.StopAsync(CancellationToken.None);
        });

        Assert.Equal(3, Count("reminder r wake")); // at 0:05, 1:05, 2:05
    }

    [Fact]
    public void After_downtime_a_missed_reminder_fires_once_not_once_per_missed_period()
    {
        var storage = new MemoryGrainStorage();
        var reminders = new MemoryReminderTable();
        _sim.Run(async () =>
        {
            var first = await TestHosts.StartAsync(TestHosts.Simulated(_sim, _journal, storage, reminders));
            await first.GrainFactory.GetGrain<IAlarmGrain>("m").Set("hourly", TimeSpan.FromMinutes(1), TimeSpan.FromHours(1));
            await Task.Delay(TimeSpan.FromMinutes(2), _sim.Clock); // first tick at 0:01
            first.Kill();

            await Task.Delay(TimeSpan.FromHours(5), _sim.Clock); // down through five due times
            var second = await TestHosts.StartAsync(TestHosts.Simulated(_sim, _journal, storage, reminders));
            await Task.Delay(TimeSpan.FromMinutes(30), _sim.Clock);
            Assert.Equal(2, Count("reminder m hourly")); // the tick before the kill, and one catch-up tick
            await Task.Delay(TimeSpan.FromMinutes(40), _sim.Clock); // then the period resumes at the next due time
            Assert.Equal(3, Count("reminder m hourly"));
            await second.StopAsync(CancellationToken.None);
        });

        var ticks = _journal.Entries.Where(e => e.StartsWith("reminder m hourly", StringComparison.Ordinal)).ToList();
        var start = VirtualTimeProvider.DefaultStart;
        Assert.Contains($"current={start.AddHours(5).AddMinutes(1):O}", ticks[1], StringComparison.Ordinal); // the latest missed due time
        Assert.Contains($"current={start.AddHours(6).AddMinutes(1):O}", ticks[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Unregistered_and_management_deleted_reminders_stop_firing()
    {
        _sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(_sim, _journal));
            var alarm = host.GrainFactory.GetGrain<IAlarmGrain>("u");
            await alarm.Set("a", TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
            await alarm.Set("b", TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
            Assert.Equal(["a", "b"], (await alarm.Names()).Order());
            Assert.Equal(2, (await host.Management.ListRemindersAsync()).Count);

            await alarm.Unset("a");
            Assert.True(await host.Management.DeleteReminderAsync(new GrainId("alarm", "u"), "b"));
            Assert.False(await host.Management.DeleteReminderAsync(new GrainId("alarm", "u"), "b"));
            Assert.Empty(await host.Management.ListRemindersAsync());
            await Task.Delay(TimeSpan.FromMinutes(5), _sim.Clock);
            await host.StopAsync(CancellationToken.None);
        });

        Assert.Equal(0, Count("reminder u"));
    }

    [Fact]
    public void A_period_below_the_minimum_is_refused()
    {
        var error = _sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(_sim, _journal));
            var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
                host.GrainFactory.GetGrain<IAlarmGrain>("p").Set("fast", TimeSpan.Zero, TimeSpan.FromMilliseconds(10)));
            await host.StopAsync(CancellationToken.None);
            return error;
        });

        Assert.Contains("MinimumPeriod", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Management_lists_activations_deactivates_one_and_reports_statistics()
    {
        _sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(_sim, _journal));
            var a = host.GrainFactory.GetGrain<ICounterGrain>("m1");
            await a.Increment();
            await a.Increment();
            await Assert.ThrowsAsync<ArgumentException>(() => a.Fail("boom"));
            await host.GrainFactory.GetGrain<ICounterGrain>("m2").Touch();

            Assert.Equal(["counter/m1", "counter/m2"], host.Management.ListActivations().Select(i => i.GrainId.ToString()));
            Assert.True(await host.Management.DeactivateAsync(new GrainId("counter", "m1")));
            Assert.False(await host.Management.DeactivateAsync(new GrainId("counter", "nobody")));
            Assert.Equal(["counter/m2"], host.Management.ListActivations().Select(i => i.GrainId.ToString()));

            var statistics = host.Management.GetStatistics();
            var increment = statistics.Methods.Single(m => m.GrainType == "counter" && m.Method == "Increment");
            var fail = statistics.Methods.Single(m => m.GrainType == "counter" && m.Method == "Fail");
            Assert.Equal((2L, 0L), (increment.Calls, increment.Errors));
            Assert.Equal((1L, 1L), (fail.Calls, fail.Errors));
            Assert.Equal(increment.Calls, increment.LatencyBucketCounts.Sum());
            Assert.Equal(1, statistics.ActivationsByType["counter"]);
            Assert.Equal(2, statistics.ActivationsCreated);
            Assert.Equal(1, statistics.ActivationsCollected);
            await host.StopAsync(CancellationToken.None);
        });

        Assert.Contains("deactivate counter/m1 ManagementRequested", _journal.Entries);
    }
}

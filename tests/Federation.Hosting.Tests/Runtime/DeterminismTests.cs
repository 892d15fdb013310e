using Federation.Hosting.Scheduling;
using Federation.Hosting.Tests.Grains;

namespace Federation.Hosting.Tests.Runtime;

/// <summary>The simulation scheduler: a run is a pure function of its seed.</summary>
public class DeterminismTests
{
    /// <summary>Independent grains each doing several awaiting turns, plus a timer and a reminder; returns the turn trace.</summary>
    private static (IReadOnlyList<string> Trace, IReadOnlyList<string> Journal) RunScenario(int seed)
    {
        var journal = new Journal();
        var sim = new SimulationScheduler(seed, recordTrace: true);
        sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(sim, journal));
            await host.GrainFactory.GetGrain<ISlowGrain>("clock").StartTimer(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
            await host.GrainFactory.GetGrain<IAlarmGrain>("alarm").Set("r", TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5));
            var calls = new List<Task>();
            for (var i = 0; i < 6; i++)
            {
                var probe = host.GrainFactory.GetGrain<IProbeGrain>($"p{i}");
                calls.Add(probe.Work(3));
                calls.Add(probe.Work(2));
                calls.Add(host.GrainFactory.GetGrain<ICounterGrain>($"c{i % 3}").Increment());
            }

            await Task.WhenAll(calls);
            await Task.Delay(TimeSpan.FromSeconds(12), sim.Clock);
            await host.StopAsync(CancellationToken.None);
        });

        return (sim.Trace, journal.Entries);
    }

    [Fact]
    public void The_same_seed_gives_the_same_trace_of_turns_bit_for_bit()
    {
        var first = RunScenario(seed: 42);
        var second = RunScenario(seed: 42);

        Assert.True(first.Trace.Count > 50, $"the scenario should run many steps (ran {first.Trace.Count})");
        Assert.Equal(first.Trace, second.Trace);
        Assert.Equal(first.Journal, second.Journal);
    }

    [Fact]
    public void Different_seeds_interleave_independent_grains_differently()
    {
        var traces = Enumerable.Range(1, 4).Select(seed => string.Join("\n", RunScenario(seed).Trace)).ToHashSet();
        Assert.Equal(4, traces.Count);
    }

    [Fact]
    public void Under_every_seed_writers_run_alone_and_readers_only_beside_readers()
    {
        var readersOverlapped = false;
        for (var seed = 0; seed < 25; seed++)
        {
            var sim = new SimulationScheduler(seed);
            var (violations, maxima) = sim.Run(async () =>
            {
                var host = await TestHosts.StartAsync(TestHosts.Simulated(sim, new Journal()));
                var probes = Enumerable.Range(0, 3).Select(i => host.GrainFactory.GetGrain<IProbeGrain>($"p{i}")).ToList();
                await Task.WhenAll(probes.SelectMany(p => Enumerable.Range(0, 6).Select(i => i % 3 == 0 ? p.Work(3) : p.Read(2))));
                var violations = await Task.WhenAll(probes.Select(p => p.Violations()));
                var maxima = await Task.WhenAll(probes.Select(p => p.MaxConcurrent()));
                await host.StopAsync(CancellationToken.None);
                return (violations, maxima);
            });

            Assert.All(violations, v => Assert.Equal(0, v));
            readersOverlapped |= maxima.Any(m => m > 1);
        }

        Assert.True(readersOverlapped, "read-only requests never overlapped: the probe could not have seen a violation either");
    }

    [Fact]
    public void Awaits_inside_grain_turns_stay_on_the_simulation_thread()
    {
        var sim = new SimulationScheduler(seed: 3);
        var journal = new Journal();
        var thread = Environment.CurrentManagedThreadId;
        var threads = sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(sim, journal));
            var seen = new HashSet<int>();
            for (var i = 0; i < 20; i++)
            {
                await host.GrainFactory.GetGrain<IProbeGrain>($"t{i}").Work(4);
                seen.Add(Environment.CurrentManagedThreadId);
            }

            await host.StopAsync(CancellationToken.None);
            return seen;
        });

        Assert.Equal([thread], threads);
    }
}

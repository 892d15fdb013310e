using Federation.Hosting.Scheduling;
using Federation.Hosting.Tests.Grains;

namespace Federation.Hosting.Tests.Runtime;

/// <summary>
/// <see cref="StartsOnCallerThreadAttribute"/>: on the thread-pool host, a marked call from outside any grain to an
/// idle activation runs its synchronous part on the caller's thread; everything else is queued as always, and
/// turns never overlap either way.
/// </summary>
public class StartsOnCallerThreadTests
{
    private readonly Journal _journal = new();

    private async Task WithThreadedHost(Func<GrainHost, Task> body)
    {
        using var directory = new TempDirectory();
        var host = await TestHosts.StartAsync(TestHosts.Threaded(new GrainHostBuilder(), directory.Path, _journal));
        try
        {
            await body(host);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
            await host.DisposeAsync();
        }
    }

    private static string NewGate() => "eager-" + Guid.NewGuid().ToString("N");

    /// <summary>The grain, activated by a first call and idle again (so the next marked call may start on this thread).</summary>
    private static async Task<IEagerGrain> ActiveAndIdle(GrainHost host, string key)
    {
        var grain = host.GrainFactory.GetGrain<IEagerGrain>(key);
        await grain.Ping();
        return grain;
    }

    private string? Started(string key, string gate) =>
        _journal.Entries.SingleOrDefault(e => e.StartsWith($"eager {key} {gate} ", StringComparison.Ordinal));

    [Fact]
    public Task A_marked_call_from_outside_to_an_idle_activation_starts_on_the_callers_thread_and_continues_in_the_grain() =>
        WithThreadedHost(async host =>
        {
            var grain = await ActiveAndIdle(host, "idle");
            var gate = NewGate();

            EagerGrain.Ambient.Value = "caller";
            var call = grain.PassAsync(gate);

            // Before the caller has awaited anything, the request already ran its synchronous part, here, as a turn,
            // and without the caller's ambient (AsyncLocal) values, as a queued turn would.
            Assert.Equal($"eager idle {gate} thread={Environment.CurrentManagedThreadId} grain=True ambient=none caller-frame=False", Started("idle", gate));
            Assert.Equal("caller", EagerGrain.Ambient.Value); // the caller's own context is back
            Assert.False(call.IsCompleted);
            GateGrain.Gate(gate).SetResult(6);
            Assert.Equal(7, await call); // its await came back in the grain's context, still without the caller's values
        });

    [Fact]
    public Task A_request_whose_span_fails_to_start_fails_alone_and_the_grain_serves_the_next() =>
        WithThreadedHost(async host =>
        {
            var grain = await ActiveAndIdle(host, "span");
            var (failing, next) = (NewGate(), NewGate());
            var throwing = true;
            using var listener = new System.Diagnostics.ActivityListener
            {
                ShouldListenTo = source => source.Name == Federation.Hosting.Telemetry.GrainTelemetry.Name,
                Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllData,
                ActivityStarted = activity =>
                {
                    if (Volatile.Read(ref throwing) && activity.OperationName == "eager.PassAsync")
                    {
                        throw new InvalidOperationException("listener failed");
                    }
                },
            };
            System.Diagnostics.ActivitySource.AddActivityListener(listener);

            var call = grain.PassAsync(failing); // a task, not a throw at the call
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => call);
            Assert.Equal("listener failed", error.Message);

            Volatile.Write(ref throwing, false);
            var served = grain.PassAsync(next);
            GateGrain.Gate(next).SetResult(1);
            Assert.Equal(2, await served.WaitAsync(TimeSpan.FromSeconds(10))); // not wedged behind the failed one
        });

    [Fact]
    public Task A_marked_call_to_a_busy_activation_waits_its_turn() =>
        WithThreadedHost(async host =>
        {
            var grain = await ActiveAndIdle(host, "busy");
            var (first, second) = (NewGate(), NewGate());
            var running = grain.PassAsync(first);
            Assert.NotNull(Started("busy", first));

            var queued = grain.PassAsync(second);
            Assert.Null(Started("busy", second)); // the first turn holds the activation: not started, not on this thread

            GateGrain.Gate(second).SetResult(1);
            GateGrain.Gate(first).SetResult(10);
            Assert.Equal(11, await running);
            Assert.Equal(2, await queued);
            Assert.EndsWith("grain=True ambient=none caller-frame=False", Started("busy", second)); // it ran later, as a turn of its own
        });

    [Fact]
    public Task A_marked_call_from_grain_code_is_queued_not_run_inside_the_callers_turn() =>
        WithThreadedHost(async host =>
        {
            var gate = NewGate();
            var call = host.GrainFactory.GetGrain<IEagerCallerGrain>("caller").CallAsync("from-grain", gate);
            while (Started("from-grain", gate) is null)
            {
                await Task.Delay(5);
            }

            // Started from the thread pool's queue, so the caller grain's frame is not beneath it.
            Assert.EndsWith("grain=True ambient=none caller-frame=False", Started("from-grain", gate));
            GateGrain.Gate(gate).SetResult(1);
            Assert.Equal(2, await call);
        });

    [Fact]
    public Task Turns_never_overlap_when_many_outside_callers_start_marked_calls_at_once() =>
        WithThreadedHost(async host =>
        {
            var grain = await ActiveAndIdle(host, "crowd");
            await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(() => grain.Work(i % 3))));
            Assert.Equal(1, await grain.MaxConcurrent());
        });

    [Fact]
    public void On_the_simulation_scheduler_a_marked_call_is_queued_in_the_seeded_order()
    {
        var sim = new SimulationScheduler(seed: 11);
        var gate = NewGate();
        var (startedDuringCall, result) = sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(sim, _journal));
            try
            {
                var grain = host.GrainFactory.GetGrain<IEagerGrain>("sim");
                await grain.Ping();
                var call = grain.PassAsync(gate);
                var started = Started("sim", gate) is not null;
                GateGrain.Gate(gate).SetResult(4);
                return (started, await call);
            }
            finally
            {
                await host.StopAsync(CancellationToken.None);
                await host.DisposeAsync();
            }
        });

        Assert.False(startedDuringCall);
        Assert.Equal(5, result);
    }
}

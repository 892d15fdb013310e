using Federation.Hosting.Scheduling;
using Federation.Hosting.Tests.Grains;

namespace Federation.Hosting.Tests.Runtime;

/// <summary>The programming model on the simulation scheduler: references, activation, turns, errors, chains, timeouts.</summary>
public class GrainCallTests
{
    private readonly Journal _journal = new();
    private readonly SimulationScheduler _sim = new(seed: 7);

    private T Run<T>(Func<GrainHost, Task<T>> body) => _sim.Run(async () =>
    {
        var host = await TestHosts.StartAsync(TestHosts.Simulated(_sim, _journal));
        try
        {
            return await body(host);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
            await host.DisposeAsync();
        }
    });

    [Fact]
    public void A_reference_activates_its_grain_on_the_first_call_and_reuses_the_activation()
    {
        var results = Run(async host =>
        {
            var counter = host.GrainFactory.GetGrain<ICounterGrain>("a");
            Assert.Empty(_journal.Entries); // a reference alone activates nothing
            var first = await counter.Increment();
            var second = await host.GrainFactory.GetGrain<ICounterGrain>("a").Increment();
            return (first, second, counter.GetPrimaryKeyString());
        });

        Assert.Equal((1, 2, "a"), results);
        Assert.Equal(1, _journal.Entries.Count(e => e.StartsWith("activate counter/a", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Grain_code_is_told_apart_from_outside_code_on_the_thread_pool_host()
    {
        // The thread-pool scheduler queues work sent from grain code locally and work from outside globally.
        using var directory = new TempDirectory();
        var host = await TestHosts.StartAsync(TestHosts.Threaded(new GrainHostBuilder(), directory.Path, _journal));
        try
        {
            var where = await host.GrainFactory.GetGrain<IContextGrain>("c").WhereAmI();
            Assert.Equal(new[] { true, true }, where);
            Assert.False(Federation.Hosting.Runtime.Activation.IsGrainContext(SynchronizationContext.Current));
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task On_the_thread_pool_a_turn_that_ends_after_an_await_replies_from_that_step_without_another_work_item()
    {
        using var directory = new TempDirectory();
        var host = await TestHosts.StartAsync(TestHosts.Threaded(new GrainHostBuilder(), directory.Path, _journal));
        try
        {
            // The turn waits for a gate: the caller's synchronous continuation is in place before the turn can end.
            var gateName = "inline-reply-" + Guid.NewGuid().ToString("N");
            var call = host.GrainFactory.GetGrain<IGateGrain>("g").PassAsync(gateName);
            var reply = call.ContinueWith(t => (t.Result, Environment.StackTrace), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            Assert.False(call.IsCompleted);
            GateGrain.Gate(gateName).SetResult(41);

            // The turn ends in the step its await posted back; the caller's continuation then runs on that step's
            // thread, inside the activation's Execute, not in a reply work item of its own.
            var (result, replyStack) = await reply;
            Assert.Equal(42, result);
            Assert.Contains("Federation.Hosting.Runtime.Activation.Execute", replyStack);
            Assert.DoesNotContain("RequestCompletion", replyStack);

            // Turns still never overlap, with many callers whose replies take this path.
            var probe = host.GrainFactory.GetGrain<IProbeGrain>("inline-reply");
            await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => probe.Work(2)));
            Assert.Equal(1, await probe.MaxConcurrent());
            Assert.Equal(0, await probe.Violations());
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
            await host.DisposeAsync();
        }
    }

    [Fact]
    public void References_to_the_same_grain_are_equal_and_name_it()
    {
        var (same, other, text) = Run(host =>
        {
            var a = host.GrainFactory.GetGrain<ICounterGrain>("eq");
            var b = host.GrainFactory.GetGrain<ICounterGrain>("eq");
            var c = host.GrainFactory.GetGrain<ICounterGrain>("other");
            return Task.FromResult((a.Equals(b) && a.GetHashCode() == b.GetHashCode(), a.Equals(c), a.ToString()));
        });

        Assert.True(same);
        Assert.False(other);
        Assert.Equal("counter/eq", text);
    }

    [Fact]
    public void Task_ValueTask_and_result_methods_all_dispatch()
    {
        var echo = Run(async host =>
        {
            var counter = host.GrainFactory.GetGrain<ICounterGrain>("v");
            await counter.Touch();
            return await counter.Echo("hi");
        });

        Assert.Equal("v:hi", echo);
    }

    [Fact]
    public void An_exception_thrown_by_a_grain_reaches_the_caller_with_its_type_and_message()
    {
        var error = Run(async host =>
            await Assert.ThrowsAsync<ArgumentException>(() => host.GrainFactory.GetGrain<ICounterGrain>("e").Fail("no such epoch")));

        Assert.Equal("no such epoch", error.Message);
    }

    [Fact]
    public void An_exception_thrown_after_an_await_reaches_the_caller_as_the_same_object()
    {
        var (error, grainUsable) = Run(async host =>
        {
            var grain = host.GrainFactory.GetGrain<ICounterGrain>("late");
            var error = await Assert.ThrowsAsync<KeyNotFoundException>(() => grain.FailAfterAwait("no such node"));
            return (error, await grain.Increment()); // the activation survives a failed request
        });

        Assert.Equal("no such node", error.Message);
        Assert.Contains(nameof(CounterGrain.FailAfterAwait), error.StackTrace, StringComparison.Ordinal); // thrown in the grain, not re-created
        Assert.Equal(1, grainUsable);
    }

    [Fact]
    public void A_non_reentrant_call_cycle_fails_at_once_with_the_chain_named()
    {
        var error = Run(async host =>
            await Assert.ThrowsAsync<DeadlockException>(() => host.GrainFactory.GetGrain<IChainGrain>("a").Start("b", interleaving: false)));

        Assert.Equal(["chain/a.Start", "chain/b.Relay", "chain/a.Ping"], error.CallChain);
        Assert.Contains("call cycle chain/a.Start → chain/b.Relay → chain/a.Ping", error.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.Zero, _sim.Clock.Elapsed); // no timeout was waited for
    }

    [Fact]
    public void A_grain_awaiting_a_call_to_itself_fails_at_once()
    {
        var error = Run(async host =>
            await Assert.ThrowsAsync<DeadlockException>(() => host.GrainFactory.GetGrain<IChainGrain>("self").Start("self", interleaving: false)));

        Assert.Equal(["chain/self.Start", "chain/self.Relay"], error.CallChain);
    }

    [Fact]
    public void An_AlwaysInterleave_method_may_be_called_back_within_the_chain()
    {
        var answer = Run(host => host.GrainFactory.GetGrain<IChainGrain>("a").Start("b", interleaving: true));
        Assert.Equal("b>hello a", answer);
    }

    [Fact]
    public void A_read_only_request_may_be_called_back_by_a_read_only_chain()
    {
        var answer = Run(host => host.GrainFactory.GetGrain<IChainGrain>("a").Look("b"));
        Assert.Equal("peek a", answer);
    }

    [Fact]
    public void State_goes_to_the_storage_named_in_its_PersistentState_attribute()
    {
        var archive = new Federation.Hosting.Persistence.MemoryGrainStorage();
        var stored = _sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(_sim, _journal).AddGrainStorage("Archive", archive));
            await host.GrainFactory.GetGrain<IArchiveGrain>("x").Keep(42);
            await host.StopAsync(CancellationToken.None);
            return await archive.ReadAsync(new(new GrainId("archive", "x"), "log"));
        });

        Assert.Equal("{\"value\":42}", System.Text.Encoding.UTF8.GetString(stored!.Payload!));
    }

    [Fact]
    public void A_grain_whose_storage_is_not_registered_fails_to_activate_naming_the_storage()
    {
        var error = Run(async host => await Assert.ThrowsAsync<GrainActivationException>(() => host.GrainFactory.GetGrain<IArchiveGrain>("y").Keep(1)));
        Assert.Contains("no grain storage named 'Archive'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_Reentrant_grain_may_be_called_back_within_the_chain()
    {
        var answer = Run(host => host.GrainFactory.GetGrain<IReentrantChainGrain>("a").Start("b"));
        Assert.Equal("b>ping a", answer);
    }

    [Fact]
    public void A_call_that_outlives_the_timeout_fails_with_a_timeout_naming_grain_and_method()
    {
        var (error, waited) = Run(async host =>
        {
            var error = await Assert.ThrowsAsync<TimeoutException>(() => host.GrainFactory.GetGrain<ISlowGrain>("x").Hang());
            return (error, _sim.Clock.Elapsed);
        });

        Assert.Contains("slow/x.Hang", error.Message, StringComparison.Ordinal);
        Assert.InRange(waited, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(31)); // virtual time: the 30 s default
    }

    [Fact]
    public void Calls_that_time_out_together_fail_in_grain_order_whatever_order_they_were_sent_in()
    {
        var failed = Run(async host =>
        {
            // Idle activations around them: the sweep passes over these without failing anything.
            await Task.WhenAll(Enumerable.Range(0, 50).Select(i => host.GrainFactory.GetGrain<IProbeGrain>($"idle-{i}").Work(1)));
            var order = new List<string>();
            var calls = new[] { "c", "a", "d", "b" }.Select(key => host.GrainFactory.GetGrain<ISlowGrain>(key).Hang()
                .ContinueWith(t => order.Add(key + ":" + t.Exception?.InnerException?.GetType().Name), TaskContinuationOptions.ExecuteSynchronously)).ToArray();
            await Task.WhenAll(calls);
            return order;
        });

        // One sweep fails all four (same deadline), in the order the seeded replay relies on.
        Assert.Equal(["a:TimeoutException", "b:TimeoutException", "c:TimeoutException", "d:TimeoutException"], failed);
    }

    [Fact]
    public void A_request_queued_behind_a_hung_request_times_out_with_its_own_name()
    {
        var (hung, queued) = Run(async host =>
        {
            var slow = host.GrainFactory.GetGrain<ISlowGrain>("q");
            var hangTask = slow.Hang();
            var queuedError = await Assert.ThrowsAsync<TimeoutException>(() => slow.StartTimer(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
            var hungError = await Assert.ThrowsAsync<TimeoutException>(() => hangTask);
            return (hungError, queuedError);
        });

        Assert.Contains("slow/q.Hang", hung.Message, StringComparison.Ordinal);
        Assert.Contains("slow/q.StartTimer", queued.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_only_requests_interleave_with_each_other_but_writers_never_overlap()
    {
        var (writers, readers) = Run(async host =>
        {
            var writer = host.GrainFactory.GetGrain<IProbeGrain>("w");
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => writer.Work(5)));
            var reader = host.GrainFactory.GetGrain<IProbeGrain>("r");
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => reader.Read(5)));
            return (await writer.MaxConcurrent(), await reader.MaxConcurrent());
        });

        Assert.Equal(1, writers);
        Assert.True(readers > 1, $"read-only requests should have interleaved (max {readers})");
    }

    [Fact]
    public void A_failed_activation_fails_the_call_and_leaves_no_activation_behind()
    {
        var (first, second, activations) = Run(async host =>
        {
            var grain = host.GrainFactory.GetGrain<ICounterGrain>("refuse-1");
            var first = await Assert.ThrowsAsync<GrainActivationException>(() => grain.Increment());
            var activations = host.Management.ListActivations().Count;
            var second = await Assert.ThrowsAsync<GrainActivationException>(() => grain.Get());
            return (first, second, activations);
        });

        Assert.IsType<InvalidOperationException>(first.InnerException);
        Assert.Contains("counter/refuse-1", first.Message, StringComparison.Ordinal);
        Assert.NotNull(second);
        Assert.Equal(0, activations);
        Assert.Equal(2, _journal.Entries.Count(e => e.StartsWith("activate counter/refuse-1", StringComparison.Ordinal))); // retried, not cached
    }

    [Fact]
    public void Graceful_stop_deactivates_every_activation_and_later_calls_are_refused()
    {
        GrainHost? stopped = null;
        _sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(_sim, _journal));
            await host.GrainFactory.GetGrain<ICounterGrain>("s1").Increment();
            await host.GrainFactory.GetGrain<ICounterGrain>("s2").Increment();
            await host.StopAsync(CancellationToken.None);
            stopped = host;
            await Assert.ThrowsAsync<GrainHostStoppedException>(() => host.GrainFactory.GetGrain<ICounterGrain>("s1").Get());
        });

        Assert.Contains("deactivate counter/s1 HostShutdown", _journal.Entries);
        Assert.Contains("deactivate counter/s2 HostShutdown", _journal.Entries);
        Assert.NotNull(stopped);
    }
}

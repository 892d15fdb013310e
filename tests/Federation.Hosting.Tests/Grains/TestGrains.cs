using System.Collections.Concurrent;
using System.Text.Json.Serialization;

namespace Federation.Hosting.Tests.Grains;

// Grains used by the tests. They keep no static state: what a test observes goes through a DI singleton.

/// <summary>What grains report to the test (registered as a singleton per host or per cluster).</summary>
public sealed class Journal
{
    private readonly ConcurrentQueue<string> _entries = new();

    public void Add(string entry) => _entries.Enqueue(entry);

    public IReadOnlyList<string> Entries => [.. _entries];

    public int Count(string entry) => _entries.Count(e => e == entry);
}

public sealed class CounterState
{
    [JsonPropertyName("value")]
    public int Value { get; set; }
}

public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> Increment();

    [ReadOnly]
    Task<int> Get();

    ValueTask<string> Echo(string text);

    Task Fail(string message);

    Task FailAfterAwait(string message);

    ValueTask Touch();

    Task Clear();

    Task<string?> Etag();
}

[GrainType("counter")]
public sealed class CounterGrain([PersistentState("counter")] IPersistentState<CounterState> counter, Journal journal) : Grain, ICounterGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        journal.Add($"activate {GrainId} value={counter.State.Value} exists={counter.RecordExists}");
        if (GetPrimaryKeyString().StartsWith("refuse", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{GrainId} refuses to activate");
        }

        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        journal.Add($"deactivate {GrainId} {reason}");
        return Task.CompletedTask;
    }

    public async Task<int> Increment()
    {
        counter.State.Value++;
        await counter.WriteStateAsync();
        return counter.State.Value;
    }

    public Task<int> Get() => Task.FromResult(counter.State.Value);

    public ValueTask<string> Echo(string text) => ValueTask.FromResult($"{GetPrimaryKeyString()}:{text}");

    public Task Fail(string message) => throw new ArgumentException(message);

    public async Task FailAfterAwait(string message)
    {
        await Task.Yield();
        throw new KeyNotFoundException(message);
    }

    public ValueTask Touch() => ValueTask.CompletedTask;

    public Task Clear() => counter.ClearStateAsync();

    public Task<string?> Etag() => Task.FromResult(counter.Etag);
}

/// <summary>Counts how many of its turns run at once; awaits inside each turn so interleaving would show.</summary>
public interface IProbeGrain : IGrainWithStringKey
{
    Task Work(int yields);

    [ReadOnly]
    Task Read(int yields);

    [ReadOnly]
    Task<int> MaxConcurrent();

    /// <summary>How often a turn started while it should not have: a writer beside anything, a reader beside a writer.</summary>
    [ReadOnly]
    Task<int> Violations();
}

/// <summary>How many turns of one grain run at once, at most. Not Interlocked on purpose: if two turns ever ran at once, the count would show it (or tear).</summary>
public sealed class TurnCounter
{
    private int _inside;

    public int Max { get; private set; }

    /// <summary>A turn's body: counts itself in, yields <paramref name="yields"/> times, counts itself out.</summary>
    public async Task Run(int yields)
    {
        _inside++;
        Max = Math.Max(Max, _inside);
        for (var i = 0; i < yields; i++)
        {
            await Task.Yield();
        }

        _inside--;
    }
}

[GrainType("probe")]
public sealed class ProbeGrain : Grain, IProbeGrain
{
    private readonly TurnCounter _turns = new();
    private int _writers;
    private int _readers;
    private int _violations;

    public async Task Work(int yields)
    {
        _violations += _writers + _readers > 0 ? 1 : 0;
        _writers++;
        await _turns.Run(yields);
        _writers--;
    }

    public async Task Read(int yields)
    {
        _violations += _writers > 0 ? 1 : 0;
        _readers++;
        await _turns.Run(yields);
        _readers--;
    }

    public Task<int> MaxConcurrent() => Task.FromResult(_turns.Max);

    public Task<int> Violations() => Task.FromResult(_violations);
}

/// <summary>Grains that call each other, for call-chain tests.</summary>
public interface IChainGrain : IGrainWithStringKey
{
    /// <summary>Calls <paramref name="next"/>.Relay(this) — which calls back <see cref="Ping"/> or <see cref="Hello"/>.</summary>
    Task<string> Start(string next, bool interleaving);

    Task<string> Relay(string back, bool interleaving);

    Task<string> Ping();

    [AlwaysInterleave]
    Task<string> Hello();

    /// <summary>Read-only all the way: next.LookBack(this) calls back <see cref="Peek"/>.</summary>
    [ReadOnly]
    Task<string> Look(string next);

    [ReadOnly]
    Task<string> LookBack(string back);

    [ReadOnly]
    Task<string> Peek();
}

[GrainType("chain")]
public sealed class ChainGrain : Grain, IChainGrain
{
    public Task<string> Start(string next, bool interleaving) => GrainFactory.GetGrain<IChainGrain>(next).Relay(GetPrimaryKeyString(), interleaving);

    public async Task<string> Relay(string back, bool interleaving)
    {
        var origin = GrainFactory.GetGrain<IChainGrain>(back);
        return $"{GetPrimaryKeyString()}>" + (interleaving ? await origin.Hello() : await origin.Ping());
    }

    public Task<string> Ping() => Task.FromResult($"ping {GetPrimaryKeyString()}");

    public Task<string> Hello() => Task.FromResult($"hello {GetPrimaryKeyString()}");

    public Task<string> Look(string next) => GrainFactory.GetGrain<IChainGrain>(next).LookBack(GetPrimaryKeyString());

    public Task<string> LookBack(string back) => GrainFactory.GetGrain<IChainGrain>(back).Peek();

    public Task<string> Peek() => Task.FromResult($"peek {GetPrimaryKeyString()}");
}

public interface IReentrantChainGrain : IGrainWithStringKey
{
    Task<string> Start(string next);

    Task<string> Relay(string back);

    Task<string> Ping();
}

[GrainType("reentrant")]
[Reentrant]
public sealed class ReentrantChainGrain : Grain, IReentrantChainGrain
{
    public Task<string> Start(string next) => GrainFactory.GetGrain<IReentrantChainGrain>(next).Relay(GetPrimaryKeyString());

    public async Task<string> Relay(string back) => $"{GetPrimaryKeyString()}>" + await GrainFactory.GetGrain<IReentrantChainGrain>(back).Ping();

    public Task<string> Ping() => Task.FromResult($"ping {GetPrimaryKeyString()}");
}

/// <summary>A grain whose calls never finish (for timeouts) and whose timer ticks are counted.</summary>
public interface ISlowGrain : IGrainWithStringKey
{
    Task Hang();

    Task StartTimer(TimeSpan due, TimeSpan period);

    [ReadOnly]
    Task<int> Ticks();

    Task Leave();
}

[GrainType("slow")]
public sealed class SlowGrain(Journal journal) : Grain, ISlowGrain
{
    private readonly TaskCompletionSource _never = new();
    private int _ticks;

    public Task Hang() => _never.Task;

    public Task StartTimer(TimeSpan due, TimeSpan period)
    {
        RegisterTimer(_ =>
        {
            _ticks++;
            journal.Add($"tick {GetPrimaryKeyString()} at {TimeProvider.GetUtcNow():O}");
            return Task.CompletedTask;
        }, due, period);
        return Task.CompletedTask;
    }

    public Task<int> Ticks() => Task.FromResult(_ticks);

    public Task Leave()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        journal.Add($"deactivate {GrainId} {reason}");
        return Task.CompletedTask;
    }
}

/// <summary>A grain with a durable reminder; every tick goes to the journal.</summary>
public interface IAlarmGrain : IGrainWithStringKey
{
    Task Set(string name, TimeSpan due, TimeSpan period);

    Task Unset(string name);

    Task<IReadOnlyList<string>> Names();
}

[GrainType("alarm")]
public sealed class AlarmGrain(Journal journal) : Grain, IAlarmGrain, IRemindable
{
    public Task Set(string name, TimeSpan due, TimeSpan period) => RegisterOrUpdateReminderAsync(name, due, period);

    public async Task Unset(string name)
    {
        if (await GetReminderAsync(name) is { } reminder)
        {
            await UnregisterReminderAsync(reminder);
        }
    }

    public async Task<IReadOnlyList<string>> Names() => [.. (await GrainContext.GetRemindersAsync()).Select(r => r.ReminderName)];

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        journal.Add($"reminder {GetPrimaryKeyString()} {reminderName} current={status.CurrentTickTime:O} now={TimeProvider.GetUtcNow():O}");
        return Task.CompletedTask;
    }
}

/// <summary>Used only by the telemetry tests, whose process-wide listeners filter on its type name.</summary>
public interface IMeteredGrain : IGrainWithStringKey
{
    Task<int> Ping();

    Task Fail();

    Task<int> Forward(string other);
}

[GrainType("metered")]
public sealed class MeteredGrain : Grain, IMeteredGrain
{
    public Task<int> Ping() => Task.FromResult(1);

    public Task Fail() => throw new InvalidOperationException("metered failure");

    public async Task<int> Forward(string other) => await GrainFactory.GetGrain<IMeteredGrain>(other).Ping() + 1;
}

/// <summary>Keeps its state in the storage provider named "Archive".</summary>
public interface IArchiveGrain : IGrainWithStringKey
{
    Task Keep(int value);
}

[GrainType("archive")]
public sealed class ArchiveGrain([PersistentState("log", "Archive")] IPersistentState<CounterState> log) : Grain, IArchiveGrain
{
    public Task Keep(int value)
    {
        log.State.Value = value;
        return log.WriteStateAsync();
    }
}

/// <summary>Reports whether the host sees its code as grain code (what the thread-pool scheduler's queue choice keys on).</summary>
public interface IContextGrain : IGrainWithStringKey
{
    Task<bool[]> WhereAmI();
}

[GrainType("context")]
public sealed class ContextGrain : Grain, IContextGrain
{
    public async Task<bool[]> WhereAmI()
    {
        var before = Federation.Hosting.Runtime.Activation.IsGrainContext(SynchronizationContext.Current);
        await Task.Yield();
        var after = Federation.Hosting.Runtime.Activation.IsGrainContext(SynchronizationContext.Current);
        return [before, after];
    }
}

/// <summary>A turn that waits for a gate the test opens, so the test acts before the turn can end.</summary>
public interface IGateGrain : IGrainWithStringKey
{
    Task<int> PassAsync(string gate);
}

[GrainType("gate")]
public sealed class GateGrain : Grain, IGateGrain
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource<int>> Gates = new();

    /// <summary>The gate a turn waits for (created on first use by either side).</summary>
    public static TaskCompletionSource<int> Gate(string name) => Gates.GetOrAdd(name, _ => new TaskCompletionSource<int>());

    /// <summary>Ends in a later step whenever the gate opens: it yields first, so it never completes as it starts.</summary>
    public async Task<int> PassAsync(string gate)
    {
        await Task.Yield();
        return await Gate(gate).Task + 1;
    }
}

/// <summary>A grain whose entry points may start on the caller's thread (see StartsOnCallerThreadAttribute).</summary>
public interface IEagerGrain : IGrainWithStringKey
{
    Task Ping();

    /// <summary>Journals where its synchronous part ran ("eager &lt;key&gt; &lt;gate&gt; thread=&lt;id&gt; grain=&lt;bool&gt; ambient=&lt;value&gt; caller-frame=&lt;bool&gt;"), then waits for the gate; returns the gate's value + 1 if it came back in grain context without an ambient value, else -1.</summary>
    [StartsOnCallerThread]
    Task<int> PassAsync(string gate);

    /// <summary>As <see cref="IProbeGrain.Work"/>: counts turns inside at once.</summary>
    [StartsOnCallerThread]
    Task Work(int yields);

    [ReadOnly]
    Task<int> MaxConcurrent();
}

[GrainType("eager")]
public sealed class EagerGrain(Journal journal) : Grain, IEagerGrain
{
    private readonly TurnCounter _turns = new();

    public Task Ping() => Task.CompletedTask;

    /// <summary>An ambient value a caller may set: grain code must never see it (a turn runs under an empty execution context).</summary>
    public static readonly AsyncLocal<string?> Ambient = new();

    public async Task<int> PassAsync(string gate)
    {
        journal.Add($"eager {this.GetPrimaryKeyString()} {gate} thread={Environment.CurrentManagedThreadId} grain={Federation.Hosting.Runtime.Activation.IsGrainContext(SynchronizationContext.Current)} ambient={Ambient.Value ?? "none"} caller-frame={Environment.StackTrace.Contains(nameof(EagerCallerGrain), StringComparison.Ordinal)}");
        var value = await GateGrain.Gate(gate).Task;
        return Federation.Hosting.Runtime.Activation.IsGrainContext(SynchronizationContext.Current) && Ambient.Value is null ? value + 1 : -1;
    }

    public Task Work(int yields) => _turns.Run(yields);

    public Task<int> MaxConcurrent() => Task.FromResult(_turns.Max);
}

/// <summary>Calls an <see cref="IEagerGrain"/> from grain code.</summary>
public interface IEagerCallerGrain : IGrainWithStringKey
{
    Task<int> CallAsync(string eager, string gate);
}

[GrainType("eager-caller")]
public sealed class EagerCallerGrain : Grain, IEagerCallerGrain
{
    public async Task<int> CallAsync(string eager, string gate)
    {
        var target = GrainFactory.GetGrain<IEagerGrain>(eager);
        await target.Ping(); // active and idle before the call that matters
        return await target.PassAsync(gate);
    }
}

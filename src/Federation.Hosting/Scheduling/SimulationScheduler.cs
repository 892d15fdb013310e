using System.Diagnostics;

namespace Federation.Hosting.Scheduling;

/// <summary>
/// Deterministic scheduler for simulation: one thread, a run queue of ready work items picked in an order
/// drawn from a seeded <see cref="Random"/>, and a <see cref="VirtualTimeProvider"/> that advances to the next
/// due timer only when nothing is runnable. The same seed gives the same sequence of turns, bit for bit.
/// </summary>
public sealed class SimulationScheduler : IGrainScheduler
{
    /// <summary>One step per scheduling, so independent activations interleave as finely as the seed decides.</summary>
    public const int SimulationStepsPerExecution = 1;

    /// <summary>Bound on steps of one run (a livelock stops loudly instead of spinning forever).</summary>
    public const long DefaultMaxSteps = 50_000_000;

    /// <summary>Bound on virtual time of one run: periodic host timers never let a stuck run look idle.</summary>
    public static readonly TimeSpan DefaultMaxVirtualTime = TimeSpan.FromDays(1);

    private readonly Random _random;
    private readonly List<IGrainWorkItem> _ready = [];
    private readonly List<string>? _trace;
    private int _ownerThread = -1;

    public SimulationScheduler(int seed, VirtualTimeProvider? timeProvider = null, bool recordTrace = false)
    {
        Seed = seed;
        _random = new Random(seed);
        Clock = timeProvider ?? new VirtualTimeProvider();
        _trace = recordTrace ? [] : null;
    }

    public int Seed { get; }

    public VirtualTimeProvider Clock { get; }

    public TimeProvider TimeProvider => Clock;

    public int StepsPerExecution => SimulationStepsPerExecution;

    /// <summary>The labels of executed work items, in order (when recording was asked for).</summary>
    public IReadOnlyList<string> Trace => _trace ?? throw new InvalidOperationException("this scheduler was created without recordTrace");

    public long StepsExecuted { get; private set; }

    public void Schedule(IGrainWorkItem item)
    {
        AssertOwnerThread();
        _ready.Add(item);
    }

    public void Post(SendOrPostCallback callback, object? state) => Schedule(new PostedWork(callback, state));

    /// <summary>
    /// Runs <paramref name="driver"/> (the simulation's client code) and every turn it causes on the calling
    /// thread until the driver's task completes. Throws when the run stalls (the driver waits, nothing is
    /// runnable and no timer is armed) or exceeds <paramref name="maxSteps"/>.
    /// </summary>
    public T Run<T>(Func<Task<T>> driver, long maxSteps = DefaultMaxSteps)
    {
        var task = Start(driver);
        Pump(task, maxSteps);
        return task.GetAwaiter().GetResult();
    }

    public void Run(Func<Task> driver, long maxSteps = DefaultMaxSteps)
    {
        var task = Start(async () =>
        {
            await driver();
            return true;
        });
        Pump(task, maxSteps);
        task.GetAwaiter().GetResult();
    }

    /// <summary>Runs everything runnable now, without advancing the clock.</summary>
    public void RunUntilIdle(long maxSteps = DefaultMaxSteps)
    {
        BindThread();
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(new SimulationSynchronizationContext(this));
        try
        {
            for (long steps = 0; _ready.Count > 0; steps++)
            {
                Bound(steps, maxSteps);
                Step();
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private Task<T> Start<T>(Func<Task<T>> driver)
    {
        BindThread();
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(new SimulationSynchronizationContext(this));
        try
        {
            return driver();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private void Pump(Task task, long maxSteps)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(new SimulationSynchronizationContext(this));
        try
        {
            for (long steps = 0; !task.IsCompleted; steps++)
            {
                Bound(steps, maxSteps);
                if (_ready.Count > 0)
                {
                    Step();
                }
                else if (Clock.NextDue() is { } next && next > DefaultMaxVirtualTime)
                {
                    throw new InvalidOperationException($"simulation (seed {Seed}) still waiting after {DefaultMaxVirtualTime} of virtual time: the driver waits on something that never happens");
                }
                else if (!Clock.AdvanceToNextTimer())
                {
                    throw new InvalidOperationException($"simulation (seed {Seed}) stalled at +{Clock.Elapsed}: the driver waits, nothing is runnable and no timer is armed");
                }
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private void Bound(long steps, long maxSteps)
    {
        if (steps >= maxSteps)
        {
            throw new InvalidOperationException($"simulation (seed {Seed}) exceeded {maxSteps} steps at +{Clock.Elapsed}");
        }
    }

    private void Step()
    {
        // Seeded choice among the runnable items; swap-remove keeps the order a pure function of the seed.
        var index = _random.Next(_ready.Count);
        var item = _ready[index];
        _ready[index] = _ready[^1];
        _ready.RemoveAt(_ready.Count - 1);
        _trace?.Add(item.TraceLabel);
        StepsExecuted++;
        item.Execute(SimulationStepsPerExecution);
    }

    private void BindThread()
    {
        var current = Environment.CurrentManagedThreadId;
        if (_ownerThread == -1)
        {
            _ownerThread = current;
        }

        AssertOwnerThread();
    }

    [Conditional("DEBUG")]
    private void AssertOwnerThread() => Debug.Assert(_ownerThread == -1 || _ownerThread == Environment.CurrentManagedThreadId,
        $"simulation scheduler (seed {Seed}) used from thread {Environment.CurrentManagedThreadId}, owned by {_ownerThread}: some code escaped the scheduler (ConfigureAwait(false), Task.Run, a real timer)");

    private sealed class PostedWork(SendOrPostCallback callback, object? state) : IGrainWorkItem
    {
        public string TraceLabel => "client";

        public void Execute(int budget) => callback(state);
    }

    /// <summary>The context of client code in a simulation: its continuations go back on the run queue.</summary>
    private sealed class SimulationSynchronizationContext(SimulationScheduler scheduler) : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state) => scheduler.Post(d, state);

        public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("Send would block the simulation's only thread");

        public override SynchronizationContext CreateCopy() => this;
    }
}

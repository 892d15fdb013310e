namespace Federation.Hosting.Scheduling;

/// <summary>A unit of work the scheduler runs: an activation draining its queue, or a posted continuation.</summary>
public interface IGrainWorkItem
{
    /// <summary>Runs on the scheduler's thread; <paramref name="budget"/> is how many queued steps it may take before yielding.</summary>
    void Execute(int budget);

    /// <summary>What the simulation trace records for this item.</summary>
    string TraceLabel { get; }
}

/// <summary>
/// Decides where and when turns run. Production: the thread pool, different activations in parallel.
/// Simulation: one thread, a seeded order. Grain code cannot tell them apart.
/// </summary>
public interface IGrainScheduler
{
    /// <summary>The clock that drives timers, reminders, call timeouts and collection.</summary>
    TimeProvider TimeProvider { get; }

    /// <summary>How many queued steps an activation runs per scheduling (fairness vs. throughput).</summary>
    int StepsPerExecution { get; }

    void Schedule(IGrainWorkItem item);

    /// <summary>Runs a callback outside any activation (client code, host maintenance) on this scheduler.</summary>
    void Post(SendOrPostCallback callback, object? state);
}

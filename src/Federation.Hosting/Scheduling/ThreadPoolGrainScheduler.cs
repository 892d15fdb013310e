namespace Federation.Hosting.Scheduling;

/// <summary>Production scheduler: each scheduled activation drains on a thread-pool thread; different activations run in parallel.</summary>
public sealed class ThreadPoolGrainScheduler(TimeProvider timeProvider) : IGrainScheduler
{
    /// <summary>Steps an activation runs before it yields its thread to other work.</summary>
    public const int DefaultStepsPerExecution = 64;

    public ThreadPoolGrainScheduler()
        : this(TimeProvider.System)
    {
    }

    public TimeProvider TimeProvider { get; } = timeProvider;

    public int StepsPerExecution => DefaultStepsPerExecution;

    public void Schedule(IGrainWorkItem item)
    {
        // Activations implement IThreadPoolWorkItem, so scheduling one allocates nothing. From grain code the work
        // goes to this thread's local queue: the turn that sent the message usually ends next (it awaits), so this
        // thread runs the callee itself, cache-warm, and idle threads steal from its queue. From outside (a gateway
        // taking requests, a store completing appends) it goes to the global queue, in arrival order: under load the
        // outside work then runs back to back (every arriving request's signature check, then the turns), each stage
        // keeping its code and tables in cache, and more appends meet in one group commit. Measured on one core with
        // 512 updates in flight: 64.3-65.7 -> 60.9-61.1 µs per update, 48 -> 94-100 updates per fsync.
        if (item is IThreadPoolWorkItem work)
        {
            ThreadPool.UnsafeQueueUserWorkItem(work, preferLocal: Runtime.Activation.IsGrainContext(SynchronizationContext.Current));
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Execute(DefaultStepsPerExecution), item, preferLocal: false);
        }
    }

    public void Post(SendOrPostCallback callback, object? state) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.callback(s.state), (callback, state), preferLocal: false);
}

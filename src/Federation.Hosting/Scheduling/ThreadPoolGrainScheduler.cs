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
        // Activations implement IThreadPoolWorkItem, so scheduling one allocates nothing. preferLocal: the thread
        // that sent the message usually goes idle next (its caller awaits), so it runs the turn itself, cache-warm;
        // idle threads steal from its local queue, so other activations still run in parallel.
        if (item is IThreadPoolWorkItem work)
        {
            ThreadPool.UnsafeQueueUserWorkItem(work, preferLocal: true);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Execute(DefaultStepsPerExecution), item, preferLocal: false);
        }
    }

    public void Post(SendOrPostCallback callback, object? state) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.callback(s.state), (callback, state), preferLocal: false);
}

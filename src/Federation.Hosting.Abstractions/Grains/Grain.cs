namespace Federation.Hosting;

/// <summary>Why an activation ends.</summary>
public enum DeactivationReason
{
    /// <summary>Idle for longer than the collection age.</summary>
    IdleCollection,

    /// <summary>The grain asked for it (<see cref="Grain.DeactivateOnIdle"/>).</summary>
    ApplicationRequested,

    /// <summary>An operator asked for it through the management interface.</summary>
    ManagementRequested,

    /// <summary>The host is shutting down gracefully.</summary>
    HostShutdown,
}

/// <summary>What the host offers one activation. Implemented by the host; grains reach it through <see cref="Grain"/>.</summary>
public interface IGrainContext
{
    GrainId GrainId { get; }

    IGrainFactory GrainFactory { get; }

    /// <summary>The host's clock: the system clock in production, a virtual clock in simulation.</summary>
    TimeProvider TimeProvider { get; }

    /// <summary>
    /// A timer that lives with this activation: each tick is a turn of the grain (not interleaved), the next
    /// period starts when the callback's task completes, and the timer dies with the activation. Ticks do not
    /// keep the activation from being collected.
    /// </summary>
    IDisposable RegisterTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period);

    Task<IGrainReminder> RegisterOrUpdateReminderAsync(string reminderName, TimeSpan dueTime, TimeSpan period);

    Task UnregisterReminderAsync(IGrainReminder reminder);

    Task<IGrainReminder?> GetReminderAsync(string reminderName);

    Task<IReadOnlyList<IGrainReminder>> GetRemindersAsync();

    /// <summary>Deactivate once the current request finishes.</summary>
    void DeactivateOnIdle();
}

/// <summary>Lifecycle callbacks the host calls on every grain.</summary>
public interface IGrainBase
{
    IGrainContext GrainContext { get; }

    /// <summary>Runs after persistent state is loaded and before the first request.</summary>
    Task OnActivateAsync(CancellationToken cancellationToken);

    /// <summary>Runs on idle collection, requested deactivation and graceful host shutdown — never after a crash.</summary>
    Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken);
}

/// <summary>
/// Base class of grain implementations (Orleans' <c>Grain</c>). The host constructs the grain through
/// dependency injection, attaches its context, loads persistent state, then calls <see cref="OnActivateAsync"/>.
/// Grains keep no static mutable state: the host may run several copies of the product in one process.
/// </summary>
public abstract class Grain : IGrainBase, IAddressable
{
    private IGrainContext? _context;

    public IGrainContext GrainContext => _context ?? throw new InvalidOperationException($"{GetType().Name} is not attached to an activation yet (its constructor must not call the host)");

    public GrainId GrainId => GrainContext.GrainId;

    public IGrainFactory GrainFactory => GrainContext.GrainFactory;

    protected TimeProvider TimeProvider => GrainContext.TimeProvider;

    public string GetPrimaryKeyString() => GrainId.Key;

    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    protected IDisposable RegisterTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period) =>
        GrainContext.RegisterTimer(callback, dueTime, period);

    protected Task<IGrainReminder> RegisterOrUpdateReminderAsync(string reminderName, TimeSpan dueTime, TimeSpan period) =>
        GrainContext.RegisterOrUpdateReminderAsync(reminderName, dueTime, period);

    protected Task UnregisterReminderAsync(IGrainReminder reminder) => GrainContext.UnregisterReminderAsync(reminder);

    protected Task<IGrainReminder?> GetReminderAsync(string reminderName) => GrainContext.GetReminderAsync(reminderName);

    protected void DeactivateOnIdle() => GrainContext.DeactivateOnIdle();

    internal void Attach(IGrainContext context)
    {
        if (_context is not null)
        {
            throw new InvalidOperationException($"{GetType().Name} is already attached to {_context.GrainId}");
        }

        _context = context;
    }
}

using System.Diagnostics;
using System.Reflection;
using Federation.Hosting.Persistence;
using Federation.Hosting.Scheduling;
using Federation.Hosting.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Hosting.Runtime;

/// <summary>
/// One activation of one grain: its mailbox, its turns and its lifecycle. Requests run one at a time unless
/// declared interleavable; every step (request start, await continuation, timer tick) runs with this
/// activation's <see cref="SynchronizationContext"/> on the host's scheduler, so `await` in grain code comes
/// back here and never runs beside another step of the same activation.
/// </summary>
internal sealed class Activation : IGrainWorkItem, IThreadPoolWorkItem, IGrainContext
{
    private readonly GrainRuntime _runtime;
    private readonly Lock _lock = new();
    private readonly ActivationSynchronizationContext _syncContext;
    private Queue<Message>? _mailbox;
    private Queue<Message>? _interleaved;
    private Queue<(SendOrPostCallback Callback, object? State, SynchronizationContext Context)>? _posted;
    private List<Message>? _running;
    private List<GrainTimer>? _timers;
    private ActivationStatus _status;
    private int _runningWriters;
    private bool _scheduled;
    private bool _preferRequest;
    private bool _deactivateOnIdle;
    private DeactivationReason _deactivationReason;
    private TaskCompletionSource? _deactivated;
    private object? _grain;

    // The activation whose posted step runs on this thread, and a request whose turn ended inside that step: it is
    // finished once the step returns, as a request that completes when it starts is (see FinishRequest).
    [ThreadStatic]
    private static Activation? t_stepping;
    private (Message Message, Task Turn)? _endedInStep;

    public Activation(GrainRuntime runtime, GrainClass grainClass, GrainId grainId)
    {
        _runtime = runtime;
        GrainClass = grainClass;
        GrainId = grainId;
        _syncContext = new ActivationSynchronizationContext(this);
        CreatedAt = runtime.TimeProvider.GetUtcNow();
        LastUsed = runtime.TimeProvider.GetTimestamp();
    }

    public GrainId GrainId { get; }

    public GrainClass GrainClass { get; }

    public GrainRuntime Runtime => _runtime;

    public IGrainFactory GrainFactory => _runtime.GrainFactory;

    public TimeProvider TimeProvider => _runtime.TimeProvider;

    public DateTimeOffset CreatedAt { get; }

    /// <summary>Timestamp of the last request (timer ticks do not count).</summary>
    public long LastUsed { get; private set; }

    public string TraceLabel => GrainId.ToString();

    public ActivationStatus Status
    {
        get
        {
            lock (_lock)
            {
                return _status;
            }
        }
    }

    /// <summary>Accepts a message; false when this activation is gone and the caller must look again.</summary>
    public bool Enqueue(Message message) => Enqueue(message, mayStartHere: false, out _);

    /// <summary>
    /// <see cref="Enqueue(Message)"/>, and when <paramref name="mayStartHere"/> and the activation is idle, takes it for
    /// the calling thread instead of scheduling it: the caller then runs <see cref="StartHere"/>.
    /// </summary>
    public bool Enqueue(Message message, bool mayStartHere, out bool startHere)
    {
        startHere = false;
        lock (_lock)
        {
            if (_status is ActivationStatus.Invalid or ActivationStatus.Killed)
            {
                return false;
            }

            if (message.Method is not null)
            {
                LastUsed = Math.Max(LastUsed, message.SentTimestamp); // one clock read per call, taken at dispatch
            }

            if (message.AlwaysInterleave || GrainClass.Reentrant || IsReentry(message))
            {
                (_interleaved ??= new Queue<Message>()).Enqueue(message);
            }
            else
            {
                (_mailbox ??= new Queue<Message>()).Enqueue(message);
            }

            if (_status == ActivationStatus.Created)
            {
                _status = ActivationStatus.Activating;
                PostLocked(static state => ((Activation)state!).RunActivation(), this, _syncContext);
            }

            if (mayStartHere && !_scheduled && _status == ActivationStatus.Valid && _posted is not { Count: > 0 } && HasRunnableWorkLocked())
            {
                _scheduled = true;
                _preferRequest = true; // the step StartHere runs is this request, even if a continuation is posted meanwhile
                startHere = true;
                return true;
            }

            ScheduleIfRunnableLocked();
            return true;
        }
    }

    /// <summary>
    /// Runs one step (the request just enqueued) on the calling thread, as a scheduled execution would: under an
    /// empty execution context (as the thread pool runs work items), so the caller's <see cref="AsyncLocal{T}"/>
    /// values never reach grain code or what it captures. The caller's context is back when this returns.
    /// </summary>
    public void StartHere()
    {
        var caller = ExecutionContext.Capture(); // null only when the caller suppressed flow (then it is not called)
        ExecutionContext.Restore(EmptyExecutionContext);
        try
        {
            Execute(1, finishEndedTurnsInline: true);
        }
        finally
        {
            ExecutionContext.Restore(caller ?? EmptyExecutionContext);
        }
    }

    /// <summary>The context of a thread nothing has flowed into (captured once, on a thread started without flow).</summary>
    private static readonly ExecutionContext EmptyExecutionContext = CaptureEmptyExecutionContext();

    private static ExecutionContext CaptureEmptyExecutionContext()
    {
        ExecutionContext? empty = null;
        var thread = new Thread(() => empty = ExecutionContext.Capture()) { IsBackground = true, Name = "capture empty execution context" };
        thread.UnsafeStart();
        thread.Join();
        return empty ?? throw new InvalidOperationException("a thread started without flow has no execution context to capture");
    }

    /// <summary>
    /// Posts a continuation or callback that must run as a step of this activation, under
    /// <paramref name="context"/>: the request it belongs to (a <see cref="Message"/>) or the activation itself.
    /// </summary>
    public void Post(SendOrPostCallback callback, object? state, SynchronizationContext context)
    {
        lock (_lock)
        {
            if (_status == ActivationStatus.Killed)
            {
                return;
            }

            PostLocked(callback, state, context);
            ScheduleIfRunnableLocked();
        }
    }

    // On the thread pool a request whose turn ends inside a step finishes inline (see TurnEnded); a scheduler
    // that runs items itself (the simulation) keeps every hop as an item of its own seeded order.
    void IThreadPoolWorkItem.Execute() => Execute(_runtime.Scheduler.StepsPerExecution, finishEndedTurnsInline: true);

    public void Execute(int budget) => Execute(budget, finishEndedTurnsInline: false);

    private void Execute(int budget, bool finishEndedTurnsInline)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_syncContext);
        try
        {
            for (var step = 0; step < budget; step++)
            {
                (SendOrPostCallback Callback, object? State, SynchronizationContext Context) work = default;
                Message? start = null;
                lock (_lock)
                {
                    if (_status == ActivationStatus.Killed)
                    {
                        _scheduled = false;
                        return;
                    }

                    // Alternate between continuations and new requests, so an interleavable request is not
                    // starved by the continuations of the one already running (Orleans keeps one FIFO queue).
                    if (_preferRequest)
                    {
                        start = DequeueStartableLocked();
                    }

                    if (start is null && _posted is { Count: > 0 })
                    {
                        work = _posted.Dequeue();
                    }
                    else if (start is null && (start = DequeueStartableLocked()) is null)
                    {
                        _scheduled = false;
                        return;
                    }

                    _preferRequest = !_preferRequest;
                }

                if (start is not null)
                {
                    if (StartRequest(start) is { } turn && FinishRequest(start, turn, insideExecute: true))
                    {
                        return; // the activation let go of this thread before the caller's continuation ran on it
                    }
                }
                else
                {
                    // The step runs under the context it was posted from, so the request it belongs to stays
                    // current (SynchronizationContext.Current is the request: see Message).
                    SynchronizationContext.SetSynchronizationContext(work.Context);
                    var outerStepping = t_stepping; // a step may run inside another's (a caller continuing inline)
                    t_stepping = finishEndedTurnsInline ? this : null;
                    try
                    {
                        RunStep(work.Callback!, work.State);
                    }
                    finally
                    {
                        t_stepping = outerStepping;
                    }

                    if (_endedInStep is { } ended)
                    {
                        _endedInStep = null;
                        SynchronizationContext.SetSynchronizationContext(_syncContext);
                        if (FinishRequest(ended.Message, ended.Turn, insideExecute: true))
                        {
                            return; // as for a request that completes as it starts
                        }
                    }
                }
            }

            lock (_lock)
            {
                _scheduled = false;
                ScheduleIfRunnableLocked();
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private void RunStep(SendOrPostCallback callback, object? state)
    {
        try
        {
            callback(state);
        }
        catch (Exception exception)
        {
            // Continuations of async methods capture their exceptions; only a raw posted callback gets here.
            _runtime.Log.StepFailed(GrainId.ToString(), exception);
        }
    }

    /// <summary>Runs the synchronous part of a request; returns its task when it already finished, else null.</summary>
    private Task? StartRequest(Message message)
    {
        var runtime = _runtime;
        message.RunningOn = this;
        Activity? previousActivity = null;
        SynchronizationContext.SetSynchronizationContext(message); // awaits in the request come back as this request
        Task turn;
        try
        {
            // Inside the try: a span listener that throws fails this request, never the activation.
            previousActivity = runtime.EnterRequest(message);
            turn = message.Invoke(_grain!);
        }
        catch (Exception exception)
        {
            turn = Task.FromException(exception);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(_syncContext);
            runtime.LeaveRequest(previousActivity, message);
        }

        if (turn.IsCompleted)
        {
            return turn;
        }

        turn.ContinueWith(static (t, state) => ((Message)state!).RunningOn!.TurnEnded((Message)state, t),
            message, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return null;
    }

    /// <summary>
    /// A request's turn ended after it started (an await came back). Inside a step of this activation on this thread
    /// (the usual case: the continuation that finished the turn), the request is finished when the step returns, so
    /// the caller may continue on this thread; anywhere else its result goes out as a work item.
    /// </summary>
    private void TurnEnded(Message message, Task turn)
    {
        if (t_stepping == this && _endedInStep is null)
        {
            _endedInStep = (message, turn);
            return;
        }

        FinishRequest(message, turn, insideExecute: false);
    }

    /// <summary>
    /// Frees the activation of a finished request, then hands the result to the caller. When called from
    /// <see cref="Execute"/> with nothing else to run, the activation first lets go of the thread and the caller
    /// may continue inline (no thread hop); otherwise the result goes out as its own work item, so caller code
    /// never runs while this activation holds the thread. Returns true when the activation let go.
    /// </summary>
    private bool FinishRequest(Message message, Task turn, bool insideExecute)
    {
        if (!message.MarkFinished())
        {
            return false;
        }

        var released = false;
        lock (_lock)
        {
            if (_running is null || !_running.Remove(message))
            {
                return false; // killed meanwhile; the caller has its error
            }

            if (message.RunningExclusive)
            {
                _runningWriters--;
            }

            if (_deactivateOnIdle && _running.Count == 0 && _status == ActivationStatus.Valid)
            {
                BeginDeactivationLocked(_deactivationReason);
            }

            if (insideExecute && !HasRunnableWorkLocked())
            {
                _scheduled = false;
                released = true;
            }
            else
            {
                ScheduleIfRunnableLocked();
            }
        }

        if (released)
        {
            _runtime.RequestFinished(message, turn);
        }
        else
        {
            _runtime.Scheduler.Schedule(new RequestCompletion(_runtime, message, turn));
        }

        return released;
    }

    /// <summary>Delivers a result to its caller as a work item of its own.</summary>
    private sealed class RequestCompletion(GrainRuntime runtime, Message message, Task turn) : IGrainWorkItem, IThreadPoolWorkItem
    {
        public string TraceLabel => "reply " + message.Describe();

        public void Execute(int budget) => runtime.RequestFinished(message, turn);

        void IThreadPoolWorkItem.Execute() => runtime.RequestFinished(message, turn);
    }

    /// <summary>A request that excludes every other non-interleaving request while it runs.</summary>
    private static bool IsExclusive(Message message) => message.Method is null || (!message.ReadOnly && !message.AlwaysInterleave);

    private Message? DequeueStartableLocked()
    {
        if (_status != ActivationStatus.Valid)
        {
            return null;
        }

        if (_interleaved is { Count: > 0 })
        {
            return MarkRunningLocked(_interleaved.Dequeue(), exclusive: false);
        }

        if (_mailbox is not { Count: > 0 } || _deactivateOnIdle)
        {
            return null;
        }

        var head = _mailbox.Peek();
        var runningCount = _running?.Count ?? 0;
        if (runningCount == 0 || (head.ReadOnly && _runningWriters == 0))
        {
            _mailbox.Dequeue();
            if (head.CallerCompleted && head.Method is not null)
            {
                // Timed out while queued: the caller has its answer; do not run it (Orleans drops expired requests too).
                head.MarkFinished();
                return DequeueStartableLocked();
            }

            return MarkRunningLocked(head, IsExclusive(head));
        }

        return null;
    }

    private Message MarkRunningLocked(Message message, bool exclusive)
    {
        _running ??= new List<Message>(1);
        if (exclusive && _running.Count != 0)
        {
            // The turn-based guarantee itself: stop loudly rather than run two exclusive turns together.
            throw new InvalidOperationException($"invariant violated: {GrainId} would start {message.Describe()} while {_running.Count} requests run ({string.Join(", ", _running.Select(m => m.Describe()))})");
        }

        _running.Add(message);
        message.RunningExclusive = exclusive;
        if (exclusive)
        {
            _runningWriters++;
        }

        return message;
    }

    private bool IsReentry(Message message)
    {
        for (var parent = message.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent.Target == GrainId && !parent.Finished)
            {
                return true;
            }
        }

        return false;
    }

    private void PostLocked(SendOrPostCallback callback, object? state, SynchronizationContext context) => (_posted ??= new()).Enqueue((callback, state, context));

    private void ScheduleIfRunnableLocked()
    {
        if (_scheduled || _status == ActivationStatus.Killed)
        {
            return;
        }

        if (HasRunnableWorkLocked())
        {
            _scheduled = true;
            _runtime.Scheduler.Schedule(this);
        }
    }

    private bool HasRunnableWorkLocked() =>
        _posted is { Count: > 0 }
        || (_status == ActivationStatus.Valid && ((_interleaved is { Count: > 0 }) || (_mailbox is { Count: > 0 } && !_deactivateOnIdle && ((_running?.Count ?? 0) == 0 || (_mailbox.Peek().ReadOnly && _runningWriters == 0)))));

    // ---- lifecycle ----

    private async void RunActivation()
    {
        // async void is deliberate: this is a step of the activation; every exception is handled below.
        try
        {
            var grain = CreateGrain(out var states);
            foreach (var state in states)
            {
                await state.ReadStateAsync();
            }

            await ((IGrainBase)grain).OnActivateAsync(_runtime.ShutdownToken);
            lock (_lock)
            {
                if (_status != ActivationStatus.Activating)
                {
                    return; // killed meanwhile
                }

                _grain = grain;
                _status = ActivationStatus.Valid;
                GrainClass.ActivationStarted();
                _runtime.Statistics.ActivationCreated(GrainClass.TypeName);
                if (_deactivateOnIdle)
                {
                    BeginDeactivationLocked(_deactivationReason);
                }

                ScheduleIfRunnableLocked();
            }

            _runtime.Log.Activated(GrainId.ToString());
        }
        catch (Exception exception)
        {
            _runtime.Log.ActivationFailed(GrainId.ToString(), exception);
            List<Message> failed;
            lock (_lock)
            {
                if (_status == ActivationStatus.Killed)
                {
                    return;
                }

                _status = ActivationStatus.Invalid;
                failed = TakeQueuedLocked();
            }

            _runtime.Catalog.Remove(this);
            var error = new GrainActivationException($"activation of {GrainId} failed: {exception.Message}", exception);
            foreach (var message in failed)
            {
                message.MarkFinished();
                message.Fail(error);
            }
        }
    }

    private object CreateGrain(out List<IStateLoader> states)
    {
        states = [];
        var services = _runtime.Services;
        var arguments = new object?[GrainClass.Parameters.Count];
        for (var i = 0; i < arguments.Length; i++)
        {
            var parameter = GrainClass.Parameters[i];
            var persistent = parameter.GetCustomAttribute<PersistentStateAttribute>();
            if (persistent is not null)
            {
                var state = _runtime.StateFactory.Create(parameter.ParameterType, GrainId, persistent);
                states.Add(state);
                arguments[i] = state;
            }
            else if (parameter.ParameterType == typeof(IGrainContext))
            {
                arguments[i] = this;
            }
            else
            {
                arguments[i] = services.GetRequiredService(parameter.ParameterType);
            }
        }

        var grain = (Grain)GrainClass.Constructor.Invoke(arguments);
        grain.Attach(this);
        return grain;
    }

    /// <summary>Asks for graceful deactivation: at once when idle, after the running requests otherwise.</summary>
    public Task DeactivateAsync(DeactivationReason reason)
    {
        lock (_lock)
        {
            switch (_status)
            {
                case ActivationStatus.Created:
                    _status = ActivationStatus.Invalid;
                    _runtime.Catalog.Remove(this);
                    return Task.CompletedTask;
                case ActivationStatus.Activating or ActivationStatus.Valid:
                    _deactivated ??= new TaskCompletionSource();
                    _deactivateOnIdle = true;
                    _deactivationReason = reason;
                    if (_status == ActivationStatus.Valid && (_running?.Count ?? 0) == 0)
                    {
                        BeginDeactivationLocked(reason);
                    }

                    return _deactivated.Task;
                case ActivationStatus.Deactivating:
                    return _deactivated!.Task;
                default:
                    return Task.CompletedTask;
            }
        }
    }

    /// <summary>Completes when a deactivation that has begun is over.</summary>
    public Task Deactivation
    {
        get
        {
            lock (_lock)
            {
                return _deactivated?.Task ?? Task.CompletedTask;
            }
        }
    }

    /// <summary>Collects this activation when it has been idle since <paramref name="idleSince"/> (a timestamp).</summary>
    public bool TryCollect(long idleSince)
    {
        lock (_lock)
        {
            if (_status != ActivationStatus.Valid || (_running?.Count ?? 0) != 0 || _mailbox is { Count: > 0 } || _interleaved is { Count: > 0 } || _posted is { Count: > 0 } || LastUsed > idleSince)
            {
                return false;
            }

            _deactivated ??= new TaskCompletionSource();
            BeginDeactivationLocked(DeactivationReason.IdleCollection);
            return true;
        }
    }

    private void BeginDeactivationLocked(DeactivationReason reason)
    {
        _status = ActivationStatus.Deactivating;
        _deactivationReason = reason;
        _deactivated ??= new TaskCompletionSource();
        PostLocked(static state => ((Activation)state!).RunDeactivation(), this, _syncContext);
        ScheduleIfRunnableLocked();
    }

    private async void RunDeactivation()
    {
        DisposeTimers();
        try
        {
            await ((IGrainBase)_grain!).OnDeactivateAsync(_deactivationReason, CancellationToken.None);
        }
        catch (Exception exception)
        {
            _runtime.Log.DeactivationFailed(GrainId.ToString(), exception);
        }

        List<Message> forward;
        lock (_lock)
        {
            if (_status == ActivationStatus.Killed)
            {
                return;
            }

            _status = ActivationStatus.Invalid;
            forward = TakeQueuedLocked();
            _grain = null; // references may remember this activation; they must not keep the grain alive
        }

        GrainClass.ActivationEnded();
        _runtime.Statistics.ActivationCollected(GrainClass.TypeName);
        _runtime.Catalog.Remove(this);
        _runtime.Log.Deactivated(GrainId.ToString(), _deactivationReason);

        // Requests that arrived meanwhile go to a fresh activation (Orleans forwards them the same way);
        // timer ticks belonged to this activation and end with it.
        foreach (var message in forward)
        {
            if (message.Method is null)
            {
                message.Fail(new GrainHostStoppedException($"{GrainId} deactivated"));
            }
            else
            {
                _runtime.Forward(message);
            }
        }

        Message.WithoutContext(static d => d.TrySetResult(), _deactivated!);
    }

    /// <summary>Abandons the activation as a crash would: no OnDeactivateAsync, no more steps; callers get an error.</summary>
    public void Kill(Exception reason)
    {
        List<Message> failed;
        lock (_lock)
        {
            if (_status == ActivationStatus.Valid)
            {
                GrainClass.ActivationEnded();
            }

            _status = ActivationStatus.Killed;
            failed = TakeQueuedLocked();
            if (_running is not null)
            {
                failed.AddRange(_running);
                _running.Clear();
            }

            _posted?.Clear();
        }

        DisposeTimers();
        foreach (var message in failed)
        {
            message.MarkFinished();
            message.Fail(reason);
        }

        if (_deactivated is { } deactivated)
        {
            Message.WithoutContext(static d => d.TrySetResult(), deactivated);
        }
    }

    private List<Message> TakeQueuedLocked()
    {
        var taken = new List<Message>();
        while (_interleaved is { Count: > 0 })
        {
            taken.Add(_interleaved.Dequeue());
        }

        while (_mailbox is { Count: > 0 })
        {
            taken.Add(_mailbox.Dequeue());
        }

        return taken;
    }

    /// <summary>Fails queued and running requests whose deadline has passed (the caller's timeout; the turn itself goes on).</summary>
    public void ExpireCalls(long now, List<Message> expired)
    {
        lock (_lock)
        {
            Collect(_mailbox);
            Collect(_interleaved);
            if (_running is not null)
            {
                foreach (var message in _running)
                {
                    if (message.Deadline <= now && !message.CallerCompleted)
                    {
                        expired.Add(message);
                    }
                }
            }
        }

        void Collect(Queue<Message>? queue)
        {
            if (queue is null)
            {
                return;
            }

            foreach (var message in queue)
            {
                if (message.Deadline <= now && !message.CallerCompleted)
                {
                    expired.Add(message);
                }
            }
        }
    }

    public ActivationInfo Describe()
    {
        lock (_lock)
        {
            var lastUsed = _runtime.TimeProvider.GetUtcNow() - _runtime.TimeProvider.GetElapsedTime(LastUsed);
            return new ActivationInfo(GrainId, _status.ToString(), CreatedAt, lastUsed, (_mailbox?.Count ?? 0) + (_interleaved?.Count ?? 0), _running?.Count ?? 0);
        }
    }

    // ---- IGrainContext ----

    public IDisposable RegisterTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new GrainTimer(this, callback, period);
        lock (_lock)
        {
            if (_status is ActivationStatus.Invalid or ActivationStatus.Killed)
            {
                throw new InvalidOperationException($"{GrainId} is no longer active; it cannot register a timer");
            }

            (_timers ??= []).Add(timer);
        }

        timer.Start(dueTime);
        return timer;
    }

    internal void TimerDisposed(GrainTimer timer)
    {
        lock (_lock)
        {
            _timers?.Remove(timer);
        }
    }

    private void DisposeTimers()
    {
        List<GrainTimer>? timers;
        lock (_lock)
        {
            timers = _timers;
            _timers = null;
        }

        if (timers is not null)
        {
            foreach (var timer in timers)
            {
                timer.Stop();
            }
        }
    }

    public Task<IGrainReminder> RegisterOrUpdateReminderAsync(string reminderName, TimeSpan dueTime, TimeSpan period) =>
        _runtime.Reminders.RegisterOrUpdateAsync(GrainId, reminderName, dueTime, period);

    public Task UnregisterReminderAsync(IGrainReminder reminder) => _runtime.Reminders.UnregisterAsync(GrainId, reminder.ReminderName);

    public Task<IGrainReminder?> GetReminderAsync(string reminderName) => _runtime.Reminders.GetAsync(GrainId, reminderName);

    public Task<IReadOnlyList<IGrainReminder>> GetRemindersAsync() => _runtime.Reminders.GetAllAsync(GrainId);

    public void DeactivateOnIdle()
    {
        lock (_lock)
        {
            if (_status == ActivationStatus.Valid)
            {
                _deactivateOnIdle = true;
                _deactivationReason = DeactivationReason.ApplicationRequested;
            }
        }
    }

    public override string ToString() => $"activation {GrainId} ({_status})";

    /// <summary>Whether code running under <paramref name="context"/> is a grain's: a request's turn or its activation's own work.</summary>
    internal static bool IsGrainContext(SynchronizationContext? context) => context is Message or ActivationSynchronizationContext;

    /// <summary>Routes awaits outside any request (activation, deactivation) back to the activation's queue.</summary>
    private sealed class ActivationSynchronizationContext(Activation activation) : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state) => activation.Post(d, state, this);

        public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException($"synchronous Send into {activation.GrainId} would block a turn");

        public override SynchronizationContext CreateCopy() => this;
    }
}

internal enum ActivationStatus
{
    Created,
    Activating,
    Valid,
    Deactivating,
    Invalid,
    Killed,
}

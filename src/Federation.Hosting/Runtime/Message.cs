using System.Diagnostics;

namespace Federation.Hosting.Runtime;

/// <summary>
/// One request to an activation: target, method, arguments, the request that sent it (the call chain for
/// cycle detection) and the completion the caller awaits. The caller's task completes with no
/// SynchronizationContext current (<see cref="WithoutContext"/>): a caller that awaits inside a turn or a
/// simulation is posted back to its own context; a caller without a context continues inline on this thread,
/// as with any TaskCompletionSource — never inside the callee's context.
/// </summary>
internal abstract class Message : SynchronizationContext
{
    private int _finished;

    protected Message(GrainMethod? method, GrainId target, Message? parent)
    {
        Method = method;
        Target = target;
        Parent = parent;
    }

    /// <summary>Null for system turns (timer ticks), which never take part in call chains.</summary>
    public GrainMethod? Method { get; }

    public GrainId Target { get; }

    /// <summary>The request whose turn sent this one, or null for a call from outside any grain.</summary>
    public Message? Parent { get; }

    public long SentTimestamp { get; set; }

    /// <summary>TimeProvider timestamp after which the caller gets a timeout; long.MaxValue for none.</summary>
    public long Deadline { get; set; } = long.MaxValue;

    public Activity? Activity { get; set; }

    /// <summary>The caller's span, when tracing listens: the parent of this call's span (a reference, so untraced messages stay small).</summary>
    public Activity? ParentActivity { get; set; }

    /// <summary>Set while running: whether this request excludes other non-interleaving requests.</summary>
    public bool RunningExclusive { get; set; }

    /// <summary>True once the grain's turn for this request has finished (the caller may have timed out before).</summary>
    public bool Finished => Volatile.Read(ref _finished) != 0;

    public bool ReadOnly => Method is { ReadOnly: true };

    public bool AlwaysInterleave => Method is { AlwaysInterleave: true };

    /// <summary>Whether the caller's task has completed (result, error or timeout).</summary>
    public abstract bool CallerCompleted { get; }

    /// <summary>Completes the caller's task with <paramref name="exception"/> unless it completed already.</summary>
    public abstract bool Fail(Exception exception);

    /// <summary>Runs the request on <paramref name="grain"/>; returns the turn's task (possibly already completed).</summary>
    public abstract Task Invoke(object grain);

    /// <summary>Passes the finished turn's outcome to the caller.</summary>
    public abstract void Complete(Task turn);

    public bool MarkFinished() => Interlocked.Exchange(ref _finished, 1) == 0;

    public string Describe() => Method is null ? $"{Target}" : $"{Target}.{Method.Name}";

    /// <summary>The activation running this request (set when it starts).</summary>
    public Activation? RunningOn { get; set; }

    // A running request is the SynchronizationContext of its own code: an await inside it posts the
    // continuation back to its activation, and SynchronizationContext.Current tells the host which request
    // is calling out (the call chain) — without an AsyncLocal, so without an ExecutionContext per call.
    public override void Post(SendOrPostCallback d, object? state) => RunningOn!.Post(d, state, this);

    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException($"synchronous Send into {Describe()} would block a turn");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Runs a completion with no SynchronizationContext current, so no continuation mistakes this thread's context for its own.</summary>
    public static void WithoutContext<TState>(Action<TState> action, TState state)
    {
        var previous = SynchronizationContext.Current;
        if (previous is null)
        {
            action(state);
            return;
        }

        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            action(state);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }
}

internal sealed class VoidMessage(GrainMethod method, GrainId target, object?[] arguments, Message? parent, Func<object, object?[], Task> invoker)
    : Message(method, target, parent)
{
    private readonly TaskCompletionSource _completion = new();

    public Task Task => _completion.Task;

    public override bool CallerCompleted => _completion.Task.IsCompleted;

    public override bool Fail(Exception exception)
    {
        var failed = false;
        WithoutContext(e => failed = _completion.TrySetException(e), exception);
        return failed;
    }

    public override Task Invoke(object grain) => invoker(grain, arguments);

    public override void Complete(Task turn) => WithoutContext(static s => s.Self.CompleteCore(s.Turn), (Self: this, Turn: turn));

    private void CompleteCore(Task turn)
    {
        if (turn.IsCompletedSuccessfully)
        {
            _completion.TrySetResult();
        }
        else if (turn.IsCanceled)
        {
            _completion.TrySetCanceled();
        }
        else
        {
            // The original exception object: the caller sees the grain's type and message.
            _completion.TrySetException(turn.Exception!.InnerExceptions);
        }
    }
}

internal sealed class ResultMessage<TResult>(GrainMethod method, GrainId target, object?[] arguments, Message? parent, Func<object, object?[], Task<TResult>> invoker)
    : Message(method, target, parent)
{
    private readonly TaskCompletionSource<TResult> _completion = new();

    public Task<TResult> Task => _completion.Task;

    public override bool CallerCompleted => _completion.Task.IsCompleted;

    public override bool Fail(Exception exception)
    {
        var failed = false;
        WithoutContext(e => failed = _completion.TrySetException(e), exception);
        return failed;
    }

    public override Task Invoke(object grain) => invoker(grain, arguments);

    public override void Complete(Task turn) => WithoutContext(static s => s.Self.CompleteCore(s.Turn), (Self: this, Turn: turn));

    private void CompleteCore(Task turn)
    {
        if (turn.IsCompletedSuccessfully)
        {
            _completion.TrySetResult(((Task<TResult>)turn).Result);
        }
        else if (turn.IsCanceled)
        {
            _completion.TrySetCanceled();
        }
        else
        {
            _completion.TrySetException(turn.Exception!.InnerExceptions);
        }
    }
}

/// <summary>A system turn: a grain timer tick or another host callback that must run as a turn of the activation.</summary>
internal sealed class SystemMessage(GrainId target, Func<object, Task> body, Action<Task>? completed) : Message(null, target, null)
{
    public override bool CallerCompleted => Finished;

    /// <summary>A system turn belongs to its activation: when that ends, the turn is dropped, not reported.</summary>
    public override bool Fail(Exception exception) => MarkFinished();

    public override Task Invoke(object grain) => body(grain);

    public override void Complete(Task turn) => completed?.Invoke(turn);
}

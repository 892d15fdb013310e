namespace Federation.Hosting.Runtime;

/// <summary>
/// Creates timers without capturing the caller's ExecutionContext: a tick must not inherit the call chain
/// (or the span) of the turn that armed it, nor keep that turn's objects alive.
/// </summary>
internal static class NoFlow
{
    public static ITimer CreateTimer(TimeProvider timeProvider, TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            return timeProvider.CreateTimer(callback, state, dueTime, period);
        }

        using (ExecutionContext.SuppressFlow())
        {
            return timeProvider.CreateTimer(callback, state, dueTime, period);
        }
    }
}

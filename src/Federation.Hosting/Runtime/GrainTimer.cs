using Federation.Hosting.Telemetry;

namespace Federation.Hosting.Runtime;

/// <summary>
/// A timer that lives with its activation (Orleans' grain timer): each tick is a non-interleaving turn;
/// the next period is counted from the end of the callback; it stops when the activation ends.
/// </summary>
internal sealed class GrainTimer : IDisposable
{
    private readonly Activation _activation;
    private readonly Func<CancellationToken, Task> _callback;
    private readonly TimeSpan _period;
    private readonly CancellationTokenSource _stopped = new();
    private readonly ITimer _timer;

    public GrainTimer(Activation activation, Func<CancellationToken, Task> callback, TimeSpan period)
    {
        _activation = activation;
        _callback = callback;
        _period = period;
        _timer = NoFlow.CreateTimer(activation.TimeProvider, static state => ((GrainTimer)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public void Start(TimeSpan dueTime) => _timer.Change(dueTime, Timeout.InfiniteTimeSpan);

    private void Fire()
    {
        if (_stopped.IsCancellationRequested)
        {
            return;
        }

        var tick = new SystemMessage(_activation.GrainId, _ => _callback(_stopped.Token), Completed);
        if (!_activation.Enqueue(tick))
        {
            Stop();
        }
    }

    private void Completed(Task tick)
    {
        if (tick.IsFaulted)
        {
            _activation.Runtime.Log.TimerFailed(_activation.GrainId.ToString(), tick.Exception!.InnerException!);
        }

        if (!_stopped.IsCancellationRequested && _period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan)
        {
            _timer.Change(_period, Timeout.InfiniteTimeSpan);
        }
    }

    public void Stop()
    {
        if (!_stopped.IsCancellationRequested)
        {
            _stopped.Cancel();
            _timer.Dispose();
        }
    }

    public void Dispose()
    {
        Stop();
        _activation.TimerDisposed(this);
    }
}

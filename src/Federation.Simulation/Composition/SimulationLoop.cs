namespace Federation.Simulation.Composition;

/// <summary>
/// Runs a simulation's client code to completion on the calling thread. The memory stores complete on the caller's
/// thread, so nearly everything runs straight through; what a ledger defers (a background seal yielding) is posted to
/// this loop's context and run in the order posted, on the same thread. No thread pool, no timers: virtual time moves
/// only when the simulation advances its clock.
/// </summary>
internal static class SimulationLoop
{
    public static T Run<T>(Func<Task<T>> run)
    {
        var context = new LoopContext();
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(context);
        try
        {
            var task = run();
            while (!task.IsCompleted)
            {
                context.RunNext();
            }

            // Work posted after the last step (a seal yielding) still runs before the run's results are read.
            while (context.TryRunNext())
            {
            }

            return task.GetAwaiter().GetResult();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    /// <summary>A first-in, first-out queue of continuations; a post from elsewhere (real I/O completing) wakes the loop.</summary>
    private sealed class LoopContext : SynchronizationContext
    {
        private readonly Queue<(SendOrPostCallback Callback, object? State)> _posted = new();
        private readonly object _lock = new(); // Monitor.Wait needs a monitor, not a System.Threading.Lock

        public override void Post(SendOrPostCallback d, object? state)
        {
            lock (_lock)
            {
                _posted.Enqueue((d, state));
                Monitor.PulseAll(_lock);
            }
        }

        public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("Send would block the simulation's only thread");

        public override SynchronizationContext CreateCopy() => this;

        /// <summary>Runs the next posted continuation, waiting for one if none is queued.</summary>
        public void RunNext()
        {
            (SendOrPostCallback Callback, object? State) next;
            lock (_lock)
            {
                while (_posted.Count == 0)
                {
                    Monitor.Wait(_lock);
                }

                next = _posted.Dequeue();
            }

            next.Callback(next.State);
        }

        public bool TryRunNext()
        {
            (SendOrPostCallback Callback, object? State) next;
            lock (_lock)
            {
                if (!_posted.TryDequeue(out next))
                {
                    return false;
                }
            }

            next.Callback(next.State);
            return true;
        }
    }
}

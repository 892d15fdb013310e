namespace Federation.Hosting.Scheduling;

/// <summary>
/// A clock that moves only when told to. Timers fire, in due order (ties in creation order), on the thread
/// that advances the clock — in simulation, the scheduler's single thread — so timers, reminders, call
/// timeouts and collection are reproducible from the seed.
/// </summary>
public sealed class VirtualTimeProvider : TimeProvider
{
    /// <summary>The default start: a fixed instant, so runs do not depend on the wall clock.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly Lock _lock = new();
    private readonly PriorityQueue<VirtualTimer, (long Due, long Sequence)> _timers = new();
    private long _now;
    private long _sequence;

    public VirtualTimeProvider()
        : this(DefaultStart)
    {
    }

    public VirtualTimeProvider(DateTimeOffset start) => Start = start;

    public DateTimeOffset Start { get; }

    /// <summary>Time elapsed since <see cref="Start"/>.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(Volatile.Read(ref _now));

    public override DateTimeOffset GetUtcNow() => Start + Elapsed;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Volatile.Read(ref _now);

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new VirtualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>When the next timer is due, or null when none is armed.</summary>
    public TimeSpan? NextDue()
    {
        lock (_lock)
        {
            while (_timers.TryPeek(out var timer, out var key))
            {
                if (timer.Due == key.Due && timer.Armed)
                {
                    return TimeSpan.FromTicks(key.Due);
                }

                _timers.Dequeue(); // superseded by Change or Dispose
            }

            return null;
        }
    }

    /// <summary>Moves the clock to the next due timer and fires every timer due then. False when no timer is armed.</summary>
    public bool AdvanceToNextTimer()
    {
        var next = NextDue();
        if (next is null)
        {
            return false;
        }

        AdvanceTo(next.Value);
        return true;
    }

    /// <summary>Moves the clock forward by <paramref name="delta"/>, firing every timer that falls due on the way, in order.</summary>
    public void Advance(TimeSpan delta)
    {
        if (delta < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "virtual time never goes backwards");
        }

        AdvanceTo(Elapsed + delta);
    }

    private void AdvanceTo(TimeSpan target)
    {
        while (true)
        {
            VirtualTimer? fire = null;
            lock (_lock)
            {
                while (_timers.TryPeek(out var timer, out var key))
                {
                    if (timer.Due != key.Due || !timer.Armed)
                    {
                        _timers.Dequeue();
                        continue;
                    }

                    if (key.Due <= target.Ticks)
                    {
                        _timers.Dequeue();
                        _now = Math.Max(_now, key.Due);
                        fire = timer;
                    }

                    break;
                }

                if (fire is null)
                {
                    _now = Math.Max(_now, target.Ticks);
                    return;
                }

                fire.Rearm(_now);
            }

            fire.Fire();
        }
    }

    private void Enqueue(VirtualTimer timer, long due)
    {
        lock (_lock)
        {
            _timers.Enqueue(timer, (due, _sequence++));
        }
    }

    private sealed class VirtualTimer(VirtualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private long _period;

        public long Due { get; private set; } = -1;

        public bool Armed { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    Armed = false;
                    Due = -1;
                    return true;
                }

                _period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? 0 : period.Ticks;
                Due = owner._now + Math.Max(0, dueTime.Ticks);
                Armed = true;
            }

            owner.Enqueue(this, Due);
            return true;
        }

        /// <summary>Called under the owner's lock when the timer fires: periodic timers go back in the queue.</summary>
        public void Rearm(long now)
        {
            if (_period > 0)
            {
                Due = now + _period;
                owner._timers.Enqueue(this, (Due, owner._sequence++));
            }
            else
            {
                Armed = false;
            }
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._lock)
            {
                Armed = false;
                Due = -1;
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

using Federation.Hosting.Runtime;
using Federation.Hosting.Telemetry;

namespace Federation.Hosting.Reminders;

/// <summary>
/// Fires durable reminders with the host's clock. At start it loads every row: a reminder whose next due
/// time has passed fires once at once (its tick status names the latest missed due time), then keeps its
/// period. After each delivered tick the next due time is stored, so a tick is repeated only when the host
/// dies between delivering it and storing that (handlers are idempotent, as in Orleans).
/// </summary>
internal sealed class ReminderService : IDisposable
{
    private readonly GrainRuntime _runtime;
    private readonly IReminderTable _table;
    private readonly TimeSpan _minimumPeriod;
    private readonly Dictionary<(GrainId, string), Registration> _registrations = [];
    private readonly SemaphoreSlim _mutations = new(1, 1);
    private readonly Lock _lock = new();
    private bool _stopped;

    public ReminderService(GrainRuntime runtime, IReminderTable table, TimeSpan minimumPeriod)
    {
        _runtime = runtime;
        _table = table;
        _minimumPeriod = minimumPeriod;
    }

    public IReminderTable Table => _table;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var rows = await _table.ReadAllAsync(cancellationToken);
        foreach (var row in rows.OrderBy(r => r.GrainId.Type, StringComparer.Ordinal).ThenBy(r => r.GrainId.Key, StringComparer.Ordinal).ThenBy(r => r.ReminderName, StringComparer.Ordinal))
        {
            if (!_runtime.Registry.TryGetByTypeName(row.GrainId.Type, out var grainClass) || grainClass.ReminderMethod is null)
            {
                _runtime.Log.ReminderForUnknownGrain(row.GrainId.ToString(), row.ReminderName);
                continue;
            }

            Arm(row);
        }
    }

    public void Stop()
    {
        List<Registration> all;
        lock (_lock)
        {
            _stopped = true;
            all = [.. _registrations.Values];
            _registrations.Clear();
        }

        foreach (var registration in all)
        {
            registration.Timer.Dispose();
        }
    }

    public void Dispose() => Stop();

    public async Task<IGrainReminder> RegisterOrUpdateAsync(GrainId grainId, string name, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (period < _minimumPeriod)
        {
            throw new ArgumentOutOfRangeException(nameof(period), period, $"reminder period must be at least {_minimumPeriod} (Hosting:Reminders:MinimumPeriod)");
        }

        if (dueTime < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(dueTime), dueTime, "due time must not be negative");
        }

        if (!_runtime.Registry.TryGetByTypeName(grainId.Type, out var grainClass) || grainClass.ReminderMethod is null)
        {
            throw new InvalidOperationException($"{grainId} cannot receive reminders: its class does not implement IRemindable");
        }

        var start = Truncate(_runtime.TimeProvider.GetUtcNow() + dueTime);
        var entry = new ReminderEntry(grainId, name, start, period, start);
        await _mutations.WaitAsync();
        try
        {
            var etag = await _table.UpsertRowAsync(entry);
            Arm(entry with { Etag = etag });
        }
        finally
        {
            _mutations.Release();
        }

        return new GrainReminder(name);
    }

    public async Task UnregisterAsync(GrainId grainId, string name)
    {
        await _mutations.WaitAsync();
        try
        {
            Disarm(grainId, name);
            await _table.RemoveRowAsync(grainId, name, etag: null);
        }
        finally
        {
            _mutations.Release();
        }
    }

    public async Task<IGrainReminder?> GetAsync(GrainId grainId, string name)
    {
        var rows = await _table.ReadRowsAsync(grainId);
        return rows.Any(r => r.ReminderName == name) ? new GrainReminder(name) : null;
    }

    public async Task<IReadOnlyList<IGrainReminder>> GetAllAsync(GrainId grainId)
    {
        var rows = await _table.ReadRowsAsync(grainId);
        return [.. rows.Select(r => (IGrainReminder)new GrainReminder(r.ReminderName))];
    }

    /// <summary>Schedules the next tick of <paramref name="entry"/>, replacing any earlier registration of it.</summary>
    private void Arm(ReminderEntry entry)
    {
        var registration = new Registration(entry);
        var delay = entry.NextDue - _runtime.TimeProvider.GetUtcNow();
        registration.Timer = NoFlow.CreateTimer(_runtime.TimeProvider,
            static state => ((Registration)state!).Owner!.Fire((Registration)state!), registration, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        registration.Owner = this;
        Registration? previous;
        lock (_lock)
        {
            if (_stopped)
            {
                registration.Timer.Dispose();
                return;
            }

            _registrations.TryGetValue((entry.GrainId, entry.ReminderName), out previous);
            _registrations[(entry.GrainId, entry.ReminderName)] = registration;
        }

        previous?.Timer.Dispose();
        registration.Timer.Change(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan);
    }

    private void Disarm(GrainId grainId, string name)
    {
        Registration? registration;
        lock (_lock)
        {
            if (_registrations.Remove((grainId, name), out registration))
            {
                registration.Timer.Dispose();
            }
        }
    }

    private void Fire(Registration registration) => _runtime.Scheduler.Post(static state =>
    {
        var registration = (Registration)state!;
        _ = registration.Owner!.TickAsync(registration);
    }, registration);

    private async Task TickAsync(Registration registration)
    {
        var entry = registration.Entry;
        var now = _runtime.TimeProvider.GetUtcNow();
        var current = LatestDue(entry, now);
        try
        {
            await _runtime.SendReminder(entry.GrainId, entry.ReminderName, new TickStatus(entry.StartAt, entry.Period, current));
        }
        catch (Exception exception)
        {
            _runtime.Log.ReminderTickFailed(entry.GrainId.ToString(), entry.ReminderName, exception);
        }

        var next = LatestDue(entry, _runtime.TimeProvider.GetUtcNow()) + entry.Period;
        await _mutations.WaitAsync();
        try
        {
            lock (_lock)
            {
                if (_stopped || !_registrations.TryGetValue((entry.GrainId, entry.ReminderName), out var live) || !ReferenceEquals(live, registration))
                {
                    return; // unregistered or replaced while the tick ran
                }
            }

            var updated = entry with { NextDue = next };
            try
            {
                updated = updated with { Etag = await _table.UpsertRowAsync(updated) };
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                _runtime.Log.ReminderStoreFailed(entry.GrainId.ToString(), entry.ReminderName, exception);
            }

            Arm(updated);
        }
        finally
        {
            _mutations.Release();
        }
    }

    /// <summary>The latest due time at or before <paramref name="now"/>: StartAt + k·Period.</summary>
    private static DateTimeOffset LatestDue(ReminderEntry entry, DateTimeOffset now)
    {
        if (now <= entry.StartAt)
        {
            return entry.StartAt;
        }

        var periods = (now - entry.StartAt).Ticks / entry.Period.Ticks;
        return entry.StartAt + TimeSpan.FromTicks(periods * entry.Period.Ticks);
    }

    /// <summary>PostgreSQL keeps microseconds; whole milliseconds keep every store exact.</summary>
    private static DateTimeOffset Truncate(DateTimeOffset time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    private sealed class Registration(ReminderEntry entry)
    {
        public ReminderEntry Entry { get; } = entry;

        public ITimer Timer { get; set; } = null!;

        public ReminderService? Owner { get; set; }
    }

    private sealed record GrainReminder(string ReminderName) : IGrainReminder;
}

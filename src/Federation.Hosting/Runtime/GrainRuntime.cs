using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using Federation.Hosting.Configuration;
using Federation.Hosting.Persistence;
using Federation.Hosting.Reminders;
using Federation.Hosting.Scheduling;
using Federation.Hosting.Telemetry;
using Microsoft.Extensions.Logging;

namespace Federation.Hosting.Runtime;

/// <summary>
/// The heart of one host: the catalog of activations, message delivery, call-chain tracking (cycle
/// detection), call timeouts, idle collection, graceful stop and kill. All state is per instance: several
/// hosts can live in one process (the test cluster does exactly that).
/// </summary>
internal sealed class GrainRuntime : IGrainFactory
{
    private readonly ConcurrentDictionary<GrainId, Activation> _catalog = new();
    private readonly GrainMessagingOptions _messaging;
    private readonly GrainCollectionOptions _collection;
    private readonly long _callTimeoutTimestamps;
    private readonly CancellationTokenSource _shutdown = new();
    private ITimer? _timeoutSweeper;
    private ITimer? _collector;
    private volatile RuntimeState _state;

    public GrainRuntime(
        IServiceProvider services,
        IGrainScheduler scheduler,
        GrainTypeRegistry registry,
        GrainTelemetry telemetry,
        ILogger logger,
        GrainMessagingOptions messaging,
        GrainCollectionOptions collection,
        StateFactory stateFactory,
        IReminderTable reminderTable,
        ReminderOptions reminders)
    {
        Services = services;
        Scheduler = scheduler;
        Registry = registry;
        Statistics = telemetry;
        Log = logger;
        _messaging = messaging;
        _collection = collection;
        StateFactory = stateFactory;
        Reminders = new ReminderService(this, reminderTable, reminders.MinimumPeriod);
        _callTimeoutTimestamps = (long)(messaging.CallTimeout.TotalSeconds * scheduler.TimeProvider.TimestampFrequency);
        Catalog = new ActivationCatalog(_catalog);
    }

    public IServiceProvider Services { get; }

    public IGrainScheduler Scheduler { get; }

    public TimeProvider TimeProvider => Scheduler.TimeProvider;

    public GrainTypeRegistry Registry { get; }

    public GrainTelemetry Statistics { get; }

    public ILogger Log { get; }

    public StateFactory StateFactory { get; }

    public ReminderService Reminders { get; }

    public ActivationCatalog Catalog { get; }

    public IGrainFactory GrainFactory => this;

    public CancellationToken ShutdownToken => _shutdown.Token;

    public int ActivationCount => _catalog.Count;

    /// <summary>True until a graceful stop has finished or the host was killed.</summary>
    public bool IsLive => _state is RuntimeState.Running or RuntimeState.Stopping;

    // ---- references and delivery ----

    public TGrainInterface GetGrain<TGrainInterface>(string key)
        where TGrainInterface : IGrainWithStringKey
    {
        ArgumentNullException.ThrowIfNull(key);
        var grainClass = Registry.ForInterface(typeof(TGrainInterface));
        var reference = DispatchProxy.Create<TGrainInterface, GrainReference>();
        ((GrainReference)(object)reference).Initialize(this, grainClass, new GrainId(grainClass.TypeName, key));
        return reference;
    }

    /// <summary>A call through a grain reference: refuse cycles, build the message, deliver it, return the caller's task.</summary>
    public object Send(GrainMethod method, GrainId target, object?[] arguments, GrainReference? reference = null)
    {
        var parent = SynchronizationContext.Current as Message; // the request whose code is calling, if any
        if (parent is not null && CheckChain(parent, method, target) is { } refusal)
        {
            return method.Refused(refusal);
        }

        var message = method.CreateMessage(target, arguments, parent);
        Dispatch(message, reference);
        return method.ToReturnValue(message);
    }

    /// <summary>A reminder tick: a request from outside any call chain.</summary>
    public Task SendReminder(GrainId target, string reminderName, TickStatus status)
    {
        var method = Registry.ForTypeName(target.Type).ReminderMethod
            ?? throw new InvalidOperationException($"{target} does not implement IRemindable");
        var message = method.CreateMessage(target, [reminderName, status], parent: null);
        Dispatch(message);
        return (Task)method.ToReturnValue(message);
    }

    private void Dispatch(Message message, GrainReference? reference = null)
    {
        var now = TimeProvider.GetTimestamp();
        message.SentTimestamp = now;
        message.Deadline = now + _callTimeoutTimestamps;
        if (Statistics.ActivitySource.HasListeners())
        {
            message.ParentActivity = Activity.Current;
        }

        Deliver(message, reference);
    }

    /// <summary>Hands a message to its activation, creating the activation on first use (virtual actors).</summary>
    private void Deliver(Message message, GrainReference? reference = null)
    {
        while (true)
        {
            var state = _state;
            if (state is RuntimeState.Stopped or RuntimeState.Killed or RuntimeState.Created)
            {
                Refuse(message, state);
                return;
            }

            // A reference remembers the activation it reached; a stale one refuses the message and is forgotten.
            if (reference?.LastActivation is { } last)
            {
                if (last.Enqueue(message, MayStartHere(message), out var startHere))
                {
                    if (startHere)
                    {
                        last.StartHere();
                    }

                    return;
                }

                reference.LastActivation = null;
            }

            if (!_catalog.TryGetValue(message.Target, out var activation))
            {
                if (state == RuntimeState.Stopping)
                {
                    Refuse(message, state); // no new activations during shutdown
                    return;
                }

                var grainClass = message.Method?.GrainClass ?? Registry.ForTypeName(message.Target.Type);
                activation = _catalog.GetOrAdd(message.Target, static (id, s) => new Activation(s.Runtime, s.Class, id), (Runtime: this, Class: grainClass));
            }

            if (activation.Enqueue(message))
            {
                if (reference is not null)
                {
                    reference.LastActivation = activation;
                }

                return;
            }

            // That activation is ending: drop it from the catalog (if it has not yet) and look again.
            _catalog.TryRemove(KeyValuePair.Create(message.Target, activation));
        }
    }

    // See StartsOnCallerThreadAttribute: only where threads are the thread pool's, and only for a caller outside any grain.
    private bool MayStartHere(Message message) =>
        message.Method is { StartsOnCallerThread: true } && Scheduler is ThreadPoolGrainScheduler && !Activation.IsGrainContext(SynchronizationContext.Current)
        && !ExecutionContext.IsFlowSuppressed();

    private void Refuse(Message message, RuntimeState state)
    {
        message.MarkFinished();
        message.Fail(new GrainHostStoppedException($"call {message.Describe()} refused: the grain host is {state.ToString().ToLowerInvariant()}"));
    }

    /// <summary>Requests that were queued on an activation that deactivated go to a fresh one.</summary>
    public void Forward(Message message) => Deliver(message);

    /// <summary>
    /// Refuses a call that would close a cycle of non-interleaving requests (the caller would wait on itself)
    /// or nest deeper than the configured bound.
    /// </summary>
    private Exception? CheckChain(Message parent, GrainMethod method, GrainId target)
    {
        var depth = 0;
        for (var link = parent; link is not null; link = link.Parent)
        {
            if (++depth >= _messaging.MaxCallChainLength)
            {
                return new InvalidOperationException($"call chain longer than {_messaging.MaxCallChainLength} (Hosting:Messaging:MaxCallChainLength): {DescribeChain(parent, target, method)}");
            }

            if (link.Target == target && !link.Finished)
            {
                var interleaves = method.GrainClass.Reentrant || method.AlwaysInterleave || (method.ReadOnly && link.ReadOnly);
                if (!interleaves)
                {
                    var chain = ChainOf(parent, target, method);
                    return new DeadlockException($"call cycle {string.Join(" → ", chain)}: {target} is waiting in this chain and {method.Name} does not interleave ([Reentrant], [AlwaysInterleave] or [ReadOnly] on both)", chain);
                }

                break;
            }
        }

        return null;
    }

    private static List<string> ChainOf(Message parent, GrainId target, GrainMethod method)
    {
        var chain = new List<string>();
        for (var link = parent; link is not null; link = link.Parent)
        {
            chain.Add(link.Describe());
        }

        chain.Reverse();
        chain.Add($"{target}.{method.Name}");
        return chain;
    }

    private static string DescribeChain(Message parent, GrainId target, GrainMethod method) => string.Join(" → ", ChainOf(parent, target, method));

    // ---- turns ----

    /// <summary>Starts the span of a request when tracing listens; returns the span to restore afterwards.</summary>
    public Activity? EnterRequest(Message message)
    {
        if (message.Method is null || !Statistics.ActivitySource.HasListeners())
        {
            return null;
        }

        var previous = Activity.Current;
        var activity = Statistics.ActivitySource.StartActivity($"{message.Method.GrainClass.TypeName}.{message.Method.Name}", ActivityKind.Internal, message.ParentActivity?.Context ?? default);
        activity?.SetTag("grain.id", message.Target.ToString());
        message.Activity = activity;
        return previous;
    }

    public void LeaveRequest(Activity? previous, Message message)
    {
        if (message.Activity is not null)
        {
            Activity.Current = previous;
        }
    }

    /// <summary>A turn finished: statistics, span, then the caller's result (or the grain's exception, as thrown).</summary>
    public void RequestFinished(Message message, Task turn)
    {
        if (message.Method is { } method)
        {
            Statistics.CallCompleted(method.Statistics, TimeProvider.GetElapsedTime(message.SentTimestamp), !turn.IsCompletedSuccessfully);
            if (message.Activity is { } activity)
            {
                if (!turn.IsCompletedSuccessfully)
                {
                    activity.SetStatus(ActivityStatusCode.Error, turn.Exception?.InnerException?.Message);
                }

                activity.Stop();
            }
        }

        message.Complete(turn);
    }

    // ---- lifecycle ----

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _state = RuntimeState.Running;
        var sweep = TimeSpan.FromTicks(Math.Clamp(_messaging.CallTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerSecond));
        _timeoutSweeper = NoFlow.CreateTimer(TimeProvider, static s => ((GrainRuntime)s!).SweepTimeouts(), this, sweep, sweep);
        _collector = NoFlow.CreateTimer(TimeProvider, static s => ((GrainRuntime)s!).CollectIdle(), this, _collection.CollectionQuantum, _collection.CollectionQuantum);

        await Reminders.StartAsync(cancellationToken);
    }

    /// <summary>Graceful stop: reminders stop, every activation runs OnDeactivateAsync, then calls are refused.</summary>
    public async Task<int> StopAsync()
    {
        if (_state != RuntimeState.Running)
        {
            return 0;
        }

        _state = RuntimeState.Stopping;
        Reminders.Stop();
        _collector?.Dispose();
        var count = 0;
        while (!_catalog.IsEmpty)
        {
            var activations = Sorted(_catalog.Values);
            count += activations.Count;
            var deactivations = new Task[activations.Count];
            for (var i = 0; i < activations.Count; i++)
            {
                deactivations[i] = activations[i].DeactivateAsync(DeactivationReason.HostShutdown);
            }

            var all = Task.WhenAll(deactivations);
            if (await Task.WhenAny(all, Task.Delay(_collection.DeactivationTimeout, TimeProvider)) != all)
            {
                // Requests that do not finish within the deactivation timeout: abandon what is left.
                var stuck = new GrainHostStoppedException($"the grain host stopped; the activation did not deactivate within {_collection.DeactivationTimeout} (Hosting:Collection:DeactivationTimeout)");
                foreach (var activation in Sorted(_catalog.Values))
                {
                    Log.DeactivationTimedOut(activation.GrainId.ToString(), _collection.DeactivationTimeout);
                    activation.Kill(stuck);
                    Catalog.Remove(activation);
                }
            }
        }

        _state = RuntimeState.Stopped;
        _timeoutSweeper?.Dispose();
        _shutdown.Cancel();
        return count;
    }

    /// <summary>Abandons every activation as a crash would: no OnDeactivateAsync; pending callers get an error.</summary>
    public int Kill()
    {
        _state = RuntimeState.Killed;
        _shutdown.Cancel();
        _collector?.Dispose();
        _timeoutSweeper?.Dispose();
        Reminders.Stop();
        var killed = new GrainHostStoppedException("the grain host was killed");
        var activations = Sorted(_catalog.Values);
        foreach (var activation in activations)
        {
            if (activation.Status == ActivationStatus.Valid)
            {
                Statistics.ActivationAbandoned(activation.GrainClass.TypeName);
            }

            activation.Kill(killed);
        }

        _catalog.Clear();
        return activations.Count;
    }

    public IReadOnlyList<Activation> Activations() => Sorted(_catalog.Values);

    public bool TryGetActivation(GrainId grainId, out Activation activation) => _catalog.TryGetValue(grainId, out activation!);

    private void SweepTimeouts()
    {
        var now = TimeProvider.GetTimestamp();
        List<(Activation Activation, Message[] Calls)>? expired = null;
        var scratch = new List<Message>();
        foreach (var activation in _catalog.Values)
        {
            activation.ExpireCalls(now, scratch);
            if (scratch.Count > 0)
            {
                (expired ??= []).Add((activation, [.. scratch]));
                scratch.Clear();
            }
        }

        if (expired is null)
        {
            return; // the usual sweep: nothing expired, and nothing to sort
        }

        // Timeouts fail in activation order, as the simulation's seeded replay needs.
        expired.Sort(static (a, b) => ByGrainId(a.Activation, b.Activation));
        foreach (var message in expired.SelectMany(e => e.Calls))
        {
            var call = message.Describe();
            if (message.Fail(new TimeoutException($"call {call} timed out after {_messaging.CallTimeout} (Hosting:Messaging:CallTimeout); the grain may still be running it")))
            {
                Log.CallTimedOut(call, _messaging.CallTimeout);
            }
        }
    }

    private void CollectIdle()
    {
        var idleSince = TimeProvider.GetTimestamp() - (long)(_collection.CollectionAge.TotalSeconds * TimeProvider.TimestampFrequency);
        var collected = 0;
        foreach (var activation in Sorted(_catalog.Values))
        {
            if (activation.LastUsed <= idleSince && activation.TryCollect(idleSince))
            {
                collected++;
            }
        }

        if (collected > 0)
        {
            Log.Collected(collected);
        }
    }

    /// <summary>Collects now every activation idle for at least <paramref name="age"/>; completes when they have deactivated.</summary>
    public async Task<int> CollectIdleNowAsync(TimeSpan age)
    {
        var idleSince = TimeProvider.GetTimestamp() - (long)(age.TotalSeconds * TimeProvider.TimestampFrequency);
        var deactivations = new List<Task>();
        foreach (var activation in Sorted(_catalog.Values))
        {
            if (activation.TryCollect(idleSince))
            {
                deactivations.Add(activation.Deactivation);
            }
        }

        await Task.WhenAll(deactivations);
        return deactivations.Count;
    }

    /// <summary>Catalog order is hash order (randomized per process); sorting keeps simulation runs reproducible.</summary>
    private static List<Activation> Sorted(IEnumerable<Activation> activations)
    {
        var list = new List<Activation>(activations);
        list.Sort(ByGrainId);
        return list;
    }

    private static int ByGrainId(Activation a, Activation b)
    {
        var byType = string.CompareOrdinal(a.GrainId.Type, b.GrainId.Type);
        return byType != 0 ? byType : string.CompareOrdinal(a.GrainId.Key, b.GrainId.Key);
    }

    private enum RuntimeState
    {
        Created,
        Running,
        Stopping,
        Stopped,
        Killed,
    }
}

/// <summary>The activations of one host by grain id.</summary>
internal sealed class ActivationCatalog(ConcurrentDictionary<GrainId, Activation> activations)
{
    /// <summary>Removes exactly this activation (a newer one for the same grain stays).</summary>
    public void Remove(Activation activation) => activations.TryRemove(KeyValuePair.Create(activation.GrainId, activation));
}

using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Membership;
using Federation.Core.Scrolls;
using Federation.Grains;
using Federation.Grains.Services;
using Federation.Simulation;
using Federation.Simulation.Checking;
using Federation.Simulation.Composition;
using Federation.Storage.Governance;
using Federation.Storage.Ledger;
using Federation.Storage.Orleans;
using Federation.Storage.Scrolls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Federation.Live.Tests;

/// <summary>
/// A scenario's coordinator live: the federation grains on a two-silo <see cref="InProcessTestCluster"/> (file grain
/// state, file reminders, the file scroll store, all under one data directory), reached through the cluster's client
/// as a node's requests would be. Grains decide by the run's fake clock; epochs are closed by the driver (the schedule
/// is not started). A crash kills the silo that hosts the update scroll and starts a new one, so two silos serve the
/// rest of the run. At the end the silos stop gracefully and the scrolls are opened from the data directory.
/// </summary>
internal sealed class LiveCoordinator : IRunCoordinator
{
    /// <summary>How fast the fake clock runs while an epoch is voted on (view timers must expire, but not before the votes arrive).</summary>
    private static readonly TimeSpan EpochClockStep = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan EpochClockInterval = TimeSpan.FromMilliseconds(10);
    private const int Resends = 20;

    private readonly CoordinatorSettings _settings;
    private readonly SimulationKeys _keys;
    private readonly FakeTimeProvider _clock;
    private readonly string _data;
    private readonly FederationDirectory _federations;
    private readonly ValidatorDirectory _validators;
    private readonly GovernanceLog _governanceLog;
    private readonly Dictionary<string, LedgerDirectory> _siloLedgers = [];
    private readonly List<LedgerDirectory> _allLedgers = [];
    private InProcessTestCluster? _cluster;
    private IngestGateway? _gateway;

    private LiveCoordinator(CoordinatorSettings settings, SimulationKeys keys, FakeTimeProvider clock, string data)
    {
        _settings = settings;
        _keys = keys;
        _clock = clock;
        _data = data;
        _federations = new FederationDirectory([new FederationSettings
        {
            Policy = settings.Policy,
            GovernanceKey = keys.Copy(SimulationKeys.Governance),
            InactivityTimeout = TimeSpan.FromDays(365), // the simulator has no inactivity: a node that sits out an epoch stays active
        }]);
        _validators = new ValidatorDirectory { ViewTimeout = settings.ViewTimeout, MaxViewChanges = settings.MaxViewChanges };
        _validators.Add(Federation, settings.Validators.Select((v, i) => new ValidatorSettings(v.Id, keys.Copy(SimulationKeys.Validator, i), v.Behaviour)).ToList(), settings.Aggregation);
        _governanceLog = new GovernanceLog(Path.Combine(data, GovernanceLog.FileName));
    }

    public int SiloCount { get; private init; }

    public int SilosKilled { get; private set; }

    public ValidatorSet ValidatorSet => _validators.SetOf(Federation);

    private string Federation => _settings.FederationId;

    private IGrainFactory Grains => (_cluster ?? throw new InvalidOperationException("the run is finished")).Client;

    private IngestGateway Gateway => _gateway ?? throw new InvalidOperationException("the run is finished");

    private string ScrollDirectory => Path.Combine(_data, "scrolls");

    public static async Task<LiveCoordinator> StartAsync(CoordinatorSettings settings, SimulationKeys keys, FakeTimeProvider clock, string data, int silos = 2)
    {
        var coordinator = new LiveCoordinator(settings, keys, clock, data) { SiloCount = silos };
        await coordinator.DeployAsync();
        return coordinator;
    }

    private async Task DeployAsync()
    {
        var builder = new InProcessTestClusterBuilder((short)SiloCount);
        builder.ConfigureHost(host =>
        {
            host.Services.AddSingleton<TimeProvider>(_clock);
            host.Services.AddKeyedSingleton<TimeProvider>(global::Orleans.Reminders.ReminderTimeProviderNames.Reminders, _clock);
            host.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
        });
        builder.ConfigureSilo((options, silo) => silo
            .UseProtocolJsonGrainStorageSerializer()
            .AddFileGrainStorageAsDefault(o => o.DataDirectory = _data)
            .UseFileReminderTable(o => o.DataDirectory = _data)
            .AddFederationGrains(_federations, LedgersFor(options.SiloName), _validators, _governanceLog,
                new EpochOptions { Grace = TimeSpan.FromDays(1), Deadline = TimeSpan.FromDays(2), CheckInterval = TimeSpan.FromDays(1) }));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        _cluster = cluster;
        _gateway = new IngestGateway(cluster.Client, _federations);
    }

    // Every silo is a process of its own as far as scrolls go: its own scroll store over the shared directory.
    private LedgerDirectory LedgersFor(string silo)
    {
        var ledgers = new LedgerDirectory(ScrollStores.Create(new ScrollStoreOptions { DataDirectory = ScrollDirectory }), _keys.Copy(SimulationKeys.Scroll), new ScrollLedgerOptions(), _clock);
        _siloLedgers[silo] = ledgers;
        _allLedgers.Add(ledgers);
        return ledgers;
    }

    public Task RegisterNodesAsync(IReadOnlyList<(KeyFingerprint Node, TrustLevel Trust, SyncPolicy Sync, IReadOnlyList<string> Capabilities)> registrations) =>
        Grains.GetGrain<IFederationGrain>(Federation).RegisterNodesAsync(registrations.Select(r => new NodeRegistration(r.Node, r.Trust, r.Sync, r.Capabilities)).ToList());

    public async Task<EpochView> EpochAsync()
    {
        var epoch = await Resend(() => Grains.GetGrain<IFederationGrain>(Federation).GetEpochAsync());
        return new EpochView(epoch.OpenEpoch, epoch.ClosingEpoch, epoch.BaseStates);
    }

    public async Task<HelloResult> HelloAsync(byte[] signedHello)
    {
        var reply = await Resend(() => Grains.GetGrain<IFederationGrain>(Federation).HelloAsync(signedHello));
        return new HelloResult(reply.Accepted, reply.Accept, reply.Code, reply.Message);
    }

    public async Task<SessionResult> CompleteSessionAsync(byte[] signedSessionAck)
    {
        var reply = await Resend(() => Grains.GetGrain<IFederationGrain>(Federation).CompleteSessionAsync(signedSessionAck));
        return new SessionResult(reply.Active, reply.LedgerBlockId, reply.Code, reply.Message);
    }

    public async Task<SubmissionResult> SubmitAsync(byte[] signedUpdate)
    {
        var ack = await Resend(() => Gateway.SubmitAsync(Federation, signedUpdate));
        return new SubmissionResult(ack.Disposition, ack.Code, ack.Message, ack.ReceiptId, ack.Seq, ack.LeafHash, ack.EvidenceReceipt);
    }

    public async Task<HeartbeatResult> HeartbeatAsync(KeyFingerprint node, byte[] signedHeartbeat)
    {
        var ack = await Resend(() => Gateway.HeartbeatAsync(Federation, node, signedHeartbeat));
        return new HeartbeatResult(ack.Verdict, ack.Message, ack.EvidenceReceipt, ack.Code);
    }

    public async Task<(long Size, Sha256Digest Root)> HeadAsync(string scroll)
    {
        var head = await Resend(() => Grains.GetGrain<IScrollGrain>(scroll).HeadAsync());
        return (head.Size, head.Root);
    }

    /// <summary>Runs the epoch while the fake clock moves on, so view-change timers can expire.</summary>
    public async Task<EpochRun> RunEpochAsync()
    {
        var run = Grains.GetGrain<IEpochGrain>(Federation).RunAsync();
        while (!run.IsCompleted)
        {
            await Task.WhenAny(run, Task.Delay(EpochClockInterval));
            if (!run.IsCompleted)
            {
                _clock.Advance(EpochClockStep);
            }
        }

        var report = await run;
        return new EpochRun(report.Epoch, report.State == EpochState.Committed ? RunEpochState.Committed : RunEpochState.Failed, report.Reason, report.Digest,
            report.CommitReceipt, report.View, report.Quarantined, report.Evidence, report.Included, report.Excluded);
    }

    public Task<Sha256Digest?> CommittedByAsync(int validator, long epoch) =>
        Resend(() => Grains.GetGrain<IValidatorGrain>($"{Federation}/{_settings.Validators[validator].Id}").CommittedAsync(epoch));

    public async Task<NodeStanding?> StandingAsync(KeyFingerprint node) =>
        await Resend(() => Grains.GetGrain<INodeGrain>(NodeKey.For(Federation, node)).GetAsync()) is { } view
            ? new NodeStanding(view.Record.Status, view.Record.StatusReason, view.QuarantineEvidence)
            : null;

    /// <summary>
    /// Kills the silo that hosts the update scroll (its scroll files close first, as the OS closes a killed process's
    /// files; nothing is deactivated, nothing sealed), then starts a new silo: the run goes on with two.
    /// </summary>
    public async Task<IRunCoordinator> CrashAsync()
    {
        var cluster = _cluster!;
        var updates = Grains.GetGrain<IScrollGrain>(FederationScrolls.Updates(Federation));
        await updates.HeadAsync(); // the scroll is active somewhere
        var address = await Grains.GetGrain<IManagementGrain>(0).GetActivationAddress(updates)
            ?? throw new InvalidOperationException("the update scroll has no activation");
        var silo = cluster.Silos.Single(s => s.SiloAddress.Equals(address));
        await _siloLedgers[silo.Name].Store.DisposeAsync();
        await cluster.KillSiloAsync(silo);
        SilosKilled++;
        await cluster.StartAdditionalSiloAsync();
        return this;
    }

    /// <summary>Stops every silo gracefully (each scroll seals as it deactivates) and opens the scrolls from the data directory.</summary>
    public async Task<LedgerDirectory> FinishAsync()
    {
        var cluster = _cluster!;
        _cluster = null;
        _gateway = null;
        await cluster.StopAllSilosAsync();
        await cluster.DisposeAsync();
        foreach (var ledgers in _siloLedgers.Values)
        {
            await ledgers.Store.DisposeAsync();
        }

        var finished = new LedgerDirectory(ScrollStores.Create(new ScrollStoreOptions { DataDirectory = ScrollDirectory }), _keys.Copy(SimulationKeys.Scroll), new ScrollLedgerOptions(), _clock);
        _allLedgers.Add(finished);
        return finished;
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is { } cluster)
        {
            _cluster = null;
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }

        foreach (var ledgers in _allLedgers)
        {
            await ledgers.DisposeAsync();
        }

        _federations.Dispose();
        _validators.Dispose();
    }

    /// <summary>A request that was not answered because its silo died is sent again, as a node's agent does (every request is idempotent).</summary>
    private static async Task<T> Resend<T>(Func<Task<T>> request)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await request();
            }
            catch (Exception ex) when (attempt < Resends && ex is SiloUnavailableException or OrleansMessageRejectionException or global::Orleans.Runtime.Messaging.ConnectionFailedException or TimeoutException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }
        }
    }
}

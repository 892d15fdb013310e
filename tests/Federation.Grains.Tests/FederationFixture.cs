using System.Text;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Signing;
using Federation.Grains.Services;
using Federation.Storage.Governance;
using Federation.Storage.Ledger;
using Federation.Storage.Orleans;
using Federation.Storage.Scrolls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Federation.Grains.Tests;

/// <summary>
/// A real Orleans silo (an InProcessTestCluster: file grain state, file reminders, the file scroll store) serving two
/// federations, over a temp directory that survives restarts. Grains see <see cref="Time"/>, a fake clock; Orleans'
/// background loops keep real time.
/// </summary>
public sealed class FederationFixture : IAsyncDisposable
{
    public const string Fed1 = "fed1";
    public const string Fed2 = "fed2";
    public const int Dimension = 4;

    private readonly TempDirectory _directory = new();
    private readonly Dictionary<string, Ed25519PrivateKey> _nodeKeys = [];
    private readonly List<LedgerDirectory> _ledgerDirectories = [];
    private readonly Dictionary<string, LedgerDirectory> _siloLedgers = [];
    private LedgerDirectory? _ledgers;
    private InProcessTestCluster? _cluster;

    // Every silo is a process of its own as far as scrolls go: its own scroll store over the shared directory.
    private LedgerDirectory LedgersFor(string silo)
    {
        var store = ScrollStores.Create(new ScrollStoreOptions { DataDirectory = Path.Combine(_directory.Path, "scrolls") });
        var ledgers = new LedgerDirectory(store, Ed25519PrivateKey.FromSeed(Seed(200)), new ScrollLedgerOptions(), Time);
        _ledgerDirectories.Add(ledgers);
        _siloLedgers[silo] = ledgers;
        _ledgers ??= ledgers;
        return ledgers;
    }

    private InProcessTestCluster Build()
    {
        _siloLedgers.Clear();
        _ledgers = null;
        var federations = new FederationDirectory([Settings(Fed1), Settings(Fed2)]);
        var validators = new ValidatorDirectory { ViewTimeout = TimeSpan.FromSeconds(1), MaxViewChanges = 4 };
        foreach (var federation in new[] { Fed1, Fed2 })
        {
            validators.Add(federation, Enumerable.Range(0, ValidatorCount).Select(i => new ValidatorSettings($"v{i}", Ed25519PrivateKey.FromSeed(Seed(150 + i)), Behaviours.GetValueOrDefault($"v{i}"))).ToList(), Aggregation);
        }

        var builder = new InProcessTestClusterBuilder((short)SiloCount);
        builder.ConfigureHost(host =>
        {
            host.Services.AddSingleton<TimeProvider>(Time);
            host.Services.AddKeyedSingleton<TimeProvider>(global::Orleans.Reminders.ReminderTimeProviderNames.Reminders, Time);
            host.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
        });
        builder.ConfigureSilo((options, silo) => silo
            .UseProtocolJsonGrainStorageSerializer()
            .AddFileGrainStorageAsDefault(o => o.DataDirectory = _directory.Path)
            .UseFileReminderTable(o => o.DataDirectory = _directory.Path)
            .Configure<Orleans.Hosting.ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1))
            .AddFederationGrains(federations, LedgersFor(options.SiloName), validators, new GovernanceLog(GovernanceLogPath), Epochs));
        if (Silo is { } configure)
        {
            builder.ConfigureSilo((_, silo) => configure(silo));
        }

        return builder.Build();
    }

    public int ValidatorCount { get; init; } = 4;

    public int SiloCount { get; init; } = 1;

    /// <summary>More silo configuration of a test (a grain call filter that counts calls, say), applied to every silo.</summary>
    public Action<ISiloBuilder>? Silo { get; init; }

    /// <summary>Quorum, grace and deadline of the epoch schedule (long by default so tests drive epochs explicitly).</summary>
    public EpochOptions Epochs { get; set; } = new() { Grace = TimeSpan.FromHours(1), Deadline = TimeSpan.FromHours(2), CheckInterval = TimeSpan.FromHours(1) };

    public Dictionary<string, ValidatorBehaviour> Behaviours { get; } = [];

    public Core.Consensus.AggregationPolicy Aggregation { get; set; } = Core.Consensus.AggregationPolicy.DefaultVector;

    public string GovernanceLogPath => Path.Combine(_directory.Path, GovernanceLog.FileName);

    public static Core.Consensus.ValidatorSet ValidatorSetOf(int n) =>
        new(Enumerable.Range(0, n).Select(i => ($"v{i}", Ed25519PrivateKey.FromSeed(Seed(150 + i)).PublicKey)).ToList());

    /// <summary>Runs an epoch while advancing the manual clock, so view-change timers can expire.</summary>
    public async Task<EpochReport> RunEpochAsync(string federation)
    {
        var run = Grains.GetGrain<IEpochGrain>(federation).RunAsync();
        for (var i = 0; i < 2000 && !run.IsCompleted; i++)
        {
            await Task.Delay(5);
            Time.Advance(TimeSpan.FromMilliseconds(250));
        }

        return await run;
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero));

    private InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("the fixture's silo is not running: StartAsync first");

    /// <summary>The cluster's client: every call crosses the gateway, serialized as between processes.</summary>
    public IGrainFactory Grains => Cluster.Client;

    /// <summary>The silo's services.</summary>
    public IServiceProvider Services => Cluster.Silos[0].ServiceProvider;

    public int LiveSilos => Cluster.Silos.Count;

    public IngestGateway Gateway => new(Grains, Services.GetRequiredService<FederationDirectory>());

    /// <summary>The scroll key's verifier keys (the public half of the silo's ledger directory).</summary>
    public LedgerDirectory Ledgers => _ledgers!;

    public IScrollGrain Scroll(string scroll) => Grains.GetGrain<IScrollGrain>(scroll);

    public static byte[] Seed(int n) => Enumerable.Repeat((byte)n, 32).ToArray();

    public static FederationPolicy Policy(string federation) => new(federation, AggregationKind.Vector, ["ingest.v1"], VectorDimension: Dimension, MaxPayloadBytes: 8192);

    private static FederationSettings Settings(string federation) => new()
    {
        Policy = Policy(federation),
        GovernanceKey = Ed25519PrivateKey.FromSeed(Seed(federation == Fed1 ? 101 : 102)),
        InactivityTimeout = TimeSpan.FromMinutes(5),
        ReviewerKeys = [ReviewerKey.PublicKey],
    };

    /// <summary>The one reviewer of both federations (seed 120); seed 121 is a key that is not a reviewer's.</summary>
    public static Ed25519PrivateKey ReviewerKey { get; } = Ed25519PrivateKey.FromSeed(Seed(120));

    public static Ed25519PrivateKey NotAReviewerKey { get; } = Ed25519PrivateKey.FromSeed(Seed(121));

    public static Ed25519PublicKey GovernanceKey(string federation)
    {
        using var key = Ed25519PrivateKey.FromSeed(Seed(federation == Fed1 ? 101 : 102));
        return key.PublicKey;
    }

    public Ed25519PrivateKey Node(int n)
    {
        var name = "n" + n;
        if (!_nodeKeys.TryGetValue(name, out var key))
        {
            _nodeKeys[name] = key = Ed25519PrivateKey.FromSeed(Seed(n));
        }

        return key;
    }

    public async Task StartAsync()
    {
        if (_cluster is not null)
        {
            throw new InvalidOperationException("the fixture's silo is already running");
        }

        var cluster = Build();
        await cluster.DeployAsync();
        _cluster = cluster;
    }

    public bool IsRunning => _cluster is not null;

    /// <summary>Graceful stop: every activation deactivates (scrolls seal), state is written.</summary>
    public async Task StopAsync()
    {
        var cluster = Cluster;
        _cluster = null;
        await cluster.StopAllSilosAsync();
        await cluster.DisposeAsync();
        foreach (var ledgers in _siloLedgers.Values)
        {
            await ledgers.Store.DisposeAsync();
        }
    }

    /// <summary>
    /// Crash of the one silo that hosts <paramref name="grain"/>: its scroll files close first (as the OS closes a killed
    /// process's files: nothing it had in flight is written after), then the silo dies without deactivating anything.
    /// </summary>
    public async Task<string> KillSiloHostingAsync(IAddressable grain)
    {
        var address = await Grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grain)
            ?? throw new InvalidOperationException($"{grain} has no activation");
        var silo = Cluster.Silos.Single(s => s.SiloAddress.Equals(address));
        await _siloLedgers[silo.Name].Store.DisposeAsync();
        await Cluster.KillSiloAsync(silo);
        return silo.Name;
    }

    /// <summary>Crash: the silo is killed (no deactivation, no final seal); its files close as the OS would close them.</summary>
    public async Task KillAsync()
    {
        var cluster = Cluster;
        _cluster = null;
        foreach (var ledgers in _siloLedgers.Values)
        {
            await ledgers.Store.DisposeAsync();
        }

        foreach (var silo in cluster.Silos.ToList())
        {
            await cluster.KillSiloAsync(silo);
        }

        await cluster.DisposeAsync();
    }

    public async Task KillAndRestartAsync()
    {
        await KillAsync();
        await StartAsync();
    }

    /// <summary>The file of one grain state under the file provider (whatever its storage name folder).</summary>
    public string GrainStateFile(string grainType, string key, string stateName) =>
        Directory.GetFiles(Path.Combine(_directory.Path, "grains"), $"{key}.{stateName}.json", SearchOption.AllDirectories)
            .Single(f => Path.GetFileName(Path.GetDirectoryName(f)) == grainType);

    public string ScrollFile(string scroll) => Path.Combine(_directory.Path, "scrolls", "receipts", scroll, scroll + ".jsonl");

    /// <summary>After <see cref="KillAsync"/> or <see cref="StopAsync"/> (and files changed meanwhile): a new silo.</summary>
    public Task RestartAfterKillAsync() => StartAsync();

    public async Task RegisterAsync(string federation, Ed25519PrivateKey node, IReadOnlyList<string>? capabilities = null) =>
        await Grains.GetGrain<IFederationGrain>(federation).RegisterNodeAsync(
            new NodeRegistration(node.Fingerprint, TrustLevel.Federated, SyncPolicy.Bidirectional, capabilities ?? ["ingest.v1", "delta.vector.v1"]));

    public static byte[] Sign<T>(T payload, Ed25519PrivateKey key) => SignedEnvelope.Sign(payload, new Ed25519Signer(key)).ToCanonicalJson();

    /// <summary>Registers and runs the whole handshake; returns the node's ledger_block_id.</summary>
    public async Task<string> JoinAsync(string federation, Ed25519PrivateKey node)
    {
        await RegisterAsync(federation, node);
        var federationGrain = Grains.GetGrain<IFederationGrain>(federation);
        var reply = await federationGrain.HelloAsync(Sign(FederationHello.Create(federation, node.Fingerprint, "1.0", ["ingest.v1", "delta.vector.v1"], "n"), node));
        Assert.True(reply.Accepted, reply.Message);
        var accept = SignedEnvelope.Parse(reply.Accept!);
        var session = accept.PayloadAs<FederationAccept>();
        var ack = SessionAck.Create(federation, node.Fingerprint, session.SessionId, Sha256Digest.Of(accept.SignedBytes));
        var completed = await federationGrain.CompleteSessionAsync(Sign(ack, node));
        Assert.True(completed.Active, completed.Message);
        return completed.LedgerBlockId!;
    }

    public async Task<byte[]> UpdateAsync(string federation, Ed25519PrivateKey node, string ledgerBlockId, long epoch, double seed = 1, Sha256Digest? baseState = null, Func<MetaUpdate, MetaUpdate>? change = null)
    {
        var info = await Grains.GetGrain<IFederationGrain>(federation).GetEpochAsync();
        var (payload, hash) = UpdateDelta.Vector(Enumerable.Range(0, Dimension).Select(i => seed + i * 0.01).ToArray()).Encode();
        var update = MetaUpdate.Create(federation, epoch, node.Fingerprint, hash, ledgerBlockId, baseState ?? info.BaseStates[Math.Min(epoch, info.OpenEpoch)], payload);
        return Sign(change?.Invoke(update) ?? update, node);
    }

    public async Task<List<string>> LinesAsync(string scroll)
    {
        var lines = new List<string>();
        await foreach (var line in global::Federation.Grains.Scroll.ScrollReader.ReadAllAsync(Scroll(scroll)))
        {
            lines.Add(Encoding.UTF8.GetString(line));
        }

        return lines;
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await StopAsync();
        }

        foreach (var ledgers in _ledgerDirectories)
        {
            await ledgers.DisposeAsync();
        }

        foreach (var key in _nodeKeys.Values)
        {
            key.Dispose();
        }

        _directory.Dispose();
    }
}

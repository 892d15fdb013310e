using System.Text;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Signing;
using Federation.Grains.Services;
using Federation.Hosting;
using Federation.Hosting.Configuration;
using Federation.Hosting.Reminders;
using Federation.Hosting.Testing;
using Federation.Storage.Governance;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;

namespace Federation.Grains.Tests;

/// <summary>A real host (thread pool, file grain state, file scroll store) serving two federations, over a temp directory that survives restarts.</summary>
public sealed class FederationFixture : IAsyncDisposable
{
    public const string Fed1 = "fed1";
    public const string Fed2 = "fed2";
    public const int Dimension = 4;

    private readonly TempDirectory _directory = new();
    private readonly Dictionary<string, Ed25519PrivateKey> _nodeKeys = [];
    private LedgerDirectory? _ledgers;
    private IScrollStore? _store;

    public FederationFixture()
    {
        Cluster = new TestCluster(builder =>
        {
            _store = ScrollStores.Create(new ScrollStoreOptions { DataDirectory = Path.Combine(_directory.Path, "scrolls") });
            _ledgers = new LedgerDirectory(_store, Ed25519PrivateKey.FromSeed(Seed(200)), new ScrollLedgerOptions(), Time);
            var federations = new FederationDirectory([Settings(Fed1), Settings(Fed2)]);
            var validators = new ValidatorDirectory { ViewTimeout = TimeSpan.FromSeconds(1), MaxViewChanges = 4 };
            foreach (var federation in new[] { Fed1, Fed2 })
            {
                validators.Add(federation, Enumerable.Range(0, ValidatorCount).Select(i => new ValidatorSettings($"v{i}", Ed25519PrivateKey.FromSeed(Seed(150 + i)), Behaviours.GetValueOrDefault($"v{i}"))).ToList(), Aggregation);
            }

            builder.UseThreadPool(Time)
                .Configure<GrainStorageOptions>(o => o.DataDirectory = Path.Combine(_directory.Path, "grains"))
                .Configure<ReminderOptions>(o => o.MinimumPeriod = TimeSpan.FromSeconds(1))
                .AddFederationGrains(federations, _ledgers, validators, new GovernanceLog(GovernanceLogPath), Epochs);
        });
    }

    public int ValidatorCount { get; init; } = 4;

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

    public ManualTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero));

    public TestCluster Cluster { get; }

    public IGrainFactory Grains => Cluster.GrainFactory;

    public IngestGateway Gateway => new(Cluster.GrainFactory, (FederationDirectory)Cluster.Host.Services.GetService(typeof(FederationDirectory))!);

    public LedgerDirectory Ledgers => _ledgers!;

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

    public Task StartAsync() => Cluster.StartAsync();

    /// <summary>Crash: no graceful shutdown, no final seal; the process's files close as the OS would close them.</summary>
    public async Task KillAndRestartAsync()
    {
        Cluster.Kill();
        await _store!.DisposeAsync();
        await Cluster.StartAsync();
    }

    /// <summary>The file of one grain state under the file provider (whatever its storage name folder).</summary>
    public string GrainStateFile(string grainType, string key, string stateName) =>
        Directory.GetFiles(Path.Combine(_directory.Path, "grains"), $"{key}.{stateName}.json", SearchOption.AllDirectories)
            .Single(f => Path.GetFileName(Path.GetDirectoryName(f)) == grainType);

    public string ScrollFile(string scroll) => Path.Combine(_directory.Path, "scrolls", "receipts", scroll, scroll + ".jsonl");

    /// <summary>After <see cref="TestCluster.Kill"/>: release the killed process's files and start a new host.</summary>
    public async Task RestartAfterKillAsync()
    {
        await _store!.DisposeAsync();
        await Cluster.StartAsync();
    }

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
        var ledger = await Ledgers.GetAsync(scroll);
        var lines = new List<string>();
        await foreach (var (_, line) in ledger.ReadAsync(0, ledger.Size))
        {
            lines.Add(Encoding.UTF8.GetString(line));
        }

        return lines;
    }

    public async ValueTask DisposeAsync()
    {
        if (Cluster.IsRunning)
        {
            await Cluster.StopAsync();
        }

        if (_ledgers is not null)
        {
            await _ledgers.DisposeAsync();
        }

        foreach (var key in _nodeKeys.Values)
        {
            key.Dispose();
        }

        _directory.Dispose();
    }
}

using Federation.Core.Crypto;
using Federation.Core.Membership;
using Federation.Grains;
using Federation.Grains.Services;
using Federation.Storage.Governance;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Federation.Cli.Bench;

/// <summary>
/// One federation on a production-shaped Orleans silo (file grain state, file scroll store) in a temporary
/// directory, with deterministic node keys: the shared set-up of the ingest and epoch benchmarks. Disposing stops
/// the silo and removes the directory.
/// </summary>
internal sealed class BenchFederation : IAsyncDisposable
{
    public const string Id = "bench";
    public const int Dimension = 16;

    private readonly string _directory;
    private readonly LedgerDirectory _ledgers;
    private readonly ValidatorDirectory? _validators;

    private BenchFederation(string directory, IReadOnlyList<Ed25519PrivateKey> keys, FederationDirectory federations, LedgerDirectory ledgers, ValidatorDirectory? validators, IHost host)
    {
        _directory = directory;
        Keys = keys;
        Federations = federations;
        _ledgers = ledgers;
        _validators = validators;
        Host = host;
        Gateway = new IngestGateway(Grains, federations);
    }

    public IReadOnlyList<Ed25519PrivateKey> Keys { get; }

    public FederationDirectory Federations { get; }

    public IHost Host { get; }

    /// <summary>The silo's own grain factory: calls made in the coordinator's process, as its HTTP API makes them.</summary>
    public IGrainFactory Grains => Host.Services.GetRequiredService<IGrainFactory>();

    public IFederationGrain Federation => Grains.GetGrain<IFederationGrain>(Id);

    public IngestGateway Gateway { get; }

    public LedgerDirectory Ledgers => _ledgers;

    /// <param name="tag">Keeps each benchmark's keys distinct (part of every derived seed).</param>
    /// <param name="settings">The silo's settings (storage, call timeout); the directory is set here.</param>
    public static async Task<BenchFederation> StartAsync(int nodes, byte tag, ValidatorDirectory? validators, SiloSettings settings, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"fed-bench-{tag}-{Guid.NewGuid():N}");
        var keys = Enumerable.Range(0, nodes).Select(i => Ed25519PrivateKey.FromSeed(Seed(i, tag))).ToList();
        var policy = new FederationPolicy(Id, AggregationKind.Vector, ["ingest.v1"], Dimension);
        var federations = new FederationDirectory([new FederationSettings { Policy = policy, GovernanceKey = Ed25519PrivateKey.FromSeed(Seed(1_000_001, tag)) }]);
        var store = ScrollStores.Create(new ScrollStoreOptions { DataDirectory = Path.Combine(directory, "scrolls") });
        var ledgers = new LedgerDirectory(store, Ed25519PrivateKey.FromSeed(Seed(1_000_002, tag)), new ScrollLedgerOptions(), TimeProvider.System);
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(silo =>
        {
            (settings with { DataDirectory = directory }).Apply(silo);
            silo.AddFederationGrains(federations, ledgers, validators, new GovernanceLog(Path.Combine(directory, GovernanceLog.FileName)));
        });
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return new BenchFederation(directory, keys, federations, ledgers, validators, host);
    }

    /// <summary>A deterministic Ed25519 seed for index <paramref name="n"/> of a benchmark.</summary>
    public static byte[] Seed(int n, byte tag)
    {
        var seed = new byte[32];
        BitConverter.TryWriteBytes(seed, n);
        seed[31] = tag;
        return seed;
    }

    public static NodeRegistration Registration(Ed25519PrivateKey key) =>
        new(key.Fingerprint, TrustLevel.Federated, SyncPolicy.Bidirectional, ["ingest.v1", FederationPolicy.CapabilityFor(AggregationKind.Vector)]);

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync(CancellationToken.None);
        Host.Dispose();
        await _ledgers.DisposeAsync();
        Federations.Dispose();
        _validators?.Dispose();
        foreach (var key in Keys)
        {
            key.Dispose();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a temporary directory
        }
    }
}

using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Grains.Services;
using Federation.Storage.Keys;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Grains.Tests;

/// <summary>
/// Two coordinators configured as an operator would (appsettings.json: <c>Hosting:Clustering</c>, storage and reminders
/// on <c>postgres</c>, the PostgreSQL scroll store) over one empty database of a throwaway PostgreSQL 15: they form one
/// cluster in the membership table, serve one federation between them, and what one acknowledged the other still has
/// after the first is gone.
/// </summary>
public sealed class PostgresCoordinatorTests : IAsyncLifetime
{
    private const string Fed = "fed1";
    private const int Dimension = 4;
    private readonly TempDirectory _dir = new();
    private string _database = "";

    public async Task InitializeAsync() => _database = await PostgresCluster.Instance.CreateDatabaseAsync("coord");

    public async Task DisposeAsync()
    {
        await PostgresCluster.Instance.DropDatabaseAsync(_database);
        _dir.Dispose();
    }

    private static byte[] Sign<T>(T payload, Ed25519PrivateKey key) => SignedEnvelope.Sign(payload, new Ed25519Signer(key)).ToCanonicalJson();

    private IConfiguration Configuration()
    {
        foreach (var name in new[] { "governance", "scroll", "v0", "v1", "v2", "v3" })
        {
            using var generated = Ed25519PrivateKey.Generate();
            KeyFiles.WriteKeyPair(Path.Combine(_dir.Path, "keys", name + ".key"), generated);
        }

        var settings = _dir.File("appsettings.json");
        File.WriteAllText(settings, $$"""
            {
              "ConnectionStrings": { "Federation": "{{_database}}" },
              "Federation": { "Scrolls": { "Store": "postgres", "SigningKey": "{{_dir.File("keys/scroll.key")}}" } },
              "Hosting": { "Clustering": "postgres", "StorageProvider": "postgres", "ReminderProvider": "postgres",
                           "PostgresConnectionString": "{{_database}}", "ClusterId": "fed-test" },
              "Federations": [
                { "Id": "{{Fed}}", "Aggregation": "vector", "VectorDimension": {{Dimension}}, "RequiredCapabilities": ["ingest.v1"], "MaxPayloadBytes": 8192,
                  "GovernanceKeyFile": "keys/governance.key",
                  "Validators": [ { "Id": "v0", "KeyFile": "keys/v0.key" }, { "Id": "v1", "KeyFile": "keys/v1.key" },
                                  { "Id": "v2", "KeyFile": "keys/v2.key" }, { "Id": "v3", "KeyFile": "keys/v3.key" } ] }
              ]
            }
            """);
        return new ConfigurationBuilder().AddJsonFile(settings).Build();
    }

    [Fact]
    public async Task Two_coordinators_on_one_database_form_a_cluster_and_the_survivor_keeps_every_acknowledged_update_and_commits()
    {
        var configuration = Configuration();
        var first = await CoordinatorHost.StartAsync(configuration, _dir.Path, Path.Combine(_dir.Path, "data-a"));
        await using var second = await CoordinatorHost.StartAsync(configuration, _dir.Path, Path.Combine(_dir.Path, "data-b"));
        var hosts = await second.Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        Assert.Equal(2, hosts.Count);

        // Nodes join through the first coordinator and submit through the second: one federation, one cluster.
        var federation = first.Grains.GetGrain<IFederationGrain>(Fed);
        var gateway = new IngestGateway(second.Grains, second.Host.Services.GetRequiredService<FederationDirectory>());
        var nodes = new List<(Ed25519PrivateKey Key, string Block)>();
        for (var i = 0; i < 4; i++)
        {
            var key = Ed25519PrivateKey.Generate();
            await federation.RegisterNodeAsync(new NodeRegistration(key.Fingerprint, TrustLevel.Federated, SyncPolicy.Bidirectional, ["ingest.v1", "delta.vector.v1"]));
            var reply = await federation.HelloAsync(Sign(FederationHello.Create(Fed, key.Fingerprint, "1.0", ["ingest.v1", "delta.vector.v1"], "n"), key));
            var accept = SignedEnvelope.Parse(reply.Accept!);
            var session = await federation.CompleteSessionAsync(Sign(SessionAck.Create(Fed, key.Fingerprint, accept.PayloadAs<FederationAccept>().SessionId, Sha256Digest.Of(accept.SignedBytes)), key));
            Assert.True(session.Active, session.Message);
            nodes.Add((key, session.LedgerBlockId!));
        }

        var state = (await federation.GetEpochAsync()).OpenStateHash;
        var acknowledged = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var (payload, hash) = UpdateDelta.Vector(Enumerable.Range(0, Dimension).Select(d => 1 + i * 0.001 + d * 0.01).ToArray()).Encode();
            var ack = await gateway.SubmitAsync(Fed, Sign(MetaUpdate.Create(Fed, 1, nodes[i].Key.Fingerprint, hash, nodes[i].Block, state, payload), nodes[i].Key));
            Assert.True(ack.Acknowledged, ack.Message);
            acknowledged.Add(ack.ReceiptId!);
        }

        // The first coordinator goes; its grains reactivate on the second from the database.
        await first.DisposeAsync();
        Assert.Single(await second.Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true));
        var scroll = second.Grains.GetGrain<IScrollGrain>(FederationScrolls.Updates(Fed));
        Assert.Equal(4, await scroll.SubmittedAsync(1));
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(acknowledged[i], Assert.Single(await scroll.RecordedAsync(nodes[i].Key.Fingerprint)).ReceiptId);
        }

        var report = await second.Grains.GetGrain<IEpochGrain>(Fed).RunAsync();
        Assert.True(report.State == EpochState.Committed, report.Reason);
        Assert.Equal(2, (await second.Grains.GetGrain<IFederationGrain>(Fed).GetEpochAsync()).OpenEpoch);
        foreach (var (key, _) in nodes)
        {
            key.Dispose();
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Federation.Core.Crypto;
using Federation.Storage.Keys;

namespace Federation.Cli.Tests;

/// <summary>
/// Three <c>fed serve</c> processes over one PostgreSQL (Orleans ADO.NET clustering, grain state and reminders, the
/// PostgreSQL scroll store) serve one federation; node agents know all three. The silo hosting the federation's update
/// scroll is killed with kill -9 while the agents submit: nothing acknowledged is lost, the agents fail over, the
/// epochs go on committing.
/// </summary>
[Collection(RealProcesses.Name)]
public sealed class ClusterServeTests : IAsyncLifetime
{
    private const string Fed = "fed1";
    private readonly TempDirectory _dir = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly List<(string Name, KeyFingerprint Fingerprint)> _nodes = [];
    private string _database = "";

    public async Task InitializeAsync() => _database = await PostgresCluster.Instance.CreateDatabaseAsync("cluster");

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await PostgresCluster.Instance.DropDatabaseAsync(_database);
        _dir.Dispose();
    }

    private string Settings => _dir.File("appsettings.json");

    private string KeyOf(string name) => Path.Combine(_dir.Path, "keys", name + ".key");

    private void Prepare(IEnumerable<string> nodes)
    {
        foreach (var name in new[] { "governance", "scroll", "v0", "v1", "v2", "v3" })
        {
            using var generated = Ed25519PrivateKey.Generate();
            KeyFiles.WriteKeyPair(KeyOf(name), generated);
        }

        foreach (var name in nodes)
        {
            using var key = Ed25519PrivateKey.Generate();
            KeyFiles.WriteKeyPair(KeyOf(name), key);
            _nodes.Add((name, key.Fingerprint));
        }

        var registry = string.Join(", ", _nodes.Select(n => $$"""{ "Fingerprint": "{{n.Fingerprint}}", "Capabilities": ["ingest.v1", "delta.vector.v1"] }"""));
        File.WriteAllText(Settings, $$"""
            {
              "ConnectionStrings": { "Federation": "{{_database}}" },
              "Federation": { "Scrolls": { "Store": "postgres", "SigningKey": "keys/scroll.key" } },
              "Hosting": { "Clustering": "postgres", "StorageProvider": "postgres", "ReminderProvider": "postgres",
                           "PostgresConnectionString": "{{_database}}", "ClusterId": "fed-cluster-test",
                           "Messaging": { "CallTimeout": "00:00:10" } },
              "Epochs": { "Grace": "00:00:01", "CheckInterval": "00:00:00.200" },
              "Anchors": { "Interval": "00:00:00" },
              "Federations": [
                { "Id": "{{Fed}}", "Aggregation": "vector", "VectorDimension": 4, "RequiredCapabilities": ["ingest.v1"],
                  "GovernanceKeyFile": "keys/governance.key",
                  "Nodes": [ {{registry}} ],
                  "Validators": [ { "Id": "v0", "KeyFile": "keys/v0.key" }, { "Id": "v1", "KeyFile": "keys/v1.key" },
                                  { "Id": "v2", "KeyFile": "keys/v2.key" }, { "Id": "v3", "KeyFile": "keys/v3.key" } ] }
              ]
            }
            """);
        var trust = FedRunner.InProcess("node", "trust", "--federation", Fed, "--settings", Settings, "--out", _dir.File("trust.json"));
        Assert.True(trust.ExitCode == 0, trust.Err);
    }

    private async Task<JsonNode> PlacementAsync(ServeProcess server, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Root, $"v1/federations/{Fed}/placement"));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task Three_silos_on_postgres_serve_one_federation_and_a_silo_killed_with_kill_9_during_ingest_loses_nothing_acknowledged()
    {
        string[] names = ["n1", "n2", "n3", "n4", "n5", "n6"];
        Prepare(names);
        var created = FedRunner.InProcess("token", "create", "--federation", Fed, "--role", "auditor", "--settings", Settings, "--data-dir", Path.Combine(_dir.Path, "data-token"));
        Assert.True(created.ExitCode == 0, created.Err);
        var token = created.Out.Trim();

        var servers = new List<ServeProcess>();
        var agents = new List<AgentProcess>();
        try
        {
            foreach (var silo in new[] { "a", "b", "c" })
            {
                servers.Add(await ServeProcess.StartAsync(Settings, _http, null, "--data-dir", Path.Combine(_dir.Path, "data-" + silo)));
            }

            // One cluster: every silo sees all three.
            var waited = Stopwatch.StartNew();
            while ((await PlacementAsync(servers[2], token))["silos"]!.AsArray().Count < 3 && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(200);
            }

            Assert.Equal(3, (await PlacementAsync(servers[2], token))["silos"]!.AsArray().Count);
            for (var i = 0; i < names.Length; i++)
            {
                // Each agent lists the three coordinators starting at a different one.
                var urls = string.Join(',', Enumerable.Range(0, 3).Select(k => servers[(i + k) % 3].Root.AbsoluteUri));
                agents.Add(AgentProcess.Start(names[i], "--coordinator", urls, "--federation", Fed, "--key", KeyOf(names[i]), "--trust", _dir.File("trust.json"),
                    "--cache-dir", Path.Combine(_dir.Path, "cache"), "--poll", "0.2", "--epochs", "4"));
            }

            foreach (var agent in agents)
            {
                Assert.True(await agent.WaitForAsync("epoch 2: update accepted", TimeSpan.FromSeconds(120)), agent.Output);
            }

            // kill -9 the silo that hosts the federation's update scroll, while the agents go on submitting.
            var placement = await PlacementAsync(servers[0], token);
            var host = placement["grains"]!["updates_scroll"]!.GetValue<string>();
            var victim = servers[0];
            foreach (var server in servers)
            {
                if ((await PlacementAsync(server, token))["silo"]!.GetValue<string>() == host)
                {
                    victim = server;
                }
            }

            await victim.KillAsync();
            foreach (var agent in agents)
            {
                var exit = await agent.WaitForExitAsync(TimeSpan.FromSeconds(180));
                Assert.True(exit == 0, $"{agent.Name} exited {exit}: {agent.Output}");
                Assert.Matches(@"done: 4 epochs committed; (\d+) receipts acknowledged, \1 checked included", agent.Output);
            }

            // The survivors host the scroll now, and an agent that talked to the killed silo said so once and failed over.
            var survivor = servers.First(s => s != victim);
            var moved = await PlacementAsync(survivor, token);
            Assert.Equal(2, moved["silos"]!.AsArray().Count);
            Assert.NotEqual(host, moved["grains"]!["updates_scroll"]?.GetValue<string>());
            var first = agents.Where((_, i) => servers[i % 3] == victim).ToList();
            Assert.NotEmpty(first);
            Assert.All(first, a => Assert.Equal(1, a.Count($"federation offline for {victim.Root}")));
            foreach (var server in servers.Where(s => s != victim))
            {
                Assert.Equal(0, await server.StopAsync());
            }
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }

            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }

        // Offline, from the database: the updates scroll verifies, and every receipt an agent was acknowledged is in it.
        var verify = FedRunner.InProcess("scroll", "verify", "--scroll", $"{Fed}.updates", "--store", "postgres", "--connection", _database, "--pub", KeyOf("scroll") + ".pub", "--anchors", _dir.File("none.merk"));
        Assert.True(verify.ExitCode == 0, verify.Out + verify.Err);
        var query = FedRunner.InProcess("scroll", "query", "--scroll", $"{Fed}.updates", "--json", "--store", "postgres", "--connection", _database, "--pub", KeyOf("scroll") + ".pub");
        Assert.True(query.ExitCode == 0, query.Err);
        var sealedLines = query.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToDictionary(l => $"{Fed}.updates:{l["seq"]}");
        foreach (var (name, fingerprint) in _nodes)
        {
            var state = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir.Path, "cache", Fed, fingerprint.ToString().Replace(':', '-'), "state.json")))!;
            var acked = state["acked"]!.AsArray();
            Assert.True(acked.Count >= 4, $"{name}: {acked.Count}");
            foreach (var receipt in acked)
            {
                var id = receipt!["receipt_id"]!.GetValue<string>();
                Assert.True(sealedLines.TryGetValue(id, out var line), $"{name}'s acknowledged {id} is missing");
                Assert.Equal(fingerprint.ToString(), line!["node"]!.GetValue<string>());
            }
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Federation.Core.Crypto;
using Federation.Storage.Keys;
using Federation.Testing;

namespace Federation.Cli.Tests;

/// <summary>
/// <c>fed serve</c> and <c>fed node run</c> as users run them: one coordinator process and node agent processes on
/// loopback, speaking the protocol over real HTTP — epochs that run on their own, faulty agents caught, a revoked one
/// refused, a flooding one backing off, and a coordinator killed with kill -9 and restarted under its agents.
/// </summary>
[Collection(RealProcesses.Name)]
public sealed class NodeAgentTests : IDisposable
{
    private const string Fed = "fed1";
    private readonly TempDirectory _dir = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly List<(string Name, KeyFingerprint Fingerprint)> _nodes = [];

    public void Dispose()
    {
        _http.Dispose();
        _dir.Dispose();
    }

    private string Settings => _dir.File("appsettings.json");

    private string Trust => _dir.File("trust.json");

    private string Cache => Path.Combine(_dir.Path, "cache");

    private string KeyOf(string name) => Path.Combine(_dir.Path, "keys", name + ".key");

    /// <summary>A federation of <paramref name="nodes"/> registered nodes, four validators, and the trust file its nodes get from <c>fed node trust</c>.</summary>
    private void Prepare(IEnumerable<string> nodes, string settings = "")
    {
        foreach (var name in new[] { "governance", "v0", "v1", "v2", "v3" })
        {
            using var generated = Ed25519PrivateKey.Generate();
            KeyFiles.WriteKeyPair(KeyOf(name), generated);
        }

        using (var scroll = Ed25519PrivateKey.Generate())
        {
            KeyFiles.WriteKeyPair(Path.Combine(_dir.Path, "data", "keys", "scroll.key"), scroll);
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
              "Federation": { "DataDirectory": "data" },
              "Epochs": { "Grace": "00:00:01", "CheckInterval": "00:00:00.200" },
              {{settings}}
              "Federations": [
                { "Id": "{{Fed}}", "Aggregation": "vector", "VectorDimension": 4, "RequiredCapabilities": ["ingest.v1"],
                  "GovernanceKeyFile": "keys/governance.key",
                  "Nodes": [ {{registry}} ],
                  "Validators": [ { "Id": "v0", "KeyFile": "keys/v0.key" }, { "Id": "v1", "KeyFile": "keys/v1.key" },
                                  { "Id": "v2", "KeyFile": "keys/v2.key" }, { "Id": "v3", "KeyFile": "keys/v3.key" } ] }
              ]
            }
            """);
        var trust = FedRunner.InProcess("node", "trust", "--federation", Fed, "--settings", Settings, "--out", Trust);
        Assert.True(trust.ExitCode == 0, trust.Err);
        Assert.Contains("validators v0, v1, v2, v3", trust.Out);
    }

    private AgentProcess Agent(ServeProcess server, string name, params string[] more) =>
        AgentProcess.Start(name, [
            "--coordinator", server.Root.AbsoluteUri, "--federation", Fed, "--key", KeyOf(name), "--trust", Trust,
            "--cache-dir", Cache, "--poll", "0.2", .. more]);

    private KeyFingerprint Fingerprint(string name) => _nodes.Single(n => n.Name == name).Fingerprint;

    /// <summary>The agent's cache: the receipts the coordinator acknowledged to it.</summary>
    private JsonArray Acked(string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Cache, Fed, Fingerprint(name).ToString().Replace(':', '-'), "state.json")))!["acked"]!.AsArray();

    private string Token(string role)
    {
        var created = FedRunner.InProcess("token", "create", "--federation", Fed, "--role", role, "--settings", Settings);
        Assert.True(created.ExitCode == 0, created.Err);
        return created.Out.Trim();
    }

    private async Task<JsonNode> GetAsync(ServeProcess server, string path, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Root, path));
        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>Every receipt an agent was acknowledged is in the scroll, as acknowledged: read offline, with the server stopped.</summary>
    private void AssertAcknowledgedReceiptsAreSealed(IEnumerable<string> agents)
    {
        var verify = FedRunner.InProcess("scroll", "verify", "--scroll", $"{Fed}.updates", "--data-dir", Path.Combine(_dir.Path, "data"));
        Assert.True(verify.ExitCode == 0, verify.Out + verify.Err);
        var query = FedRunner.InProcess("scroll", "query", "--scroll", $"{Fed}.updates", "--json", "--data-dir", Path.Combine(_dir.Path, "data"));
        Assert.True(query.ExitCode == 0, query.Err);
        var sealedLines = query.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToDictionary(l => $"{Fed}.updates:{l["seq"]}");
        foreach (var agent in agents)
        {
            foreach (var acked in Acked(agent))
            {
                var id = acked!["receipt_id"]!.GetValue<string>();
                Assert.True(sealedLines.TryGetValue(id, out var line), $"{agent}'s acknowledged receipt {id} is not in the scroll");
                Assert.Equal(Fingerprint(agent).ToString(), line!["node"]!.GetValue<string>());
            }
        }
    }

    [Fact]
    public async Task Eight_agents_federate_with_fed_serve_until_three_epochs_commit_and_every_acknowledged_receipt_verifies_offline()
    {
        var names = Enumerable.Range(1, 8).Select(i => $"n{i}").ToList();
        Prepare(names);
        await using (var server = await ServeProcess.StartAsync(Settings, _http))
        {
            var agents = names.Select(n => Agent(server, n, "--epochs", "3")).ToList();
            try
            {
                foreach (var agent in agents)
                {
                    var exit = await agent.WaitForExitAsync(TimeSpan.FromSeconds(120));
                    Assert.True(exit == 0, $"{agent.Name} exited {exit}: {agent.Output}");
                    Assert.Contains("joined fed1", agent.Output);
                    Assert.Contains("certificate of 3 votes verified", agent.Output);
                    Assert.Matches(@"done: 3 epochs committed; (\d+) receipts acknowledged, \1 checked included", agent.Output);
                }
            }
            finally
            {
                foreach (var agent in agents)
                {
                    await agent.DisposeAsync();
                }
            }

            // Every node's update was aggregated in each of the three epochs.
            for (var epoch = 1; epoch <= 3; epoch++)
            {
                var decided = await GetAsync(server, $"v1/federations/{Fed}/epochs/{epoch}");
                Assert.Equal("committed", decided["state"]!.GetValue<string>());
                Assert.Equal(8, decided["included"]!.GetValue<int>());
            }

            Assert.Equal(0, await server.StopAsync());
        }

        Assert.All(names, n => Assert.True(Acked(n).Count >= 3, $"{n}: {Acked(n).Count} acknowledged"));
        AssertAcknowledgedReceiptsAreSealed(names);
    }

    [Fact]
    public async Task Faulty_agents_end_quarantined_with_evidence_honest_ones_never_a_revoked_one_is_refused_and_a_flooding_one_backs_off()
    {
        string[] honest = ["h1", "h2", "h3", "h4"];
        Prepare([.. honest, "equivocator", "liar", "divergent", "flooder", "revoked"],
            """  "Service": { "RateLimits": { "NodeRequestsPerSecond": 100, "NodeBurst": 100 } },""");
        var operatorToken = Token("operator");
        await using var server = await ServeProcess.StartAsync(Settings, _http);
        var agents = new Dictionary<string, AgentProcess>();
        try
        {
            foreach (var name in honest.Append("revoked"))
            {
                agents[name] = Agent(server, name);
            }

            agents["equivocator"] = Agent(server, "equivocator", "--fault", "equivocate");
            agents["liar"] = Agent(server, "liar", "--fault", "lie-head");
            agents["divergent"] = Agent(server, "divergent", "--fault", "divergent");
            agents["flooder"] = Agent(server, "flooder", "--fault", "flood");

            // The three faults are caught: each node quarantined with its evidence receipt.
            var waited = Stopwatch.StartNew();
            string Status(JsonArray list, string name) => list.Single(n => n!["fingerprint"]!.GetValue<string>() == Fingerprint(name).ToString())!["status"]!.GetValue<string>();
            async Task<JsonArray> NodesAsync() => (await GetAsync(server, $"v1/federations/{Fed}/nodes", operatorToken))["nodes"]!.AsArray();
            var nodes = await NodesAsync();
            while (new[] { "equivocator", "liar", "divergent" }.Any(f => Status(nodes, f) != "quarantined") && waited.Elapsed < TimeSpan.FromSeconds(90))
            {
                await Task.Delay(500);
                nodes = await NodesAsync();
            }

            foreach (var faulty in new[] { "equivocator", "liar", "divergent" })
            {
                var node = nodes.Single(n => n!["fingerprint"]!.GetValue<string>() == Fingerprint(faulty).ToString())!;
                Assert.True(node["status"]!.GetValue<string>() == "quarantined", $"{faulty}: {node.ToJsonString()}\n{agents[faulty].Output}");
                Assert.StartsWith($"{Fed}.governance:", node["quarantine_evidence"]!.GetValue<string>());
            }

            var log = File.ReadAllText(Path.Combine(_dir.Path, "data", "META-GOVERNANCE-LOG.md"));
            foreach (var faulty in new[] { "equivocator", "liar", "divergent" })
            {
                Assert.Contains($"## FEDERATED_QUARANTINE — {Fed} — node {Fingerprint(faulty)}", log);
            }

            Assert.Contains("a second update for epoch", agents["equivocator"].Output);
            Assert.Contains("judged the node's ledger head divergent", agents["liar"].Output);

            // The flooder was answered 429 and waited Retry-After (the Polly pipeline); flooding heartbeats is not a fault the
            // federation punishes, so it stays active.
            Assert.True(await agents["flooder"].WaitForAsync("rate limited by", TimeSpan.FromSeconds(30)), agents["flooder"].Output);
            Assert.Contains("(Retry-After)", agents["flooder"].Output);

            // Revoked: the node's very next request fails, and the agent stops with the reason.
            using (var revoke = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Root, $"v1/federations/{Fed}/nodes/{Fingerprint("revoked")}/revoke")))
            {
                revoke.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", operatorToken);
                revoke.Content = new StringContent("""{"reason": "site decommissioned"}""", System.Text.Encoding.UTF8, "application/json");
                using var revoked = await _http.SendAsync(revoke);
                Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
            }

            Assert.Equal(1, await agents["revoked"].WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("revoked_node", agents["revoked"].Output);
            Assert.Contains("site decommissioned", agents["revoked"].Output);

            // Honest agents, the flooder among them, are never punished, and the federation goes on without the faulty.
            nodes = await NodesAsync();
            foreach (var name in honest.Append("flooder"))
            {
                Assert.True(Status(nodes, name) == "active", $"{name}: {Status(nodes, name)}\n{agents[name].Output}");
                Assert.False(agents[name].HasExited, $"{name} exited: {agents[name].Output}");
            }

            var epoch = (await GetAsync(server, $"v1/federations/{Fed}/epoch"))["open_epoch"]!.GetValue<long>();
            Assert.True(await agents["h1"].WaitForAsync($"epoch {epoch} committed", TimeSpan.FromSeconds(60)), agents["h1"].Output);
        }
        finally
        {
            foreach (var agent in agents.Values)
            {
                await agent.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_coordinator_killed_with_kill_9_and_restarted_keeps_every_acknowledged_update_and_its_agents_say_offline_once_and_resubmit()
    {
        string[] names = ["n1", "n2", "n3", "n4"];
        Prepare(names);
        var server = await ServeProcess.StartAsync(Settings, _http);
        var agents = names.Select(n => Agent(server, n, "--epochs", "5", "--offline-cycle", "0.5")).ToList();
        try
        {
            foreach (var agent in agents)
            {
                Assert.True(await agent.WaitForAsync("epoch 2: update accepted", TimeSpan.FromSeconds(90)), agent.Output);
            }

            // kill -9 mid-run: whatever the coordinator was doing, it does no more.
            await server.KillAsync();
            foreach (var agent in agents)
            {
                Assert.True(await agent.WaitForAsync($"federation offline for {server.Root}", TimeSpan.FromSeconds(30)), agent.Output);
                Assert.True(await agent.WaitForAsync("offline: local cycle for epoch", TimeSpan.FromSeconds(30)), agent.Output);
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
            await server.DisposeAsync();
            server = await ServeProcess.StartAsync(Settings, _http, server.Port);
            foreach (var agent in agents)
            {
                var exit = await agent.WaitForExitAsync(TimeSpan.FromSeconds(120));
                Assert.True(exit == 0, $"{agent.Name} exited {exit}: {agent.Output}");
                Assert.Equal(1, agent.Count("federation offline for"));
                Assert.Contains("federation back online at", agent.Output);
                Assert.Matches(@"done: 5 epochs committed; (\d+) receipts acknowledged, \1 checked included", agent.Output);
            }

            Assert.Equal(0, await server.StopAsync());
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }

            await server.DisposeAsync();
        }

        AssertAcknowledgedReceiptsAreSealed(names);
    }

    [Fact]
    public void Fed_demo_live_runs_a_coordinator_and_its_agents_until_epochs_commit_then_checks_every_scroll_offline()
    {
        var output = Path.Combine(_dir.Path, "live");
        var run = FedRunner.Process(null, "demo", "live", "--nodes", "3", "--epochs", "2", "--out", output);
        Assert.True(run.ExitCode == 0, run.Out + run.Err);
        Assert.Matches(@"n1: \S+Z epoch 2 committed \(3 included; certificate of 3 votes verified\)", run.Out);
        Assert.Contains("live.updates: OK", run.Out);
        Assert.Contains("live.governance: OK", run.Out);
        Assert.Contains("live demo OK", run.Out);
        Assert.True(File.Exists(Path.Combine(output, "trust.json")));

        // It starts from a fresh directory only: nothing of a previous run is touched.
        var again = FedRunner.Process(null, "demo", "live", "--out", output);
        Assert.Equal(ExitCodes.UnusableInput, again.ExitCode);
        Assert.Contains("exists and is not empty", again.Err);
    }

    [Fact]
    public async Task An_external_cycle_reads_the_state_on_stdin_and_its_delta_is_what_the_federation_aggregates_a_broken_one_skips_the_epoch()
    {
        Prepare(["n1", "n2"]);
        var good = _dir.File("cycle.sh");
        File.WriteAllText(good, $"cat > '{_dir.File("stdin.json")}'\necho '{{\"kind\":\"vector\",\"values\":[0.5,0.25,0.125,1]}}'\n");
        var bad = _dir.File("bad.sh");
        File.WriteAllText(bad, "cat > /dev/null\necho '{\"kind\":\"vector\",\"values\":[1,2]}'\n");
        await using var server = await ServeProcess.StartAsync(Settings, _http);
        await using var agent = Agent(server, "n1", "--cycle", $"sh '{good}'", "--epochs", "1");
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(90)));

        // The program got the policy and the state the epoch builds on; the committed aggregate is its delta.
        var input = JsonNode.Parse(File.ReadAllText(_dir.File("stdin.json")))!;
        Assert.Equal(1, input["epoch"]!.GetValue<long>());
        Assert.Equal(4, input["vector_dimension"]!.GetValue<int>());
        Assert.Equal(Fingerprint("n1").ToString(), input["node"]!.GetValue<string>());
        var committed = await GetAsync(server, $"v1/federations/{Fed}/epochs/1");
        Assert.Equal(1, committed["included"]!.GetValue<int>());
        Assert.Equal([0.5, 0.25, 0.125, 1.0], committed["commit_receipt"]!["body"]!["aggregate"]!["values"]!.AsArray().Select(v => v!.GetValue<double>()));

        // A cycle whose delta does not fit the policy skips the epoch with the reason; the agent goes on.
        await using var broken = Agent(server, "n2", "--cycle", $"sh '{bad}'");
        Assert.True(await broken.WaitForAsync("local cycle failed, epoch skipped", TimeSpan.FromSeconds(30)), broken.Output);
        Assert.Contains("wrote no usable delta", broken.Output);
        Assert.False(broken.HasExited);
    }
}

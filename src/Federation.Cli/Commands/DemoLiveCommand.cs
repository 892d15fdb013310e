using System.CommandLine;
using System.Globalization;
using System.Text;
using Federation.Core.Crypto;
using Federation.Core.Scrolls;
using Federation.Grains.Services;
using Federation.Storage.Keys;

namespace Federation.Cli.Commands;

/// <summary>
/// <c>fed demo live [--nodes N] [--epochs K] [--out DIR]</c>: the live counterpart of <c>scripts/main.sh</c>. Writes a
/// fresh federation into DIR (keys, appsettings.json, the nodes' trust file), starts <c>fed serve</c> on a free loopback
/// port and N <c>fed node run</c> processes, waits until K epochs have committed (every agent checks each commit
/// certificate and each of its receipts' inclusion), stops the coordinator with SIGTERM, checks every scroll offline
/// with <c>fed scroll verify</c>, and exits 0 — or 1 naming what failed.
/// </summary>
public static class DemoLiveCommand
{
    public const string Federation = "live";

    public static Command Build(CliConsole console)
    {
        var nodes = new Option<int>("--nodes") { Description = "How many node agents to run (1 to 64)", DefaultValueFactory = _ => 4 };
        var epochs = new Option<int>("--epochs") { Description = "How many epochs must commit (1 to 1000)", DefaultValueFactory = _ => 3 };
        var output = new Option<string>("--out") { Description = "A new directory for the federation's keys, settings and data", DefaultValueFactory = _ => "demo-live" };
        var command = new Command("live", "Start fed serve and N fed node run processes on loopback, wait for K committed epochs, check everything offline") { nodes, epochs, output };
        command.SetAction((parse, ct) => console.RunAsync(() => RunAsync(console, parse.GetValue(nodes), parse.GetValue(epochs), parse.GetValue(output)!, ct)));
        return command;
    }

    private static async Task<int> RunAsync(CliConsole console, int nodeCount, int epochs, string directory, CancellationToken ct)
    {
        if (nodeCount is < 1 or > 64 || epochs is < 1 or > 1000)
        {
            return console.Unusable("--nodes must be 1 to 64 and --epochs 1 to 1000");
        }

        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
        {
            return console.Unusable($"--out {directory} exists and is not empty: the live demo starts from a fresh directory");
        }

        var dir = Path.GetFullPath(directory);
        var names = Enumerable.Range(1, nodeCount).Select(i => $"n{i}").ToList();
        var settings = Write(dir, names);
        var trust = Path.Combine(dir, "trust.json");
        var say = new Action<string>(line =>
        {
            lock (console.Out)
            {
                console.Out.WriteLine(line);
                console.Out.Flush();
            }
        });
        var port = SiloSettings.FreePort();
        var url = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        if (await RunFedAsync(say, "trust", ["node", "trust", "--federation", Federation, "--settings", settings, "--out", trust], ct) != 0)
        {
            return console.Fail("fed node trust failed");
        }

        say($"federation \"{Federation}\" with {nodeCount} nodes and 4 validators in {dir}");
        var serverLog = new StringBuilder();
        var server = FedProcess.Start("serve", ["serve", "--settings", settings, "--urls", url], (_, line) => { lock (serverLog) { serverLog.AppendLine(line); } });
        try
        {
            if (!await server.WaitHealthyAsync(url, TimeSpan.FromSeconds(60), ct))
            {
                return console.Fail($"fed serve did not answer {url}/healthz within 60 s: {serverLog}");
            }

            say($"fed serve is serving {url} (dashboard: {url}/dashboard, API: {url}/openapi/v1.json)");
            var agents = names.Select(name => FedProcess.Start(name,
                ["node", "run", "--coordinator", url, "--federation", Federation, "--key", Path.Combine(dir, "nodes", name + ".key"), "--trust", trust,
                 "--cache-dir", Path.Combine(dir, "cache"), "--poll", "0.25", "--epochs", epochs.ToString(CultureInfo.InvariantCulture)],
                (agent, line) =>
                {
                    // The first agent tells the story; every agent's refusals and outages are shown.
                    if (agent.Name == "n1" && line.Contains(" committed (", StringComparison.Ordinal) || line.Contains("refused", StringComparison.Ordinal)
                        || line.Contains("offline", StringComparison.Ordinal) || line.StartsWith("fed:", StringComparison.Ordinal))
                    {
                        say($"  {agent.Name}: {line}");
                    }
                })).ToList();
            var failed = new List<string>();
            foreach (var agent in agents)
            {
                var exit = await agent.WaitForExitAsync(TimeSpan.FromSeconds(60 + (epochs * 10)), ct);
                if (exit != 0)
                {
                    failed.Add($"{agent.Name} {(exit is null ? "did not finish in time" : $"exited {exit}")}");
                }

                await agent.DisposeAsync();
            }

            server.Terminate();
            var served = await server.WaitForExitAsync(TimeSpan.FromSeconds(60), ct);
            if (failed.Count > 0 || served != 0)
            {
                return console.Fail($"live demo failed: {string.Join("; ", failed.Append(served != 0 ? $"fed serve exited {served?.ToString(CultureInfo.InvariantCulture) ?? "late"}" : null).OfType<string>())}\n{serverLog}");
            }

            say($"{epochs} epoch(s) committed; every agent checked each commit certificate and the inclusion of each of its receipts; fed serve stopped");
        }
        finally
        {
            await server.DisposeAsync();
        }

        // Offline, with nothing running: every scroll of the federation verifies from its files and its public key alone.
        var data = Path.Combine(dir, "data");
        foreach (var scroll in FederationScrolls.All(Federation).Append("anchors"))
        {
            if (scroll != FederationScrolls.Updates(Federation) && scroll != FederationScrolls.Governance(Federation) && !Directory.Exists(Path.Combine(data, "receipts", scroll)))
            {
                continue; // nothing was refused (verification), no anchor cycle ran yet (every 5 s)
            }

            if (await RunFedAsync(say, scroll, ["scroll", "verify", "--scroll", scroll, "--data-dir", data], ct) != 0)
            {
                return console.Fail($"scroll {scroll} does not verify offline");
            }
        }

        say($"live demo OK: run it again by hand with `fed serve --settings {settings}` and `fed node run --coordinator {url} --federation {Federation} --key {Path.Combine(dir, "nodes", "n1.key")} --trust {trust}`");
        return ExitCodes.Ok;
    }

    /// <summary>The federation's keys, one per node under <c>nodes/</c>, and the coordinator's settings.</summary>
    private static string Write(string dir, IReadOnlyList<string> names)
    {
        var fingerprints = new List<KeyFingerprint>();
        foreach (var name in names)
        {
            using var key = Ed25519PrivateKey.Generate();
            KeyFiles.WriteKeyPair(Path.Combine(dir, "nodes", name + ".key"), key);
            fingerprints.Add(key.Fingerprint);
        }

        return LocalFederation.Write(dir, Federation, 8, fingerprints, """
              "Epochs": { "Grace": "00:00:01", "CheckInterval": "00:00:00.200" },
              "Anchors": { "Interval": "00:00:05" },
            """);
    }

    /// <summary>Runs one fed command to its end, its output shown indented.</summary>
    private static async Task<int?> RunFedAsync(Action<string> say, string name, string[] args, CancellationToken ct)
    {
        await using var process = FedProcess.Start(name, args, (_, line) => say($"  {line}"));
        return await process.WaitForExitAsync(TimeSpan.FromSeconds(120), ct);
    }
}

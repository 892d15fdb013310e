using System.CommandLine;
using System.Text.Json.Nodes;
using Federation.Agent;
using Federation.Core.Canonical;
using Federation.Core.Crypto;
using Federation.Core.Signing;
using Federation.Grains.Services;
using Federation.Storage.Keys;

namespace Federation.Cli.Commands;

/// <summary>
/// <c>fed node run</c>: a node agent process (<see cref="NodeAgent"/>); <c>fed node trust</c>: the trust file an operator
/// gives its nodes (the governance, scroll and validator public keys of a federation); <c>fed node register</c>: register
/// nodes with a running coordinator, one key or a registry file, with an operator token.
/// </summary>
public static class NodeCommand
{
    /// <summary>The names <c>--fault</c> takes.</summary>
    private static readonly Dictionary<string, AgentFault> Faults = new(StringComparer.Ordinal)
    {
        ["equivocate"] = AgentFault.Equivocate,
        ["lie-head"] = AgentFault.LieHead,
        ["divergent"] = AgentFault.Divergent,
        ["flood"] = AgentFault.Flood,
    };

    public static Command Build(CliConsole console)
    {
        var node = new Command("node", "Run a node agent, write the trust file nodes need, register nodes with a coordinator");
        node.Subcommands.Add(Run(console));
        node.Subcommands.Add(Trust(console));
        node.Subcommands.Add(Register(console));
        return node;
    }

    private static Command Run(CliConsole console)
    {
        var coordinators = new Option<string>("--coordinator") { Description = "The coordinator's URL, or several comma-separated (the agent fails over between them)", Required = true };
        var federation = new Option<string>("--federation") { Description = "Federation id", Required = true };
        var key = new Option<string>("--key") { Description = "The node's private key file (fed keys generate)", Required = true };
        var trust = new Option<string>("--trust") { Description = "The federation's trust file (fed node trust): governance, scroll and validator public keys", Required = true };
        var cycle = new Option<string>("--cycle") { Description = "A command run each epoch: the state as JSON on stdin, the delta as JSON on stdout (default: a built-in synthetic cycle)" };
        var cycleTimeout = new Option<double>("--cycle-timeout") { Description = "Seconds the --cycle command may take", DefaultValueFactory = _ => 60 };
        var cache = new Option<string>("--cache-dir") { Description = "Where the agent keeps its session and unacknowledged signed updates", DefaultValueFactory = _ => "node-cache" };
        var poll = new Option<double>("--poll") { Description = "Seconds between asking for the open epoch", DefaultValueFactory = _ => 1 };
        var offline = new Option<double>("--offline-cycle") { Description = "While no coordinator answers, seconds between local cycles (each update cached)", DefaultValueFactory = _ => 5 };
        var epochs = new Option<long?>("--epochs") { Description = "Exit 0 once this many epochs have committed (default: run until SIGTERM or Ctrl-C)" };
        var faults = new Option<string>("--fault") { Description = "Misbehave, to see the coordinator catch it: equivocate, lie-head, divergent, flood (comma-separated)" };
        var command = new Command("run", "Run a node agent: join, then every epoch load the checked global state, run a local cycle, submit, heartbeat, check receipts")
        {
            coordinators, federation, key, trust, cycle, cycleTimeout, cache, poll, offline, epochs, faults,
        };
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            var urls = new List<Uri>();
            foreach (var text in parse.GetValue(coordinators)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                {
                    return console.Unusable($"--coordinator: \"{text}\" is not an http:// or https:// URL");
                }

                urls.Add(uri);
            }

            if (urls.Count == 0)
            {
                return console.Unusable("--coordinator names no URL");
            }

            var fault = AgentFault.None;
            foreach (var name in (parse.GetValue(faults) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Faults.TryGetValue(name, out var one))
                {
                    return console.Unusable($"--fault: \"{name}\" is not a fault ({string.Join(", ", Faults.Keys)})");
                }

                fault |= one;
            }

            if (parse.GetValue(poll) is not (> 0 and <= 3600) || parse.GetValue(offline) is not (> 0 and <= 86400) || parse.GetValue(cycleTimeout) is not (> 0 and <= 86400))
            {
                return console.Unusable("--poll, --offline-cycle and --cycle-timeout are positive numbers of seconds");
            }

            var roots = TrustRoots.Read(parse.GetValue(trust)!);
            using var nodeKey = KeyFiles.ReadPrivateKey(parse.GetValue(key)!);
            ILocalCycle localCycle = parse.GetValue(cycle) is { Length: > 0 } program
                ? new ExternalCycle(program, TimeSpan.FromSeconds(parse.GetValue(cycleTimeout)))
                : new SyntheticCycle();
            var options = new AgentOptions(urls, parse.GetValue(federation)!, roots, parse.GetValue(cache)!, localCycle,
                TimeSpan.FromSeconds(parse.GetValue(poll)), TimeSpan.FromSeconds(parse.GetValue(offline)), fault, parse.GetValue(epochs));
            using var agent = new NodeAgent(options, nodeKey, line =>
            {
                lock (console.Out)
                {
                    console.Out.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} {line}");
                    console.Out.Flush();
                }
            });
            console.Out.WriteLine($"node {agent.Node} federating with {options.Federation} at {string.Join(", ", urls)} (cache {Path.GetFullPath(options.CacheDirectory)})");
            console.Out.Flush();
            try
            {
                await agent.RunAsync(ct);
            }
            catch (AgentStoppedException ex)
            {
                return console.Fail(ex.Message);
            }

            console.Out.WriteLine(ct.IsCancellationRequested
                ? $"stopped: {agent.Acknowledged.Count} receipts acknowledged, {agent.Acknowledged.Count(a => a.Included)} checked included"
                : $"done: {options.StopAfterEpochs} epochs committed; {agent.Acknowledged.Count} receipts acknowledged, {agent.Acknowledged.Count(a => a.Included)} checked included");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Trust(CliConsole console)
    {
        var options = new CoordinatorCliOptions();
        var output = new Option<string>("--out") { Description = "Where to write the trust file (fed-trust/v1 without a plan key)", Required = true };
        var command = new Command("trust", "Write the trust file a federation's nodes pass to fed node run: its governance, scroll and validator public keys") { output };
        options.AddTo(command);
        command.SetAction(parse => console.Run(() =>
        {
            var (configuration, baseDirectory) = CoordinatorSession.LoadSettings(parse.GetValue(options.Settings));
            var id = parse.GetValue(options.Federation)!;
            using var federations = FederationsConfiguration.Load(configuration, baseDirectory);
            if (!federations.Contains(id))
            {
                return console.Unusable($"federation \"{id}\" is not in the settings (its federations: {string.Join(", ", federations.Ids.Order(StringComparer.Ordinal))})");
            }

            var (validators, _) = ValidatorsConfiguration.Load(configuration, baseDirectory, federations);
            using (validators)
            {
                var set = validators.SetOf(id);
                var scrollKey = CoordinatorHost.ScrollKeyPath(configuration, baseDirectory, CoordinatorHost.DataDirectoryOf(configuration, baseDirectory, parse.GetValue(options.DataDir)));
                var roots = new TrustRoots(federations.Get(id).RequireGovernanceKey().PublicKey, null, PublicKeyOf(scrollKey),
                    set.Ids.ToDictionary(v => v, v => set.KeyOf(v)!, StringComparer.Ordinal));
                var path = parse.GetValue(output)!;
                Federation.Storage.Files.DurableFile.WriteAtomic(path, CanonicalJson.Write(roots.ToJson()));
                console.Out.WriteLine($"wrote {path}: governance {roots.Governance.Fingerprint.Short}, scroll {roots.Scroll.Fingerprint.Short}, validators {string.Join(", ", set.Ids)}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>A key file's public key: the <c>.pub</c> beside a private key if there is one, else the private key's.</summary>
    private static Ed25519PublicKey PublicKeyOf(string keyFile)
    {
        if (File.Exists(keyFile + ".pub"))
        {
            return KeyFiles.ReadPublicKey(keyFile + ".pub");
        }

        using var key = KeyFiles.ReadPrivateKey(keyFile);
        return key.PublicKey;
    }

    private static Command Register(CliConsole console)
    {
        var coordinator = new Option<string>("--coordinator") { Description = "The coordinator's URL", Required = true };
        var federation = new Option<string>("--federation") { Description = "Federation id", Required = true };
        var tokenFile = new Option<string>("--token-file") { Description = "A file holding an operator token (default: $FED_TOKEN)" };
        var pub = new Option<string[]>("--pub") { Description = "A node's public key file (repeatable)", AllowMultipleArgumentsPerToken = true };
        var registry = new Option<string>("--registry") { Description = "A registry file: {\"nodes\": [{\"fingerprint\", \"capabilities\", \"trust_level\"?, \"sync_policy\"?}]}" };
        var capabilities = new Option<string>("--capabilities") { Description = "Capabilities of the --pub nodes, comma-separated", DefaultValueFactory = _ => string.Join(",", NodeAgent.DefaultCapabilities) };
        var command = new Command("register", "Register nodes with a running coordinator (operator token): --pub keys or a --registry file") { coordinator, federation, tokenFile, pub, registry, capabilities };
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            var token = parse.GetValue(tokenFile) is { } file ? File.ReadAllText(file).Trim() : Environment.GetEnvironmentVariable("FED_TOKEN");
            if (string.IsNullOrEmpty(token))
            {
                return console.Unusable("no operator token: pass --token-file FILE or set FED_TOKEN");
            }

            var keys = parse.GetValue(pub) ?? [];
            if ((keys.Length > 0) == (parse.GetValue(registry) is not null))
            {
                return console.Unusable("pass either --pub FILE… or --registry FILE");
            }

            JsonObject body;
            if (parse.GetValue(registry) is { } registryFile)
            {
                body = CanonicalJson.Parse(CliConsole.ReadInput(registryFile, Federation.Service.NodeApi.MaxBodyBytes)) as JsonObject
                    ?? throw new FormatException($"registry file {registryFile} is not a JSON object");
            }
            else
            {
                var caps = parse.GetValue(capabilities)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                body = new JsonObject
                {
                    ["nodes"] = new JsonArray([.. keys.Select(k => (JsonNode?)new JsonObject
                    {
                        ["fingerprint"] = KeyFiles.ReadPublicKey(k).Fingerprint.ToString(),
                        ["capabilities"] = new JsonArray([.. caps.Select(c => (JsonNode?)c)]),
                    })]),
                };
            }

            if (!Uri.TryCreate(parse.GetValue(coordinator), UriKind.Absolute, out var root) || root.Scheme is not ("http" or "https"))
            {
                return console.Unusable($"--coordinator: \"{parse.GetValue(coordinator)}\" is not an http:// or https:// URL");
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(root, $"v1/federations/{Uri.EscapeDataString(parse.GetValue(federation)!)}/nodes"))
            {
                Content = new ByteArrayContent(CanonicalJson.Write(body)),
            };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request, ct);
            var answer = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                var problem = answer.StartsWith('{') ? JsonNode.Parse(answer) : null;
                return console.Fail($"registration refused ({(int)response.StatusCode} {problem?["code"]}): {problem?["detail"] ?? answer}");
            }

            console.Out.WriteLine($"registered {JsonNode.Parse(answer)!["registered"]} node(s) with {parse.GetValue(federation)} at {root}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}

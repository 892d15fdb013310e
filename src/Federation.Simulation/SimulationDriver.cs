using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Merkle;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Grains;
using Federation.Grains.Services;
using Federation.Hosting;
using Federation.Hosting.Configuration;
using Federation.Hosting.Persistence;
using Federation.Hosting.Reminders;
using Federation.Hosting.Scheduling;
using Federation.Storage.Governance;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;

namespace Federation.Simulation;

/// <summary>One check of a run (docs/formats/scenario.md lists them).</summary>
public sealed record InvariantResult(string Name, bool Pass, string Detail)
{
    public JsonObject ToJson() => new() { ["name"] = Name, ["pass"] = Pass, ["detail"] = Detail };
}

/// <summary>What the driver hands back from inside the simulation: the plan (unsigned), the report and the numbers.</summary>
/// <param name="EpochsWallClock">Wall-clock time spent in epochs (submissions through commit), joins excluded: the benchmark's measure. Never written to an artifact.</param>
internal sealed record DriverResult(JsonObject Plan, JsonObject Report, IReadOnlyList<InvariantResult> Invariants, int EpochsCommitted, int ViewChanges, int Quarantines, long Acknowledged, TimeSpan VirtualTime, TimeSpan EpochsWallClock);

/// <summary>
/// The client side of a simulated federation, run inside <see cref="SimulationScheduler.Run{T}"/>: starts the real
/// grains on memory providers, joins nodes through the handshake, submits each epoch's signed updates (with the
/// scenario's faults) through the <see cref="IngestGateway"/>, runs each epoch on the <see cref="IEpochGrain"/>,
/// anchors every scroll, then collects the plan and checks the invariants.
/// </summary>
internal sealed class SimulationDriver(Scenario scenario, long seed, SimulationKeys keys, MemoryScrollVolume volume, SimulationScheduler scheduler, string outDirectory, TextWriter progress)
{
    /// <summary>Virtual time between the close of one epoch and the first update of the next.</summary>
    public static readonly TimeSpan EpochSpacing = TimeSpan.FromSeconds(30);

    private const double OutlierValue = 50;
    private static readonly string[] Capabilities = ["ingest.v1", "delta.vector.v1"];

    private readonly Random _random = new(BitConverter.ToInt32(SimulationKeys.DeriveSeed(scenario.Name, seed, "driver", 0)));
    private readonly List<SimNode> _nodes = [];
    private readonly List<(int Node, long Epoch, string Kind, UpdateAck Ack)> _acks = [];
    private readonly List<EpochReport> _reports = [];
    private readonly Dictionary<long, List<(string Validator, Sha256Digest? Digest)>> _validatorDigests = [];
    private readonly JsonArray _networkEvents = [];
    private readonly JsonArray _crashes = [];
    private readonly System.Diagnostics.Stopwatch _epochsWallClock = new();
    private readonly Dictionary<int, long> _quarantinedAt = [];
    private string Fed => scenario.Federation;

    private sealed class SimNode(int index, Ed25519PrivateKey key)
    {
        public int Index => index;

        public Ed25519PrivateKey Key => key;

        public string? Block { get; set; }

        public List<(long Epoch, byte[] Message)> Cached { get; } = [];

        public byte[]? Previous { get; set; }
    }

    private sealed record Submission(int Node, long Epoch, string Kind, byte[] Message);

    public static FederationPolicy PolicyOf(Scenario scenario) =>
        new(scenario.Federation, AggregationKind.Vector, ["ingest.v1"], VectorDimension: scenario.Dimension);

    public async Task<DriverResult> RunAsync()
    {
        var clock = scheduler.Clock;
        var federations = new FederationDirectory([new FederationSettings
        {
            Policy = PolicyOf(scenario),
            GovernanceKey = keys.Copy(SimulationKeys.Governance),
            InactivityTimeout = TimeSpan.FromDays(1),
        }]);
        var validators = new ValidatorDirectory { ViewTimeout = TimeSpan.FromSeconds(1), MaxViewChanges = 6 };
        validators.Add(Fed, Enumerable.Range(0, scenario.Validators)
            .Select(i => new ValidatorSettings(ValidatorId(i), keys.Copy(SimulationKeys.Validator, i), BehaviourOf(i))).ToList(), AggregationPolicy.DefaultVector);
        var governanceLog = new GovernanceLog(Path.Combine(outDirectory, GovernanceLog.FileName));
        var grainStorage = new MemoryGrainStorage();
        var reminders = new MemoryReminderTable();
        // The driver closes every epoch itself: the schedule's own checks stay out of the way.
        var epochOptions = new EpochOptions { Grace = TimeSpan.FromDays(1), Deadline = TimeSpan.FromDays(2), CheckInterval = TimeSpan.FromDays(1) };

        // Grain state, reminders and scrolls outlive a host: a crash loses only what was in memory of the activations.
        async Task<(GrainHost Host, LedgerDirectory Ledgers)> StartHostAsync()
        {
            var ledgers = new LedgerDirectory(new MemoryScrollStore(volume), keys.Copy(SimulationKeys.Scroll), new ScrollLedgerOptions(), clock);
            var host = new GrainHostBuilder()
                .UseSimulation(scheduler)
                .Configure<GrainStorageOptions>(o =>
                {
                    o.StorageProvider = GrainStorageOptions.MemoryProvider;
                    o.ReminderProvider = GrainStorageOptions.MemoryProvider;
                })
                // An epoch whose view changes double up to MaxViewChanges outlasts the default 30 s call timeout (virtual time).
                .Configure<GrainMessagingOptions>(o => o.CallTimeout = TimeSpan.FromHours(1))
                .AddGrainStorage(GrainStorageOptions.DefaultStorageName, grainStorage)
                .UseReminderTable(reminders)
                .AddFederationGrains(federations, ledgers, validators, governanceLog, epochOptions)
                .Build();
            await host.StartAsync(CancellationToken.None);
            return (host, ledgers);
        }

        var (host, ledgers) = await StartHostAsync();
        try
        {
            var grains = host.GrainFactory;
            var gateway = new IngestGateway(grains, federations);
            var federation = grains.GetGrain<IFederationGrain>(Fed);
            for (var i = 0; i < scenario.Nodes; i++)
            {
                _nodes.Add(new SimNode(i, keys.Get(SimulationKeys.Node, i)));
            }

            await federation.RegisterNodesAsync(_nodes.Select(n => new NodeRegistration(n.Key.Fingerprint, TrustLevel.Federated, SyncPolicy.Bidirectional, Capabilities)).ToList());
            for (long epoch = 1; epoch <= scenario.Epochs; epoch++)
            {
                await Task.WhenAll(_nodes.Where(n => scenario.JoinEpochOf(n.Index) == epoch).Select(n => JoinAsync(federation, n)));
                foreach (var liar in _nodes.Where(n => scenario.HasFault(n.Index, NodeFaultKind.LyingLedgerHead, epoch) && n.Block is not null))
                {
                    await LieAboutLedgerHeadAsync(grains, gateway, liar, epoch);
                }

                _epochsWallClock.Start();
                var info = await federation.GetEpochAsync();
                var (first, second) = ApplyNetwork(Submissions(info, epoch));
                await SubmitAsync(gateway, first);
                if (scenario.CoordinatorCrashesIn(epoch))
                {
                    // Killed between two waves: no graceful stop; a new host recovers from storage and the scrolls.
                    host.Kill();
                    await host.DisposeAsync();
                    await ledgers.DisposeAsync();
                    (host, ledgers) = await StartHostAsync();
                    grains = host.GrainFactory;
                    gateway = new IngestGateway(grains, federations);
                    federation = grains.GetGrain<IFederationGrain>(Fed);
                    progress.WriteLine(Invariant($"epoch {epoch}: coordinator crashed after {first.Count} submission(s) and restarted"));
                    _crashes.Add(new JsonObject { ["epoch"] = epoch, ["after_submissions"] = first.Count });
                }

                await SubmitAsync(gateway, second);

                var report = await grains.GetGrain<IEpochGrain>(Fed).RunAsync();
                _epochsWallClock.Stop();
                _reports.Add(report);
                foreach (var node in report.Quarantined)
                {
                    var index = _nodes.FindIndex(n => n.Key.Fingerprint.ToString() == node);
                    _quarantinedAt.TryAdd(index, epoch);
                }

                var digests = new List<(string, Sha256Digest?)>();
                for (var v = 0; v < scenario.Validators; v++)
                {
                    digests.Add((ValidatorId(v), await grains.GetGrain<IValidatorGrain>($"{Fed}/{ValidatorId(v)}").CommittedAsync(report.Epoch)));
                }

                _validatorDigests[report.Epoch] = digests;
                progress.WriteLine(Invariant($"epoch {epoch}/{scenario.Epochs}: {report.State.ToString().ToLowerInvariant()}{(report.Reason is null ? string.Empty : " (" + report.Reason + ")")}; included {report.Included}, excluded {report.Excluded}, view {report.View}, quarantined {report.Quarantined.Count}, validators flagged {report.Evidence.Count}"));
                if (report.State != EpochState.Committed)
                {
                    break; // the federation halts safely; liveness reports it
                }

                await Task.Delay(EpochSpacing, clock);
            }

            // Anchor every scroll of the federation (SPEC A: artifacts/merkle/meta_M5.merk), then seal the anchoring scroll.
            var anchors = new AnchorFile(Path.Combine(outDirectory, "merkle", "meta_M5.merk"));
            var anchorScroll = await ledgers.GetAsync(AnchorCycle.AnchorScroll);
            foreach (var scroll in ScrollsOf(Fed))
            {
                var anchored = await AnchorCycle.RunAsync(await ledgers.GetAsync(scroll), anchors, anchorScroll, clock);
                if (anchored.Outcome is AnchorOutcome.Failure or AnchorOutcome.Divergence)
                {
                    throw new InvalidOperationException($"anchoring {scroll} failed: {anchored.Detail}");
                }
            }

            await anchorScroll.SealAsync();
            var result = await CollectAsync(grains, ledgers, anchors);
            return result;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
            await host.DisposeAsync();
            await ledgers.DisposeAsync();
            federations.Dispose();
            validators.Dispose();
        }
    }

    public static IReadOnlyList<string> ScrollsOf(string federation) =>
        [FederationScrolls.Governance(federation), FederationScrolls.Membership(federation), FederationScrolls.Updates(federation), FederationScrolls.Verification(federation)];

    public static string ValidatorId(int index) => "v" + index.ToString(CultureInfo.InvariantCulture);

    private ValidatorBehaviour BehaviourOf(int validator) =>
        scenario.ValidatorFaultList.FirstOrDefault(f => f.Validator == validator)?.Behaviour ?? ValidatorBehaviour.Honest;

    private async Task JoinAsync(IFederationGrain federation, SimNode node)
    {
        var reply = await federation.HelloAsync(Sign(FederationHello.Create(Fed, node.Key.Fingerprint, "1.0", Capabilities, "n" + node.Index.ToString(CultureInfo.InvariantCulture)), node.Key));
        if (!reply.Accepted)
        {
            throw new InvalidOperationException($"node {node.Index} was not accepted: {reply.Code}: {reply.Message}");
        }

        var accept = SignedEnvelope.Parse(reply.Accept!);
        var session = accept.PayloadAs<FederationAccept>();
        var completed = await federation.CompleteSessionAsync(Sign(SessionAck.Create(Fed, node.Key.Fingerprint, session.SessionId, Sha256Digest.Of(accept.SignedBytes)), node.Key));
        if (!completed.Active)
        {
            throw new InvalidOperationException($"node {node.Index} could not complete its session: {completed.Code}: {completed.Message}");
        }

        node.Block = completed.LedgerBlockId;
    }

    /// <summary>A heartbeat whose root contradicts the coordinator's membership scroll at a size it holds.</summary>
    private async Task LieAboutLedgerHeadAsync(IGrainFactory grains, IngestGateway gateway, SimNode node, long epoch)
    {
        var scroll = FederationScrolls.Membership(Fed);
        var head = await grains.GetGrain<IScrollGrain>(scroll).HeadAsync();
        var lie = Sha256Digest.Of(Encoding.UTF8.GetBytes(Invariant($"lying head of node {node.Index} in epoch {epoch}")));
        var ack = await gateway.HeartbeatAsync(Fed, node.Key.Fingerprint, Sign(Heartbeat.Create(Fed, node.Key.Fingerprint, scroll, head.Size, lie, epoch), node.Key));
        if (ack.EvidenceReceipt is not null)
        {
            _quarantinedAt.TryAdd(node.Index, epoch);
        }
    }

    private List<Submission> Submissions(EpochInfo info, long epoch)
    {
        var submissions = new List<Submission>();
        foreach (var node in _nodes.Where(n => n.Block is not null))
        {
            if (scenario.HasFault(node.Index, NodeFaultKind.Crashed, epoch))
            {
                continue;
            }

            var honest = Update(node, epoch, info, Values(node.Index, epoch));
            if (scenario.HasFault(node.Index, NodeFaultKind.Partitioned, epoch))
            {
                node.Cached.Add((epoch, honest)); // keeps running its local cycle; resends on reconnection
                continue;
            }

            foreach (var (cachedEpoch, cached) in node.Cached)
            {
                submissions.Add(new Submission(node.Index, cachedEpoch, "cached", cached));
            }

            node.Cached.Clear();
            if (scenario.HasFault(node.Index, NodeFaultKind.StaleEpoch, epoch) && node.Previous is not null)
            {
                submissions.Add(new Submission(node.Index, epoch - 1, "stale_replay", node.Previous));
            }

            if (scenario.HasFault(node.Index, NodeFaultKind.BadSignature, epoch))
            {
                submissions.Add(new Submission(node.Index, epoch, "bad_signature", CorruptSignature(honest)));
                continue;
            }

            if (scenario.HasFault(node.Index, NodeFaultKind.WrongHash, epoch))
            {
                var (payload, _) = UpdateDelta.Vector(Values(node.Index, epoch)).Encode();
                var wrong = Sha256Digest.Of(Encoding.UTF8.GetBytes(Invariant($"wrong hash {node.Index} {epoch}")));
                submissions.Add(new Submission(node.Index, epoch, "wrong_hash", Sign(MetaUpdate.Create(Fed, epoch, node.Key.Fingerprint, wrong, node.Block!, info.BaseStates[epoch], payload), node.Key)));
                continue;
            }

            var message = scenario.HasFault(node.Index, NodeFaultKind.Divergent, epoch)
                ? Update(node, epoch, info, Enumerable.Repeat(OutlierValue, scenario.Dimension).ToArray())
                : honest;
            submissions.Add(new Submission(node.Index, epoch, scenario.HasFault(node.Index, NodeFaultKind.Divergent, epoch) ? "divergent" : "update", message));
            node.Previous = message;
            if (scenario.HasFault(node.Index, NodeFaultKind.Equivocation, epoch))
            {
                var values = Values(node.Index, epoch);
                values[0] += 0.5;
                submissions.Add(new Submission(node.Index, epoch, "equivocation", Update(node, epoch, info, values)));
            }
        }

        return submissions;
    }

    /// <summary>Network faults: dropped submissions are resent in a second wave, duplicates sent twice, the order shuffled.</summary>
    private (List<Submission> First, List<Submission> Second) ApplyNetwork(List<Submission> submissions)
    {
        var network = scenario.NetworkFaultsOrNone;
        var first = new List<Submission>();
        var second = new List<Submission>();
        foreach (var submission in submissions)
        {
            if (network.Drop > 0 && _random.NextDouble() < network.Drop)
            {
                second.Add(submission);
                _networkEvents.Add(NetworkEvent("dropped_then_resent", submission));
            }
            else
            {
                first.Add(submission);
            }

            if (network.Duplicate > 0 && _random.NextDouble() < network.Duplicate)
            {
                second.Add(submission);
                _networkEvents.Add(NetworkEvent("duplicated", submission));
            }
        }

        if (network.Reorder)
        {
            _random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(first));
            _random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(second));
        }

        return (first, second);
    }

    private JsonObject NetworkEvent(string kind, Submission submission) => new()
    {
        ["kind"] = kind,
        ["node"] = _nodes[submission.Node].Key.Fingerprint.ToString(),
        ["epoch"] = submission.Epoch,
        ["message"] = submission.Kind,
    };

    private async Task SubmitAsync(IngestGateway gateway, List<Submission> submissions)
    {
        var acks = await Task.WhenAll(submissions.Select(s => gateway.SubmitAsync(Fed, s.Message)));
        for (var i = 0; i < submissions.Count; i++)
        {
            _acks.Add((submissions[i].Node, submissions[i].Epoch, submissions[i].Kind, acks[i]));
            if (acks[i].EvidenceReceipt is not null)
            {
                _quarantinedAt.TryAdd(submissions[i].Node, submissions[i].Epoch);
            }
        }
    }

    /// <summary>An honest node's local result: the same for everyone up to a small per-node jitter that does not grow with the federation.</summary>
    private double[] Values(int node, long epoch) =>
        Enumerable.Range(0, scenario.Dimension).Select(d => 1 + (0.01 * d) + (0.0001 * epoch) + (((((long)node * 7919) + (epoch * 104_729) + d) % 100) * 1e-5)).ToArray();

    private byte[] Update(SimNode node, long epoch, EpochInfo info, double[] values)
    {
        var (payload, hash) = UpdateDelta.Vector(values).Encode();
        return Sign(MetaUpdate.Create(Fed, epoch, node.Key.Fingerprint, hash, node.Block!, info.BaseStates[epoch], payload), node.Key);
    }

    private byte[] CorruptSignature(byte[] signed)
    {
        var json = (JsonObject)CanonicalJson.Parse(signed)!;
        var bytes = new byte[64];
        _random.NextBytes(bytes);
        json["signature"]!["value"] = Convert.ToBase64String(bytes);
        return CanonicalJson.Write(json);
    }

    private static byte[] Sign<T>(T payload, Ed25519PrivateKey key) => SignedEnvelope.Sign(payload, new Ed25519Signer(key)).ToCanonicalJson();

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private async Task<DriverResult> CollectAsync(IGrainFactory grains, LedgerDirectory ledgers, AnchorFile anchors)
    {
        var governance = await ledgers.GetAsync(FederationScrolls.Governance(Fed));
        var updates = await ledgers.GetAsync(FederationScrolls.Updates(Fed));
        var governanceReceipts = await ReadAsync(governance);
        var updateReceipts = await ReadAsync(updates);
        var set = Enumerable.Range(0, scenario.Validators).Select(i => (ValidatorId(i), keys.Get(SimulationKeys.Validator, i).PublicKey)).ToList();
        var validatorSet = new ValidatorSet(set);

        // Nodes at the end of the run.
        var views = new Dictionary<int, NodeView?>();
        foreach (var node in _nodes)
        {
            views[node.Index] = await grains.GetGrain<INodeGrain>(NodeKey.For(Fed, node.Key.Fingerprint)).GetAsync();
        }

        var epochs = new JsonArray();
        var validity = new List<string>();
        foreach (var report in _reports)
        {
            epochs.Add(EpochJson(report, governanceReceipts, updateReceipts, validity));
        }

        var quarantines = new JsonArray();
        foreach (var node in _nodes.Where(n => views[n.Index]?.Record.Status == NodeStatus.Quarantined))
        {
            quarantines.Add(new JsonObject
            {
                ["node"] = node.Key.Fingerprint.ToString(),
                ["epoch"] = _quarantinedAt.TryGetValue(node.Index, out var at) ? at : null,
                ["reason"] = views[node.Index]!.Record.StatusReason,
                ["evidence_receipt"] = views[node.Index]!.QuarantineEvidence,
            });
        }

        var flags = new JsonArray();
        foreach (var id in _reports.SelectMany(r => r.Evidence))
        {
            var receipt = governanceReceipts[(int)ParseSeq(id)];
            flags.Add(new JsonObject { ["validator"] = receipt.Body["validator"]!.GetValue<string>(), ["evidence_receipt"] = id });
        }

        var checkpoints = new JsonArray();
        foreach (var scroll in ScrollsOf(Fed).Append(AnchorCycle.AnchorScroll))
        {
            var ledger = await ledgers.GetAsync(scroll);
            await ledger.SealAsync();
            checkpoints.Add(new JsonObject
            {
                ["scroll"] = scroll,
                ["size"] = ledger.LatestCheckpoint?.Size ?? 0,
                ["root"] = ledger.LatestCheckpoint?.Root.ToString(),
                ["checkpoint"] = ledger.LatestCheckpointNote,
            });
        }

        var committed = _reports.Count(r => r.State == EpochState.Committed);
        var plan = new JsonObject
        {
            ["format"] = FederatedPlan.Format,
            ["phase"] = "M5",
            ["federation_id"] = Fed,
            ["scenario"] = scenario.Name,
            ["seed"] = seed,
            ["policy_hash"] = PolicyOf(scenario).Hash().ToString(),
            ["governance_key"] = keys.Get(SimulationKeys.Governance).PublicKey.ToHex(),
            ["scroll_key"] = keys.Get(SimulationKeys.Scroll).PublicKey.ToHex(),
            ["scroll_origin_prefix"] = ScrollLedgerOptions.DefaultOriginPrefix,
            ["nodes"] = new JsonArray(_nodes.Select(n => (JsonNode?)new JsonObject
            {
                ["fingerprint"] = n.Key.Fingerprint.ToString(),
                ["public_key"] = n.Key.PublicKey.ToHex(),
                ["joined_epoch"] = n.Block is null ? null : scenario.JoinEpochOf(n.Index),
                ["ledger_block_id"] = n.Block,
                ["status"] = views[n.Index]?.Record.Status.ToString().ToLowerInvariant(),
            }).ToArray()),
            ["validators"] = new JsonArray(set.Select(v => (JsonNode?)new JsonObject { ["id"] = v.Item1, ["public_key"] = v.Item2.ToHex() }).ToArray()),
            ["fault_tolerance"] = validatorSet.F,
            ["epochs"] = epochs,
            ["quarantines"] = quarantines,
            ["validator_flags"] = flags,
            ["consensus_passed"] = committed == scenario.Epochs,
            ["checkpoints"] = checkpoints,
        };

        var invariants = new List<InvariantResult>
        {
            Agreement(),
            new("validity", validity.Count == 0, validity.Count == 0 ? $"every included update of {committed} committed epoch(s) is an accepted, validly signed update of a node active in that epoch" : Summarise(validity)),
            Detection(views, flags),
            Liveness(committed, validatorSet),
            await NothingLostAsync(ledgers, anchors, updates),
        };

        var simReport = new JsonObject
        {
            ["format"] = "fed-sim-report/v1",
            ["scenario"] = scenario.Name,
            ["seed"] = seed,
            ["federation_id"] = Fed,
            ["faults"] = FaultsJson(),
            ["epochs"] = new JsonArray(_reports.Select(r => (JsonNode?)new JsonObject
            {
                ["epoch"] = r.Epoch,
                ["state"] = r.State.ToString().ToLowerInvariant(),
                ["reason"] = r.Reason,
                ["view"] = r.View,
                ["included"] = r.Included,
                ["excluded"] = r.Excluded,
                ["quarantined"] = new JsonArray(r.Quarantined.Select(q => (JsonNode?)JsonValue.Create(q)).ToArray()),
            }).ToArray()),
            ["submissions"] = new JsonObject
            {
                ["total"] = _acks.Count,
                ["acknowledged"] = _acks.Count(a => a.Ack.Acknowledged),
                ["refused"] = new JsonObject(_acks.Where(a => !a.Ack.Acknowledged).GroupBy(a => a.Ack.Code ?? "unknown").OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Count()))),
            },
            ["virtual_seconds"] = Math.Round(scheduler.Clock.Elapsed.TotalSeconds, 3),
            ["invariants"] = new JsonArray(invariants.Select(i => (JsonNode?)i.ToJson()).ToArray()),
        };

        return new DriverResult(plan, simReport, invariants, committed, _reports.Sum(r => (int)r.View), quarantines.Count, _acks.Count(a => a.Ack.Acknowledged), scheduler.Clock.Elapsed, _epochsWallClock.Elapsed);
    }

    private JsonObject FaultsJson() => new()
    {
        ["byzantine_nodes"] = new JsonArray(scenario.NodeFaultList.Select(f => (JsonNode?)new JsonObject
        {
            ["node"] = _nodes[f.Node].Key.Fingerprint.ToString(),
            ["index"] = f.Node,
            ["kind"] = Snake(f.Kind.ToString()),
            ["epochs"] = new JsonArray(f.Epochs.Select(e => (JsonNode?)e).ToArray()),
        }).ToArray()),
        ["byzantine_validators"] = new JsonArray(scenario.ValidatorFaultList.Select(f => (JsonNode?)new JsonObject
        {
            ["validator"] = ValidatorId(f.Validator),
            ["behaviour"] = Snake(f.Behaviour.ToString()),
            ["epochs"] = "all",
        }).ToArray()),
        ["network"] = _networkEvents.DeepClone(),
        ["coordinator_crashes"] = _crashes.DeepClone(),
    };

    private static string Snake(string name) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(name);

    private static long ParseSeq(string receiptId) => long.Parse(receiptId[(receiptId.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);

    private static async Task<List<Receipt>> ReadAsync(ScrollLedger ledger)
    {
        var receipts = new List<Receipt>();
        await foreach (var (_, line) in ledger.ReadAsync(0, ledger.Size))
        {
            receipts.Add(Receipt.Parse(line));
        }

        return receipts;
    }

    /// <summary>One epoch of the plan, rebuilt from the sealed decision and its epoch_alignment receipts; checks validity on the way.</summary>
    private JsonObject EpochJson(EpochReport report, List<Receipt> governance, List<Receipt> updates, List<string> validity)
    {
        var json = new JsonObject
        {
            ["epoch"] = report.Epoch,
            ["state"] = report.State.ToString().ToLowerInvariant(),
            ["reason"] = report.Reason,
            ["view"] = report.View,
        };
        if (report.State != EpochState.Committed)
        {
            return json;
        }

        var decision = governance[(int)ParseSeq(report.CommitReceipt!)];
        var proposal = decision.Body["proposal"]!.AsObject();
        var alignmentHash = Sha256Digest.Parse(proposal["alignment_hash"]!.GetValue<string>());
        var leaves = new List<(int Index, long Seq, KeyFingerprint Node, Sha256Digest UpdateHash)>();
        foreach (var chunk in decision.Body["alignment_receipts"]!.AsArray())
        {
            foreach (var u in governance[(int)ParseSeq(chunk!.GetValue<string>())].Body["updates"]!.AsArray())
            {
                leaves.Add(((int)u!["index"]!.GetValue<double>(), (long)u["seq"]!.GetValue<double>(), KeyFingerprint.Parse(u["node"]!.GetValue<string>()), Sha256Digest.Parse(u["update_hash"]!.GetValue<string>())));
            }
        }

        var tree = new MerkleTree();
        leaves.ForEach(l => tree.AppendData(AlignmentResult.LeafData(l.Seq, l.Node, l.UpdateHash)));
        if (leaves.Count > 0 && tree.Root() != alignmentHash)
        {
            validity.Add($"epoch {report.Epoch}: the sealed alignment leaves do not rebuild the alignment hash");
        }

        var proofs = new JsonArray();
        foreach (var leaf in leaves)
        {
            proofs.Add(new JsonObject
            {
                ["index"] = leaf.Index,
                ["seq"] = leaf.Seq,
                ["node"] = leaf.Node.ToString(),
                ["update_hash"] = leaf.UpdateHash.ToString(),
                ["leaf_hash"] = tree.LeafHash(leaf.Index).ToString(),
                ["proof"] = new JsonArray(tree.InclusionProof(leaf.Index, tree.Size).Select(p => (JsonNode?)JsonValue.Create(p.ToString())).ToArray()),
            });
            CheckValidity(report.Epoch, leaf.Seq, leaf.Node, leaf.UpdateHash, updates, validity);
        }

        json["digest"] = report.Digest!.Value.ToString();
        json["decision_receipt"] = report.CommitReceipt;
        json["base_state_hash"] = proposal["base_state_hash"]!.DeepClone();
        json["alignment_hash"] = alignmentHash.ToString();
        json["aggregate_hash"] = proposal["aggregate_hash"]!.DeepClone();
        json["new_state_hash"] = proposal["new_state_hash"]!.DeepClone();
        json["included"] = proposal["included"]!.DeepClone();
        json["excluded"] = proposal["excluded"]!.DeepClone();
        json["quarantined"] = new JsonArray(proposal["quarantined"]!.AsArray().Select(q =>
        {
            var entry = q!.DeepClone().AsObject();
            var hash = q["evidence_hash"]!.GetValue<string>();
            entry["evidence_receipt"] = governance.FirstOrDefault(r => r.Tags.Contains("evidence") && r.Body["evidence_hash"]?.GetValue<string>() == hash)?.Id;
            return (JsonNode?)entry;
        }).ToArray());
        json["aggregate"] = decision.Body["aggregate"]!.DeepClone();
        json["proposal_digest"] = Sha256Digest.Of(CanonicalJson.Write(proposal)).ToString();
        json["commit_certificate"] = decision.Body["commit_certificate"]!.DeepClone();
        json["alignment_proofs"] = proofs;
        json["validator_flags"] = new JsonArray(report.Evidence.Select(e => (JsonNode?)JsonValue.Create(e)).ToArray());
        return json;
    }

    private void CheckValidity(long epoch, long seq, KeyFingerprint node, Sha256Digest updateHash, List<Receipt> updates, List<string> validity)
    {
        var index = _nodes.FindIndex(n => n.Key.Fingerprint == node);
        if (index < 0 || seq >= updates.Count)
        {
            validity.Add($"epoch {epoch}: included update at seq {seq} of {node.Short} names no simulated node or receipt");
            return;
        }

        var receipt = updates[(int)seq];
        if (receipt.Type != UpdateReceipts.AcceptedType || receipt.Node != node.ToString() || (long)receipt.Body["federated_epoch"]!.GetValue<double>() != epoch
            || receipt.Body["update_hash"]!.GetValue<string>() != updateHash.ToString())
        {
            validity.Add($"epoch {epoch}: included update {receipt.Id} is not the accepted on-time update of {node.Short} it claims");
        }

        var signed = SignedEnvelope.Parse(receipt.Body["update"]!.ToJsonString());
        if (!signed.Verify(Ed25519Verifier.Trusting(_nodes[index].Key.PublicKey)).IsValid)
        {
            validity.Add($"epoch {epoch}: included update {receipt.Id} is not validly signed by {node.Short}");
        }

        if (_quarantinedAt.TryGetValue(index, out var at) && at <= epoch && !(at == epoch && !scenario.HasFault(index, NodeFaultKind.Equivocation, epoch) && !scenario.HasFault(index, NodeFaultKind.LyingLedgerHead, epoch)))
        {
            validity.Add($"epoch {epoch}: included an update of node {node.Short}, quarantined in epoch {at}");
        }

        if (scenario.JoinEpochOf(index) > epoch)
        {
            validity.Add($"epoch {epoch}: included an update of node {node.Short}, which joins in epoch {scenario.JoinEpochOf(index)}");
        }
    }

    private InvariantResult Agreement()
    {
        var honest = Enumerable.Range(0, scenario.Validators).Where(v => BehaviourOf(v) == ValidatorBehaviour.Honest).Select(ValidatorId).ToHashSet();
        var problems = new List<string>();
        foreach (var report in _reports)
        {
            var committed = _validatorDigests[report.Epoch].Where(d => honest.Contains(d.Validator) && d.Digest is not null).ToList();
            if (committed.Select(d => d.Digest).Distinct().Count() > 1 || (report.Digest is { } digest && committed.Any(d => d.Digest != digest)))
            {
                problems.Add($"epoch {report.Epoch}: honest validators committed {string.Join(", ", committed.Select(d => $"{d.Validator}={d.Digest}"))}, the decision says {report.Digest}");
            }
        }

        return new("agreement", problems.Count == 0, problems.Count == 0 ? $"in every epoch every honest validator that committed ({honest.Count} honest) committed the decision's digest" : Summarise(problems));
    }

    private InvariantResult Detection(Dictionary<int, NodeView?> views, JsonArray flags)
    {
        var problems = new List<string>();
        var evidenceFaults = scenario.NodeFaultList.Where(f => f.Kind is NodeFaultKind.Equivocation or NodeFaultKind.LyingLedgerHead && f.Epochs.Any(e => e <= _reports.Count)).Select(f => f.Node).Distinct();
        foreach (var node in evidenceFaults)
        {
            if (scenario.JoinEpochOf(node) <= _reports.Count && views[node]?.Record.Status != NodeStatus.Quarantined)
            {
                problems.Add($"node {node} ({_nodes[node].Key.Fingerprint.Short}) misbehaved with cryptographic evidence but is {views[node]?.Record.Status.ToString().ToLowerInvariant() ?? "unknown"}");
            }
        }

        var faulty = scenario.NodeFaultList.Select(f => f.Node).ToHashSet();
        foreach (var node in _nodes.Where(n => !faulty.Contains(n.Index) && views[n.Index]?.Record.Status == NodeStatus.Quarantined))
        {
            problems.Add($"honest node {node.Index} ({node.Key.Fingerprint.Short}) was quarantined: {views[node.Index]!.Record.StatusReason}");
        }

        var byzantineValidators = scenario.ValidatorFaultList.Select(f => ValidatorId(f.Validator)).ToHashSet();
        foreach (var flag in flags)
        {
            var validator = flag!["validator"]!.GetValue<string>();
            if (!byzantineValidators.Contains(validator))
            {
                problems.Add($"honest validator {validator} was flagged ({flag["evidence_receipt"]})");
            }
        }

        var quarantined = views.Count(v => v.Value?.Record.Status == NodeStatus.Quarantined);
        return new("detection", problems.Count == 0, problems.Count == 0
            ? $"{quarantined} node(s) quarantined, every one with evidence among the faulty; {flags.Count} validator flag(s), all Byzantine; no honest node or validator punished"
            : Summarise(problems));
    }

    private static string Summarise(List<string> problems) =>
        string.Join("; ", problems.Take(10)) + (problems.Count > 10 ? $"; … {problems.Count - 10} more" : string.Empty);

    private InvariantResult Liveness(int committed, ValidatorSet set)
    {
        var faulty = scenario.ValidatorFaultList.Count;
        if (faulty > set.F)
        {
            return new("liveness", true, $"{faulty} faulty validators exceed f = {set.F}: liveness not required ({committed} of {scenario.Epochs} epochs committed)");
        }

        return new("liveness", committed == scenario.Epochs, $"{committed} of {scenario.Epochs} epochs committed with {faulty} ≤ f = {set.F} faulty validators"
            + (committed == scenario.Epochs ? string.Empty : ": " + string.Join("; ", _reports.Where(r => r.State != EpochState.Committed).Select(r => $"epoch {r.Epoch}: {r.Reason}"))));
    }

    private async Task<InvariantResult> NothingLostAsync(LedgerDirectory ledgers, AnchorFile anchors, ScrollLedger updates)
    {
        var problems = new List<string>();
        foreach (var (node, epoch, kind, ack) in _acks.Where(a => a.Ack.Acknowledged))
        {
            if (ack.Seq is not { } seq || seq >= updates.Size || updates.LeafHash(seq) != ack.LeafHash)
            {
                problems.Add($"the acknowledged {kind} of node {node} for epoch {epoch} ({ack.ReceiptId}) is not in the update scroll as acknowledged");
            }
        }

        long receipts = 0;
        foreach (var scroll in ScrollsOf(Fed).Append(AnchorCycle.AnchorScroll))
        {
            var ledger = await ledgers.GetAsync(scroll);
            var checkpoint = ledger.LatestCheckpoint;
            if (ledger.Size > 0 && (checkpoint is null || checkpoint.Size != ledger.Size))
            {
                problems.Add($"{scroll}: the final checkpoint covers {checkpoint?.Size ?? 0} of {ledger.Size} receipts");
                continue;
            }

            for (long i = 0; i < ledger.Size; i++)
            {
                var check = MerkleVerifier.VerifyInclusion(i, checkpoint!.Size, ledger.LeafHash(i), ledger.InclusionProof(i, checkpoint.Size), checkpoint.Root);
                if (!check.IsValid)
                {
                    problems.Add($"{scroll}: the inclusion proof of receipt {i} does not verify against the final checkpoint");
                }

                receipts++;
            }

            var verification = await ScrollMaintenance.VerifyAsync(ledger, scroll == AnchorCycle.AnchorScroll ? null : anchors);
            problems.AddRange(verification.Failures.Select(f => $"{scroll}: {f}"));
        }

        return new("nothing_lost", problems.Count == 0, problems.Count == 0
            ? $"{_acks.Count(a => a.Ack.Acknowledged)} acknowledged update(s) all sealed; {receipts} receipt inclusion proof(s) verify against the final checkpoints; checkpoints and anchors consistent"
            : Summarise(problems));
    }
}

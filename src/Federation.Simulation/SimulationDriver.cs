using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Simulation.Checking;
using Federation.Simulation.Composition;
using Federation.Storage.Governance;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;
using Microsoft.Extensions.Time.Testing;

namespace Federation.Simulation;

/// <summary>What the driver hands back: the run's neutral record, its checked invariants, the plan (unsigned) and the report.</summary>
/// <param name="EpochsWallClock">Wall-clock time spent in epochs (submissions through commit), joins excluded: the benchmark's measure. Never written to an artifact.</param>
public sealed record DriverResult(RunRecord Record, JsonObject Plan, JsonObject Report, IReadOnlyList<InvariantResult> Invariants, TimeSpan EpochsWallClock);

/// <summary>
/// The client side of a simulated federation (ARCHITECTURE.md, Determinism): the nodes (keys derived from the seed)
/// join through the handshake, submit each epoch's signed updates with the scenario's faults, cross a seeded network
/// (drops resent in a second wave, duplicates, reordering), and the coordinator — the Core state machines composed in
/// process (<see cref="SimulatedRun"/>) on a virtual clock — decides; a crash restarts it from its stores.
/// The same driver runs a scenario live against the grains on a cluster (another <see cref="IRunCoordinator"/>, whose
/// crash kills a silo). At the end every scroll is anchored, and the run's record is checked and turned into the plan
/// and the report.
/// </summary>
/// <param name="start">Starts the coordinator for the run's settings (its keys are <paramref name="keys"/>'; the coordinator copies what it owns).</param>
/// <param name="clock">The clock the coordinator decides by: the driver advances it between epochs.</param>
/// <summary>Where a run is: a phase ("epoch 2/4: submissions") and how far into it (for a progress display; never part of the artifacts).</summary>
public readonly record struct SimulationStep(string Phase, long Done, long Total);

/// <param name="step">Told where the run is as it goes (a terminal's progress display); null when nobody watches.</param>
public sealed class SimulationDriver(Scenario scenario, long seed, SimulationKeys keys, Func<CoordinatorSettings, Task<IRunCoordinator>> start, FakeTimeProvider clock, string outDirectory, TextWriter progress, Action<SimulationStep>? step = null)
{
    /// <summary>Virtual time between the close of one epoch and the first update of the next.</summary>
    public static readonly TimeSpan EpochSpacing = TimeSpan.FromSeconds(30);

    /// <summary>The view timer of the simulated validators (doubling with each view change) and the view changes before an epoch fails.</summary>
    public static readonly TimeSpan ViewTimeout = TimeSpan.FromSeconds(1);

    public const int MaxViewChanges = 6;

    private const double OutlierValue = 50;
    private static readonly string[] Capabilities = ["ingest.v1", "delta.vector.v1"];

    private readonly Random _random = new(BitConverter.ToInt32(SimulationKeys.DeriveSeed(scenario.Name, seed, "driver", 0)));
    private readonly List<SimNode> _nodes = [];
    private readonly List<SubmissionRun> _acks = [];
    private readonly List<EpochRun> _reports = [];
    private readonly Dictionary<long, IReadOnlyList<ValidatorCommit>> _validatorDigests = [];
    private readonly List<NetworkEventRun> _networkEvents = [];
    private readonly List<CoordinatorCrashRun> _crashes = [];
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

    public static string ValidatorId(int index) => RunRecord.ValidatorId(index);

    /// <summary>The coordinator's settings for a scenario: its policy, the seed's governance and validator keys (owned by <paramref name="keys"/>), the scenario's validator behaviours and the consensus timing.</summary>
    public static CoordinatorSettings SettingsOf(Scenario scenario, SimulationKeys keys) => new(
        PolicyOf(scenario),
        keys.Get(SimulationKeys.Governance),
        Enumerable.Range(0, scenario.Validators).Select(i => new SimulatedValidatorSettings(ValidatorId(i), keys.Get(SimulationKeys.Validator, i), BehaviourOf(scenario, i))).ToList(),
        AggregationPolicy.DefaultVector,
        ViewTimeout,
        MaxViewChanges);

    private static ValidatorBehaviour BehaviourOf(Scenario scenario, int validator) =>
        scenario.ValidatorFaultList.FirstOrDefault(f => f.Validator == validator)?.Behaviour ?? ValidatorBehaviour.Honest;

    public async Task<DriverResult> RunAsync()
    {
        var settings = SettingsOf(scenario, keys);
        // Scrolls and persisted state outlive a coordinator: a crash loses only what it held in memory.
        var coordinator = await start(settings);
        try
        {
            for (var i = 0; i < scenario.Nodes; i++)
            {
                _nodes.Add(new SimNode(i, keys.Get(SimulationKeys.Node, i)));
                Report("node keys", i + 1, scenario.Nodes);
            }

            await coordinator.RegisterNodesAsync(_nodes.Select(n => (n.Key.Fingerprint, TrustLevel.Federated, SyncPolicy.Bidirectional, (IReadOnlyList<string>)Capabilities)).ToList());
            for (long epoch = 1; epoch <= scenario.Epochs; epoch++)
            {
                var joining = _nodes.Where(n => scenario.JoinEpochOf(n.Index) == epoch).ToList();
                for (var j = 0; j < joining.Count; j++)
                {
                    await JoinAsync(coordinator, joining[j]);
                    Report(Invariant($"epoch {epoch}/{scenario.Epochs}: nodes joining"), j + 1, joining.Count);
                }

                foreach (var liar in _nodes.Where(n => scenario.HasFault(n.Index, NodeFaultKind.LyingLedgerHead, epoch) && n.Block is not null))
                {
                    await LieAboutLedgerHeadAsync(coordinator, liar, epoch);
                }

                _epochsWallClock.Start();
                var (first, second) = ApplyNetwork(Submissions(await coordinator.EpochAsync(), epoch));
                var phase = Invariant($"epoch {epoch}/{scenario.Epochs}: submissions");
                await SubmitAsync(coordinator, first, phase, 0, first.Count + second.Count);
                if (scenario.CoordinatorCrashesIn(epoch))
                {
                    // Killed between two waves: a new coordinator recovers from the stores.
                    coordinator = await coordinator.CrashAsync();
                    progress.WriteLine(Invariant($"epoch {epoch}: coordinator crashed after {first.Count} submission(s) and restarted"));
                    _crashes.Add(new CoordinatorCrashRun(epoch, first.Count));
                }

                await SubmitAsync(coordinator, second, phase, first.Count, first.Count + second.Count);
                Report(Invariant($"epoch {epoch}/{scenario.Epochs}: validators voting"), 0, 1);
                var report = await coordinator.RunEpochAsync();
                _epochsWallClock.Stop();
                _reports.Add(report);
                foreach (var node in report.Quarantined)
                {
                    _quarantinedAt.TryAdd(_nodes.FindIndex(n => n.Key.Fingerprint.ToString() == node), epoch);
                }

                var commits = new List<ValidatorCommit>();
                for (var v = 0; v < scenario.Validators; v++)
                {
                    commits.Add(new ValidatorCommit(ValidatorId(v), await coordinator.CommittedByAsync(v, report.Epoch)));
                }

                _validatorDigests[report.Epoch] = commits;
                progress.WriteLine(Invariant($"epoch {epoch}/{scenario.Epochs}: {RunReport.StateName(report.State)}{(report.Reason is null ? string.Empty : " (" + report.Reason + ")")}; included {report.Included}, excluded {report.Excluded}, view {report.View}, quarantined {report.Quarantined.Count}, validators flagged {report.ValidatorEvidence.Count}"));
                if (report.State != RunEpochState.Committed)
                {
                    break; // the federation halts safely; liveness reports it
                }

                clock.Advance(EpochSpacing);
            }

            // What the nodes came to, asked before the coordinator stops; then every scroll of the federation is anchored
            // (SPEC A: artifacts/merkle/meta_M5.merk) and the anchoring scroll sealed.
            var record = await RecordAsync(coordinator, settings);
            var ledgers = await coordinator.FinishAsync();
            var anchors = new AnchorFile(Path.Combine(outDirectory, "merkle", "meta_M5.merk"));
            var anchorScroll = await ledgers.GetAsync(AnchorCycle.AnchorScroll);
            foreach (var scroll in FederationScrolls.All(Fed))
            {
                var anchored = await AnchorCycle.RunAsync(await ledgers.GetAsync(scroll), anchors, anchorScroll, clock);
                if (anchored.Outcome is AnchorOutcome.Failure or AnchorOutcome.Divergence)
                {
                    throw new InvalidOperationException($"anchoring {scroll} failed: {anchored.Detail}");
                }
            }

            await anchorScroll.SealAsync();
            foreach (var scroll in RunLedgers.ScrollsOf(Fed))
            {
                await (await ledgers.GetAsync(scroll)).SealAsync();
            }

            var run = await RunLedgers.ReadAsync(ledgers, Fed);
            var invariants = await InvariantChecker.CheckAsync(record, run, anchors);
            var plan = await RunReport.PlanAsync(record, run);
            return new DriverResult(record, plan, RunReport.SimReport(record, invariants), invariants, _epochsWallClock.Elapsed);
        }
        finally
        {
            await coordinator.DisposeAsync();
        }
    }

    /// <summary>The run as the checker reads it: what every node, validator and submission came to.</summary>
    private async Task<RunRecord> RecordAsync(IRunCoordinator coordinator, CoordinatorSettings settings)
    {
        var nodes = new List<NodeRun>();
        foreach (var node in _nodes)
        {
            var standing = await coordinator.StandingAsync(node.Key.Fingerprint);
            nodes.Add(new NodeRun(node.Index, node.Key.PublicKey, node.Block, standing?.Status, standing?.StatusReason, standing?.EvidenceReceipt, _quarantinedAt.TryGetValue(node.Index, out var at) ? at : null));
        }

        return new RunRecord(scenario, seed, settings.Policy, keys.Get(SimulationKeys.Governance).PublicKey, keys.Get(SimulationKeys.Scroll).PublicKey, coordinator.ValidatorSet,
            nodes, _acks, _reports, _validatorDigests, _networkEvents, _crashes, clock.GetUtcNow() - FederationSimulator.VirtualStart);
    }

    private async Task JoinAsync(IRunCoordinator coordinator, SimNode node)
    {
        var reply = await coordinator.HelloAsync(Sign(FederationHello.Create(Fed, node.Key.Fingerprint, "1.0", Capabilities, "n" + node.Index.ToString(CultureInfo.InvariantCulture)), node.Key));
        if (!reply.Accepted)
        {
            throw new InvalidOperationException($"node {node.Index} was not accepted: {reply.Code}: {reply.Message}");
        }

        var accept = SignedEnvelope.Parse(reply.Accept!);
        var session = accept.PayloadAs<FederationAccept>();
        var completed = await coordinator.CompleteSessionAsync(Sign(SessionAck.Create(Fed, node.Key.Fingerprint, session.SessionId, Sha256Digest.Of(accept.SignedBytes)), node.Key));
        if (!completed.Active)
        {
            throw new InvalidOperationException($"node {node.Index} could not complete its session: {completed.Code}: {completed.Message}");
        }

        node.Block = completed.LedgerBlockId;
    }

    /// <summary>A heartbeat whose root contradicts the coordinator's membership scroll at a size it holds.</summary>
    private async Task LieAboutLedgerHeadAsync(IRunCoordinator coordinator, SimNode node, long epoch)
    {
        var scroll = FederationScrolls.Membership(Fed);
        var (size, _) = await coordinator.HeadAsync(scroll);
        var lie = Sha256Digest.Of(Encoding.UTF8.GetBytes(Invariant($"lying head of node {node.Index} in epoch {epoch}")));
        var ack = await coordinator.HeartbeatAsync(node.Key.Fingerprint, Sign(Heartbeat.Create(Fed, node.Key.Fingerprint, scroll, size, lie, epoch), node.Key));
        if (ack.EvidenceReceipt is not null)
        {
            _quarantinedAt.TryAdd(node.Index, epoch);
        }
    }

    private List<Submission> Submissions(EpochView info, long epoch)
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

    private NetworkEventRun NetworkEvent(string kind, Submission submission) => new(kind, submission.Node, submission.Epoch, submission.Kind);

    /// <summary>Delivers a wave of submissions to the coordinator one at a time, in the network's order: the order they are sealed in.</summary>
    private async Task SubmitAsync(IRunCoordinator coordinator, List<Submission> submissions, string phase, long before, long total)
    {
        foreach (var submission in submissions)
        {
            Report(phase, ++before, total);
            var ack = await coordinator.SubmitAsync(submission.Message);
            _acks.Add(new SubmissionRun(submission.Node, submission.Epoch, submission.Kind, ack.Disposition, ack.Code, ack.ReceiptId, ack.Seq, ack.LeafHash, ack.EvidenceReceipt));
            if (ack.EvidenceReceipt is not null)
            {
                _quarantinedAt.TryAdd(submission.Node, submission.Epoch);
            }
        }
    }

    /// <summary>At most one report per 256 steps (and the last): a progress display needs no more, a large run pays nothing.</summary>
    private void Report(string phase, long done, long total)
    {
        if (step is not null && (done % 256 == 0 || done == total))
        {
            step(new SimulationStep(phase, done, total));
        }
    }

    /// <summary>An honest node's local result: the same for everyone up to a small per-node jitter that does not grow with the federation.</summary>
    private double[] Values(int node, long epoch) =>
        Enumerable.Range(0, scenario.Dimension).Select(d => 1 + (0.01 * d) + (0.0001 * epoch) + (((((long)node * 7919) + (epoch * 104_729) + d) % 100) * 1e-5)).ToArray();

    private byte[] Update(SimNode node, long epoch, EpochView info, double[] values)
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
}

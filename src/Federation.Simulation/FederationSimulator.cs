using System.Diagnostics;
using System.Text;
using Federation.Core.Canonical;
using Federation.Core.Crypto;
using Federation.Simulation.Checking;
using Federation.Simulation.Composition;
using Federation.Storage.Files;
using Federation.Storage.Governance;
using Federation.Storage.Scrolls;
using Microsoft.Extensions.Time.Testing;

namespace Federation.Simulation;

/// <summary>The outcome of one run: the numbers of the summary table, the invariants and the run's record.</summary>
public sealed record SimulationSummary(
    string Scenario,
    long Seed,
    int Epochs,
    int EpochsCommitted,
    int ViewChanges,
    int Quarantines,
    long AcknowledgedUpdates,
    TimeSpan VirtualTime,
    TimeSpan WallClock,
    IReadOnlyList<InvariantResult> Invariants,
    TimeSpan EpochsWallClock = default,
    RunRecord? Record = null)
{
    public bool Passed => Invariants.All(i => i.Pass);

    public double UpdatesPerVirtualSecond => VirtualTime > TimeSpan.Zero ? AcknowledgedUpdates / VirtualTime.TotalSeconds : 0;

    public double UpdatesPerWallSecond => WallClock > TimeSpan.Zero ? AcknowledgedUpdates / WallClock.TotalSeconds : 0;
}

/// <summary>
/// SPEC A's <c>FederationSimulator</c>: runs a whole federation on the Core state machines the grains call, composed
/// in process (<see cref="SimulatedCoordinator"/>: one thread, the seeded network's order, a virtual clock, memory
/// stores, keys derived from the seed) and writes its artifacts, byte-identical for the same (scenario, seed).
/// </summary>
public static class FederationSimulator
{
    /// <summary>The virtual clock's start: a constant, so no wall-clock time reaches an artifact.</summary>
    public static readonly DateTimeOffset VirtualStart = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public const string ReportFileName = "sim-report.json";
    public const string KeysDirectoryName = "keys";

    /// <summary>What a run writes under its output directory (removed before a run so nothing stale survives).</summary>
    public static readonly string[] OutputEntries = ["mec", "receipts", "merkle", KeysDirectoryName, GovernanceLog.FileName, ReportFileName];

    /// <param name="progress">Receives one line per epoch (and crashes): the run's log.</param>
    /// <param name="step">Told where the run is as it goes, for a terminal's progress display; null when nobody watches.</param>
    public static SimulationSummary Run(Scenario scenario, long seed, string outDirectory, TextWriter progress, Action<SimulationStep>? step = null)
    {
        var wall = Stopwatch.StartNew();
        Clean(outDirectory);
        using var keys = new SimulationKeys(scenario.Name, seed);
        var volume = new MemoryScrollVolume();
        var store = new CoordinatorStore(volume, new GovernanceLog(Path.Combine(outDirectory, GovernanceLog.FileName)));
        var clock = new FakeTimeProvider();
        clock.SetUtcNow(VirtualStart);
        var driver = new SimulationDriver(scenario, seed, keys, settings => Task.FromResult<IRunCoordinator>(new SimulatedRun(settings, store, keys, clock)), clock, outDirectory, progress, step);
        var result = SimulationLoop.Run(driver.RunAsync);
        step?.Invoke(new SimulationStep("writing artifacts", 0, 1));

        ExportScrollsAsync(volume, outDirectory).GetAwaiter().GetResult();
        WriteKeys(scenario, keys, outDirectory);
        var planPath = Path.Combine(outDirectory, FederatedPlan.RelativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(planPath)!);
        result.Plan["plan_key"] = keys.Get(SimulationKeys.Plan).PublicKey.ToHex();
        DurableFile.WriteAtomic(planPath, Pretty(FederatedPlan.Sign(result.Plan, keys.Get(SimulationKeys.Plan))));
        DurableFile.WriteAtomic(Path.Combine(outDirectory, ReportFileName), Pretty(CanonicalJson.Write(result.Report)));
        wall.Stop();
        var record = result.Record;
        return new SimulationSummary(scenario.Name, seed, scenario.Epochs, record.Epochs.Count(e => e.State == RunEpochState.Committed), record.Epochs.Sum(e => (int)e.View),
            record.Nodes.Count(n => n.Status == Core.Membership.NodeStatus.Quarantined), record.Submissions.Count(s => s.Acknowledged), record.VirtualTime, wall.Elapsed, result.Invariants, result.EpochsWallClock, record);
    }

    /// <summary>Canonical JSON (RFC 8785) with a final newline: stable bytes, and what a verifier re-canonicalises anyway.</summary>
    private static byte[] Pretty(byte[] canonical) => [.. canonical, (byte)'\n'];

    private static void Clean(string outDirectory)
    {
        Directory.CreateDirectory(outDirectory);
        foreach (var entry in OutputEntries)
        {
            var path = Path.Combine(outDirectory, entry);
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else if (File.Exists(path))
            {
                File.Delete(path);
            }
        }

        foreach (var root in Directory.GetFiles(outDirectory, "ROOT.*.txt"))
        {
            File.Delete(root);
        }
    }

    /// <summary>The memory store's scrolls written in the file store's layout (docs/formats/scroll-storage.md), once, at the end.</summary>
    private static async Task ExportScrollsAsync(MemoryScrollVolume volume, string outDirectory)
    {
        var options = new ScrollStoreOptions { DataDirectory = outDirectory };
        await using var store = new FileScrollStore(options);
        foreach (var (scroll, lines, checkpoints) in volume.Snapshot())
        {
            await store.OpenAsync(scroll, (_, _) => { });
            for (var first = 0; first < lines.Count; first += options.MaxBatchLines)
            {
                await store.AppendAsync(scroll, lines.Skip(first).Take(options.MaxBatchLines).Select(line => (LineBuilder)(_ => line)).ToList());
            }

            foreach (var checkpoint in checkpoints)
            {
                await store.AppendCheckpointAsync(scroll, checkpoint);
            }
        }
    }

    private static void WriteKeys(Scenario scenario, SimulationKeys keys, string outDirectory)
    {
        var directory = Path.Combine(outDirectory, KeysDirectoryName);
        Directory.CreateDirectory(directory);
        void Write(string name, Ed25519PublicKey key) => DurableFile.WriteAtomic(Path.Combine(directory, name + ".pub"), Encoding.UTF8.GetBytes(KeyPem.ExportPublicKey(key)));
        Write("plan", keys.Get(SimulationKeys.Plan).PublicKey);
        Write("governance", keys.Get(SimulationKeys.Governance).PublicKey);
        Write("scroll", keys.Get(SimulationKeys.Scroll).PublicKey);
        for (var i = 0; i < scenario.Validators; i++)
        {
            Write("validator-" + SimulationDriver.ValidatorId(i), keys.Get(SimulationKeys.Validator, i).PublicKey);
        }

        // Node keys are in the plan (fingerprint = public key); one file per node only for small federations.
        if (scenario.Nodes <= 100)
        {
            for (var i = 0; i < scenario.Nodes; i++)
            {
                Write("node-" + i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture), keys.Get(SimulationKeys.Node, i).PublicKey);
            }
        }
    }
}

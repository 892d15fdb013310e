using Federation.Simulation;
using Federation.Simulation.Checking;
using Federation.Simulation.Composition;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Federation.Live.Tests;

/// <summary>
/// Every scenario of simulations/, seed 1, run live: the same driver as the simulator (nodes, faults, the seeded
/// network) against the grains on a two-silo test cluster (the crash scenario kills the silo holding the update
/// scroll), checked by the same invariant checker. The live run must also come to the same decisions as the
/// deterministic simulation of the same (scenario, seed): which epochs commit, how many updates each includes and
/// excludes, which nodes end quarantined and which validators are flagged.
/// </summary>
public sealed class LiveScenarioTests(ITestOutputHelper output)
{
    private static IReadOnlyList<string> ScenarioNames() =>
        Directory.GetFiles(Path.Combine(SharedVectors.RepositoryRoot(), "simulations"), "*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToList()!;

    public static TheoryData<string> Scenarios() => new(ScenarioNames());

    [Fact]
    public void Every_scenario_of_the_repository_is_run_live() =>
        Assert.Equal<string>(["m5-baseline", "m5-byzantine", "m5-churn", "m5-crash", "m5-partition", "m5-scale"], ScenarioNames());

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task A_scenario_run_live_on_two_silos_keeps_every_invariant_and_decides_as_the_simulation_does(string name)
    {
        const long seed = 1;
        var scenario = Scenario.Load(Path.Combine(SharedVectors.RepositoryRoot(), "simulations", name + ".json"));
        using var data = new TempDirectory();
        using var keys = new SimulationKeys(scenario.Name, seed);
        var clock = new FakeTimeProvider();
        clock.SetUtcNow(FederationSimulator.VirtualStart);
        using var progress = new StringWriter();
        LiveCoordinator? live = null;
        var driver = new SimulationDriver(scenario, seed, keys, async settings => live = await LiveCoordinator.StartAsync(settings, keys, clock, data.File("coordinator")), clock, data.File("out"), progress);

        var result = await driver.RunAsync();
        output.WriteLine(progress.ToString());
        foreach (var invariant in result.Invariants)
        {
            output.WriteLine($"{invariant.Name}: {(invariant.Pass ? "pass" : "FAIL")} — {invariant.Detail}");
        }

        Assert.Equal(InvariantChecker.Names, result.Invariants.Select(i => i.Name));
        Assert.All(result.Invariants, i => Assert.True(i.Pass, $"{name} live: {i.Name}: {i.Detail}"));
        Assert.Equal(scenario.CoordinatorCrashes?.Count ?? 0, result.Record.Crashes.Count);
        Assert.Equal(result.Record.Crashes.Count, live!.SilosKilled);

        var simulated = Simulate(scenario, seed, data.File("sim"));
        Assert.Equal(Decisions(simulated), Decisions(result.Record));
        Assert.Equal(simulated.Submissions.Count(s => s.Acknowledged), result.Record.Submissions.Count(s => s.Acknowledged));
    }

    /// <summary>What the deterministic simulator records for the same (scenario, seed).</summary>
    private static RunRecord Simulate(Scenario scenario, long seed, string outDirectory) =>
        FederationSimulator.Run(scenario, seed, outDirectory, TextWriter.Null).Record!;

    private static List<string> Decisions(RunRecord record) =>
    [
        .. record.Epochs.Select(e => $"epoch {e.Epoch}: {e.State}, included {e.Included}, excluded {e.Excluded}, quarantined {string.Join(",", e.Quarantined.Order(StringComparer.Ordinal))}, validator flags {e.ValidatorEvidence.Count}"),
        .. record.Nodes.Select(n => $"node {n.Index}: {n.Status}, quarantined at {n.QuarantinedAt}"),
    ];
}

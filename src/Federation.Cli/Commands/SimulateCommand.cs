using System.CommandLine;
using System.Globalization;
using Federation.Simulation;

namespace Federation.Cli.Commands;

/// <summary>
/// <c>fed simulate --scenario FILE [--seed N | --seeds A..B] [--out DIR]</c>: runs a whole federation on the Core
/// state machines composed in process (one thread, seeded network, virtual clock) and writes its artifacts (byte-identical per scenario and seed);
/// exit 1 when an invariant is violated.
/// </summary>
public static class SimulateCommand
{
    public const string DefaultOut = "artifacts";

    public static Command Build(CliConsole console)
    {
        var scenario = new Option<string>("--scenario") { Description = "Scenario file (JSON, docs/formats/scenario.md)", Required = true };
        var seed = new Option<long>("--seed") { Description = "Seed of the run", DefaultValueFactory = _ => 1 };
        var seeds = new Option<string?>("--seeds") { Description = "Seed sweep A..B: runs every seed, lists the ones that violate an invariant" };
        var output = new Option<string>("--out") { Description = "Output directory", DefaultValueFactory = _ => DefaultOut };
        var maxBytes = new Option<long>("--max-scenario-bytes") { Description = "Refuse a scenario file larger than this (default 16 MiB)", DefaultValueFactory = _ => Scenario.DefaultMaxBytes };
        var command = new Command("simulate", "Simulate a federation (honest and faulty nodes and validators) and write signed artifacts") { scenario, seed, seeds, output, maxBytes };
        command.SetAction(parse => console.Run(() =>
        {
            var file = parse.GetValue(scenario)!;
            var sweep = parse.GetValue(seeds);
            if (sweep is not null && parse.GetResult(seed) is { Implicit: false })
            {
                return console.Unusable("--seed and --seeds cannot be used together: --seed runs one seed, --seeds A..B sweeps a range");
            }

            var loaded = Scenario.Load(file, parse.GetValue(maxBytes), "--max-scenario-bytes");
            return sweep is null
                ? RunOne(console, loaded, parse.GetValue(seed), parse.GetValue(output)!)
                : Sweep(console, loaded, file, sweep, parse.GetValue(output)!);
        }));
        return command;
    }

    private static int RunOne(CliConsole console, Scenario scenario, long seed, string output)
    {
        console.Out.WriteLine(Invariant($"simulating {scenario.Name} (seed {seed}): {scenario.Nodes} nodes, {scenario.Validators} validators, {scenario.Epochs} epochs"));
        // On a terminal a live progress bar follows the run (keys, joins, submissions, votes) with the epoch lines above
        // it; in pipes and logs only the epoch lines.
        var summary = TerminalProgress.IsTerminal(console)
            ? RunUnder(Spectre.Console.AnsiConsole.Console, scenario, seed, output)
            : FederationSimulator.Run(scenario, seed, output, console.Out);
        PrintSummary(console.Out, summary);
        foreach (var invariant in summary.Invariants)
        {
            console.Out.WriteLine($"  [{(invariant.Pass ? "pass" : "FAIL")}] {invariant.Name}: {invariant.Detail}");
        }

        console.Out.WriteLine($"artifacts written under {output}");
        return summary.Passed ? ExitCodes.Ok : console.Fail($"seed {seed} violated {string.Join(", ", summary.Invariants.Where(i => !i.Pass).Select(i => i.Name))}");
    }

    /// <summary>One run under a live progress display on <paramref name="terminal"/>.</summary>
    public static SimulationSummary RunUnder(Spectre.Console.IAnsiConsole terminal, Scenario scenario, long seed, string output) =>
        TerminalProgress.Run(terminal, Invariant($"{scenario.Name} seed {seed}"), (lines, step) => FederationSimulator.Run(scenario, seed, output, lines, step));

    private static int Sweep(CliConsole console, Scenario scenario, string file, string range, string output)
    {
        var dots = range.Split("..");
        if (dots.Length != 2 || !long.TryParse(dots[0], CultureInfo.InvariantCulture, out var from) || !long.TryParse(dots[1], CultureInfo.InvariantCulture, out var to) || to < from || to - from >= 100_000)
        {
            return console.Unusable($"--seeds must be A..B with A ≤ B (at most 100,000 seeds), got \"{range}\"");
        }

        var failed = new List<(long Seed, string Invariants)>();
        for (var seed = from; seed <= to; seed++)
        {
            var directory = Path.Combine(output, "sweep", Invariant($"seed-{seed}"));
            var summary = FederationSimulator.Run(scenario, seed, directory, TextWriter.Null);
            var violated = string.Join(", ", summary.Invariants.Where(i => !i.Pass).Select(i => i.Name));
            console.Out.WriteLine(Invariant($"seed {seed}: {(summary.Passed ? "pass" : "FAIL " + violated)} ({summary.EpochsCommitted}/{summary.Epochs} epochs, {summary.ViewChanges} view changes, {summary.Quarantines} quarantines, {summary.WallClock.TotalSeconds:F2} s)"));
            if (!summary.Passed)
            {
                failed.Add((seed, violated));
            }
            else
            {
                Directory.Delete(directory, recursive: true); // a sweep keeps only the evidence of failing seeds
            }
        }

        console.Out.WriteLine(Invariant($"{to - from + 1} seed(s), {failed.Count} violated an invariant"));
        foreach (var (seed, violated) in failed)
        {
            console.Out.WriteLine(Invariant($"  seed {seed} ({violated}): replay with  fed simulate --scenario {file} --seed {seed} --out {Path.Combine(output, "replay")}  (its artifacts: {Path.Combine(output, "sweep", Invariant($"seed-{seed}"))})"));
        }

        return failed.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static void PrintSummary(TextWriter output, SimulationSummary summary)
    {
        output.WriteLine();
        output.WriteLine("  scenario            seed  epochs committed  view changes  quarantines  acked updates  updates/s (virtual)  updates/s (wall)");
        output.WriteLine(Invariant($"  {summary.Scenario,-18} {summary.Seed,5}  {summary.EpochsCommitted,7}/{summary.Epochs,-8} {summary.ViewChanges,12}  {summary.Quarantines,11}  {summary.AcknowledgedUpdates,13}  {summary.UpdatesPerVirtualSecond,19:F2}  {summary.UpdatesPerWallSecond,16:F1}"));
        output.WriteLine(Invariant($"  virtual time {summary.VirtualTime}, wall clock {summary.WallClock.TotalSeconds:F2} s"));
        output.WriteLine();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

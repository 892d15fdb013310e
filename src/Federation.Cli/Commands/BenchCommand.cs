using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Federation.Cli.Bench;

using Spectre.Console;

namespace Federation.Cli.Commands;

/// <summary><c>fed bench SUITE [--quick] [--json]</c>: the benchmark programs whose numbers docs/performance.md reports.</summary>
public static class BenchCommand
{
    /// <summary>Every suite; each issue that names figures adds its own here.</summary>
    private static IReadOnlyList<IBenchSuite> Suites() =>
    [
        new ScrollBenchSuite(),
        new GrainsBenchSuite(),
        new IngestBenchSuite(),
        new EpochBenchSuite(),
        new SimulateBenchSuite(),
        new HttpIngestBenchSuite(),
        new FailoverBenchSuite(),
    ];

    public static Command Build(CliConsole console)
    {
        var bench = new Command("bench", "Run a benchmark suite and print its results beside the raw limits measured in the same run");
        foreach (var suite in Suites())
        {
            var quick = new Option<bool>("--quick") { Description = "Smaller sizes; finishes within a minute" };
            var json = new Option<bool>("--json") { Description = "Print one JSON object (progress goes to stderr)" };
            var command = new Command(suite.Name, suite.Description) { quick, json };
            command.SetAction((parse, cancellationToken) => console.RunAsync(() => RunAsync(console, suite, parse.GetValue(quick), parse.GetValue(json), cancellationToken)));
            bench.Subcommands.Add(command);
        }

        bench.Subcommands.Add(IngestWorker(console));
        return bench;
    }

    /// <summary>The pinned child of <c>fed bench ingest</c> (hidden: started by the suite under taskset).</summary>
    private static Command IngestWorker(CliConsole console)
    {
        var nodes = new Option<int>("--nodes") { Required = true };
        var epochs = new Option<int>("--epochs") { Required = true };
        var cores = new Option<int>("--cores") { Required = true };
        var warmup = new Option<double>("--warmup-seconds") { DefaultValueFactory = _ => 0 };
        var command = new Command(IngestBenchSuite.WorkerCommand, "One pinned ingest measurement (used by `fed bench ingest`)") { nodes, epochs, cores, warmup };
        command.Hidden = true;
        command.SetAction(async (parse, cancellationToken) =>
        {
            var result = await IngestBenchSuite.MeasureAsync(parse.GetValue(nodes), parse.GetValue(epochs), TimeSpan.FromSeconds(parse.GetValue(warmup)), parse.GetValue(cores), $"taskset {parse.GetValue(cores)} core(s)", cancellationToken);
            console.Out.WriteLine(JsonSerializer.Serialize(result));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<int> RunAsync(CliConsole console, IBenchSuite suite, bool quick, bool json, CancellationToken cancellationToken)
    {
        // On a terminal a status line follows the suite (its progress lines printed above it); in pipes, plain lines on
        // stderr with --json (stdout stays one JSON object), else on stdout.
        var progress = json ? console.Error : console.Out;
        var terminal = json ? TerminalProgress.ErrorTerminal(console) : TerminalProgress.IsTerminal(console) ? AnsiConsole.Console : null;
        var report = terminal is null
            ? await suite.RunAsync(quick, progress, cancellationToken)
            : await TerminalProgress.RunAsync(terminal, $"bench {suite.Name}", lines => suite.RunAsync(quick, lines, cancellationToken));
        if (json)
        {
            console.Out.WriteLine(JsonSerializer.Serialize(report));
            return ExitCodes.Ok;
        }

        console.Out.WriteLine($"suite {report.Suite}");
        foreach (var result in report.Results)
        {
            var line = string.Create(CultureInfo.InvariantCulture, $"  {result.Name,-36} {result.Value,14:N2} {result.Unit}");
            if (result.Baseline is { } baseline)
            {
                line += string.Create(CultureInfo.InvariantCulture, $"   (baseline {baseline.Name}: {baseline.Value:N2} {baseline.Unit}; ratio {result.Ratio:0.###})");
            }

            console.Out.WriteLine(line);
        }

        return ExitCodes.Ok;
    }
}

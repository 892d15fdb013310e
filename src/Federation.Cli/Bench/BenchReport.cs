using System.Text.Json.Serialization;

namespace Federation.Cli.Bench;

/// <summary>
/// The JSON a benchmark suite prints with <c>--json</c>:
/// <c>{"suite", "results": [{"name", "value", "unit", "baseline": {"name", "value", "unit"}, "ratio"}]}</c>,
/// where each baseline is the raw limit measured in the same run and ratio = value / baseline.value
/// (for "lower is better" units the suite states which way the ratio reads in the name or unit).
/// </summary>
public sealed record BenchReport(
    [property: JsonPropertyName("suite")] string Suite,
    [property: JsonPropertyName("results")] IReadOnlyList<BenchResult> Results);

public sealed record BenchResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("value")] double Value,
    [property: JsonPropertyName("unit")] string Unit,
    [property: JsonPropertyName("baseline")] BenchBaseline? Baseline)
{
    [JsonPropertyName("ratio")]
    public double? Ratio => Baseline is { Value: > 0 } b ? Math.Round(Value / b.Value, 4) : null;
}

public sealed record BenchBaseline(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("value")] double Value,
    [property: JsonPropertyName("unit")] string Unit);

/// <summary>One suite of <c>fed bench</c>.</summary>
public interface IBenchSuite
{
    /// <summary>The suite name: the subcommand (<c>fed bench NAME</c>) and the JSON "suite".</summary>
    string Name { get; }

    string Description { get; }

    /// <param name="quick">Finish within a minute (smaller sizes, fewer repetitions).</param>
    /// <param name="progress">Human progress lines (stderr when --json is used).</param>
    Task<BenchReport> RunAsync(bool quick, TextWriter progress, CancellationToken cancellationToken);
}

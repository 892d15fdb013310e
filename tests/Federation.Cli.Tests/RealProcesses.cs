namespace Federation.Cli.Tests;

/// <summary>
/// The tests that run `fed serve` (with agents, a browser or a benchmark) as real processes: one at a time, so on a
/// two-core machine they do not starve each other (their timeouts are for one such test, not for four at once).
/// </summary>
[CollectionDefinition(Name)]
public sealed class RealProcesses
{
    public const string Name = "real processes";
}

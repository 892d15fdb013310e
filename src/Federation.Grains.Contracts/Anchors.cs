using Orleans.Concurrency;

namespace Federation.Grains;

/// <summary>
/// One scroll's outcome in an anchor cycle (SPEC E; docs/formats/anchors.md): <c>success</c>, <c>failure</c>,
/// <c>divergence</c> or <c>nothing_to_anchor</c>, the anchored size and root, and the receipt that records it.
/// </summary>
[GenerateSerializer, Immutable, Alias("fed.anchor-report.v1")]
public sealed record AnchorReport(
    [property: Id(0)] string Scroll,
    [property: Id(1)] string Outcome,
    [property: Id(2)] long Size,
    [property: Id(3)] string Detail,
    [property: Id(4)] string? Root,
    [property: Id(5)] string? Receipt,
    [property: Id(6)] DateTimeOffset At);

/// <summary>A federation's anchor status: how many cycles ran, when the last did, and each scroll's latest report.</summary>
[GenerateSerializer, Immutable, Alias("fed.anchor-status.v1")]
public sealed record AnchorStatus([property: Id(0)] long Cycles, [property: Id(1)] DateTimeOffset? LastCycle, [property: Id(2)] IReadOnlyList<AnchorReport> Scrolls);

/// <summary>Anchor cycles of one federation (key: the federation id): run on a schedule by the coordinator, or now by an operator.</summary>
public interface IAnchorGrain : IGrainWithStringKey
{
    /// <summary>One cycle over every scroll of the federation that exists: seal, check against the previous anchor, append, record.</summary>
    Task<IReadOnlyList<AnchorReport>> RunAsync();

    [ReadOnly]
    Task<AnchorStatus> StatusAsync();
}

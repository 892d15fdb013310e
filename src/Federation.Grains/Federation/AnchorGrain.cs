using Federation.Core.Scrolls;
using Federation.Grains.Services;
using Federation.Storage.Ledger;

namespace Federation.Grains.Federation;

/// <summary>Where a coordinator anchors and how often (<c>Anchors:File</c>, <c>Anchors:Interval</c>; 0 turns the schedule off).</summary>
public sealed class AnchorOptions
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(10);

    /// <summary>The anchor file (docs/formats/anchors.md); with several silos, a path they share.</summary>
    public required string AnchorFile { get; init; }

    public TimeSpan Interval { get; init; } = DefaultInterval;
}

/// <summary>Persisted anchor status of one federation (names are part of the storage format).</summary>
public sealed class AnchorState
{
    public long Cycles { get; set; }

    public DateTimeOffset? LastCycle { get; set; }

    public List<AnchorScrollState> Scrolls { get; set; } = [];
}

public sealed class AnchorScrollState
{
    public string Scroll { get; set; } = string.Empty;

    public string Outcome { get; set; } = string.Empty;

    public long Size { get; set; }

    public string Detail { get; set; } = string.Empty;

    public string? Root { get; set; }

    public string? Receipt { get; set; }

    public DateTimeOffset At { get; set; }
}

/// <summary>
/// Anchor cycles of one federation (SPEC E; key: the federation id). Each cycle asks every scroll of the federation that
/// exists to seal and extend its previous anchor (<see cref="IScrollGrain.AnchorAsync"/>), records each outcome as an
/// <c>anchor_*</c> receipt in the <c>anchors</c> scroll, and keeps the status. Not reentrant: one cycle at a time.
/// </summary>
[GrainType("anchor")]
public sealed class AnchorGrain(
    [PersistentState("anchor-status")] IPersistentState<AnchorState> state,
    FederationDirectory federations,
    LedgerDirectory ledgers,
    AnchorOptions options,
    TimeProvider time) : Grain, IAnchorGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        federations.Get(this.GetPrimaryKeyString()); // an unknown federation fails the call
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<AnchorReport>> RunAsync()
    {
        var existing = await ledgers.Store.ListScrollsAsync();
        var reports = new List<AnchorReport>();
        foreach (var scroll in FederationScrolls.All(this.GetPrimaryKeyString()).Where(s => existing.Contains(s, StringComparer.Ordinal)))
        {
            var report = await GrainFactory.GetGrain<IScrollGrain>(scroll).AnchorAsync(options.AnchorFile);
            var outcome = Enum.Parse<AnchorOutcome>(report.Outcome.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true);
            if (AnchorCycle.ReceiptFor(outcome, report.Scroll, report.Size, report.Detail, options.AnchorFile, report.Root) is { } draft)
            {
                var sealedReceipt = await GrainFactory.GetGrain<IScrollGrain>(AnchorCycle.AnchorScroll).AppendAsync(draft);
                report = report with { Receipt = sealedReceipt.Id };
            }

            reports.Add(report);
        }

        state.State.Cycles++;
        state.State.LastCycle = time.GetUtcNow();
        foreach (var report in reports)
        {
            state.State.Scrolls.RemoveAll(s => s.Scroll == report.Scroll);
            state.State.Scrolls.Add(new AnchorScrollState { Scroll = report.Scroll, Outcome = report.Outcome, Size = report.Size, Detail = report.Detail, Root = report.Root, Receipt = report.Receipt, At = report.At });
        }

        state.State.Scrolls.Sort((a, b) => string.CompareOrdinal(a.Scroll, b.Scroll));
        await state.WriteStateAsync();
        return reports;
    }

    public Task<AnchorStatus> StatusAsync() => Task.FromResult(new AnchorStatus(
        state.State.Cycles,
        state.State.LastCycle,
        [.. state.State.Scrolls.Select(s => new AnchorReport(s.Scroll, s.Outcome, s.Size, s.Detail, s.Root, s.Receipt, s.At))]));
}

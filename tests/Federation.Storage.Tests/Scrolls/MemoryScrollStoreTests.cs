using System.Text;
using Federation.Storage.Scrolls;

namespace Federation.Storage.Tests.Scrolls;

/// <summary>The scroll store contract on the in-memory store of simulations (file-only behaviours are in FileScrollStoreTests).</summary>
public sealed class MemoryScrollStoreTests : ScrollStoreContractTests
{
    private readonly MemoryScrollVolume _volume = new();

    protected override Task<ScrollStoreOptions> CreateOptionsAsync() => Task.FromResult(new ScrollStoreOptions());

    protected override IScrollStore CreateStore(ScrollStoreOptions options) => new MemoryScrollStore(_volume, options);

    protected override Task<IReadOnlyList<string>> QuarantinedLinesAsync(TruncateReport report)
    {
        var index = int.Parse(report.QuarantinedTo![(report.QuarantinedTo!.LastIndexOf('#') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return Task.FromResult<IReadOnlyList<string>>(new MemoryScrollStore(_volume).Quarantined(Scroll, index).Select(l => Encoding.UTF8.GetString(l)).ToList());
    }

    [Fact]
    public void Every_operation_completes_synchronously_so_simulations_keep_their_seeded_order()
    {
        var store = new MemoryScrollStore(_volume);
        Assert.True(store.OpenAsync(Scroll, (_, _) => { }).IsCompletedSuccessfully);
        Assert.True(store.AppendAsync(Scroll, [_ => "{\"a\":1}"u8.ToArray()]).IsCompletedSuccessfully);
        Assert.True(store.AppendCheckpointAsync(Scroll, new StoredCheckpoint(1, "note")).IsCompletedSuccessfully);
        Assert.True(store.TruncateAsync(Scroll, 0).IsCompletedSuccessfully);
    }
}

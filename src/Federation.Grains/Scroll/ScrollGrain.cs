using Federation.Core.Scrolls;
using Federation.Hosting;
using Federation.Storage.Ledger;

namespace Federation.Grains.Scroll;

/// <summary>
/// A scroll as a grain. Reentrant: while one append waits for its group commit, others join it (turn-based
/// appends would pay one fsync each). The ledger behind it orders and seals everything.
/// </summary>
[GrainType("scroll")]
[Reentrant]
public sealed class ScrollGrain(LedgerDirectory ledgers) : Grain, IScrollGrain
{
    public async Task<SealedReceiptView> AppendAsync(ReceiptDraft draft)
    {
        var ledger = await ledgers.GetAsync(GetPrimaryKeyString());
        var sealedReceipt = await ledger.AppendAsync(draft);
        return new SealedReceiptView(sealedReceipt.Id, sealedReceipt.Seq, sealedReceipt.LeafHash);
    }

    public async Task<ScrollHead> HeadAsync()
    {
        var ledger = await ledgers.GetAsync(GetPrimaryKeyString());
        var size = ledger.Size;
        return new ScrollHead(ledger.Scroll, size, ledger.Root(size), ledger.LatestCheckpointNote);
    }

    public async Task<InclusionBundle> ProveAsync(long index) => await (await ledgers.GetAsync(GetPrimaryKeyString())).ProveAsync(index);

    public async Task<string?> CheckpointAsync() => await (await ledgers.GetAsync(GetPrimaryKeyString())).SealAsync();
}

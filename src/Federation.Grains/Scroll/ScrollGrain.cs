using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Scrolls;
using Federation.Grains.Services;
using Federation.Storage.Ledger;
using SealedReceipt = Federation.Storage.Ledger.SealedReceipt;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Federation.Grains.Scroll;

/// <summary>
/// A scroll as a grain, and the one writer of it in the cluster: the activation opens the scroll's ledger (verifying what
/// is stored) and every append and read goes through it. Reentrant: while one append waits for its group commit, others
/// join it (turn-based appends would pay one fsync each); the ledger orders and seals. An update scroll also keeps the
/// index of its sealed updates by node and epoch, rebuilt from the scroll on activation — the scroll is the durable
/// truth, the index its per-activation view — so acknowledging an update costs one durable write: the receipt.
/// </summary>
[GrainType("scroll")]
[Reentrant]
public sealed partial class ScrollGrain(LedgerDirectory ledgers, EpochHints epochs, TimeProvider time, ILogger<ScrollGrain> logger) : Grain, IScrollGrain
{
    private ScrollLedger _ledger = null!;
    private FederationUpdates? _updates;
    private string? _federationId; // an update scroll's federation

    // An update scroll: the epoch state updates are admitted under, and the seals in flight under it.
    private EpochInfo? _epoch;
    private readonly HashSet<Task> _sealing = [];

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var scroll = this.GetPrimaryKeyString();
        _ledger = await ledgers.OpenAsync(scroll);
        if (_ledger.UnauthenticatedTail is { } tail)
        {
            LogUnauthenticatedTail(scroll, tail.Reason, tail.Count, tail.QuarantinedTo);
        }

        try
        {
            if (scroll.EndsWith(".updates", StringComparison.Ordinal))
            {
                _updates = await RecordedUpdatesReader.ReadAsync(_ledger);
                _federationId = scroll[..^".updates".Length];
                _epoch = epochs.Heard(_federationId, await GrainFactory.GetGrain<IFederationGrain>(_federationId).GetEpochAsync());
            }
        }
        catch
        {
            // A failed activation is not deactivated: close the ledger here, or the next activation finds it still open.
            await _ledger.DisposeAsync();
            throw;
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A graceful deactivation seals what the group commits made durable, so the next activation starts from a checkpoint.
        if (!_ledger.IsHalted && _ledger.CanSign)
        {
            await _ledger.SealAsync(cancellationToken);
        }

        await _ledger.DisposeAsync();
    }

    public async Task<SealedReceiptView> AppendAsync(ReceiptDraft draft)
    {
        var sealedReceipt = await _ledger.AppendAsync(draft);
        return new SealedReceiptView(sealedReceipt.Id, sealedReceipt.Seq, sealedReceipt.LeafHash);
    }

    public async Task<IReadOnlyList<UpdateSealing>> AppendUpdatesAsync(IReadOnlyList<UpdateSeal> seals)
    {
        if (_updates is null)
        {
            throw new InvalidOperationException($"{_ledger.Scroll} is not an update scroll");
        }

        // Each seal is prepared and handed to the ledger in turn (so the group commit takes them together), then all are awaited.
        var sealing = new Task<UpdateSealing>[seals.Count];
        for (var i = 0; i < seals.Count; i++)
        {
            sealing[i] = SealAsync(_updates, seals[i].Update, seals[i].Late, seals[i].DecidedUnderOpen, seals[i].DecidedUnderClosing);
        }

        return await Task.WhenAll(sealing);
    }

    private async Task<UpdateSealing> SealAsync(FederationUpdates updates, VerifiedUpdate update, bool late, long decidedUnderOpen, long? decidedUnderClosing)
    {
        var epoch = _epoch!;
        if (epoch.OpenEpoch != decidedUnderOpen || epoch.ClosingEpoch != decidedUnderClosing)
        {
            return new UpdateSealing(null, epoch);
        }

        var node = update.Update.NodeFingerprint;
        var append = _ledger.AppendAsync(UpdateReceipts.Prepare(update, late, _ledger.Scroll, _ledger.SizeHint, node.ToString()));
        _sealing.Add(append);
        SealedReceipt receipt;
        try
        {
            receipt = await append;
        }
        finally
        {
            _sealing.Remove(append);
        }

        updates.Record(node, new RecordedUpdate(update.Update.FederatedEpoch, update.SignedHash, receipt.Id, receipt.Seq, receipt.LeafHash, late));
        return new UpdateSealing(new SealedReceiptView(receipt.Id, receipt.Seq, receipt.LeafHash), null);
    }

    public Task<EpochInfo> EpochAsync() =>
        Task.FromResult(_epoch ?? throw new InvalidOperationException($"{_ledger.Scroll} is not an update scroll"));

    public async Task PublishEpochAsync(EpochInfo epoch)
    {
        if (_updates is null)
        {
            throw new InvalidOperationException($"{_ledger.Scroll} is not an update scroll");
        }

        _epoch = epochs.Heard(_federationId!, epoch);
        // Turns of this grain never run at once (it is reentrant, not parallel): the set is what was in flight when the state changed.
        var sealing = _sealing.ToArray();
        try
        {
            await Task.WhenAll(sealing);
        }
        catch (Exception) when (sealing.All(t => t.IsCompleted))
        {
            // A failed seal was refused to its node; it was never acknowledged.
        }
    }

    public Task<ScrollHead> HeadAsync()
    {
        var size = _ledger.Size;
        return Task.FromResult(new ScrollHead(_ledger.Scroll, size, _ledger.Root(size), _ledger.LatestCheckpointNote, _ledger.CommittedBatches));
    }

    public async Task<IReadOnlyList<byte[]>> ReadAsync(long from, long to)
    {
        var size = _ledger.Size;
        if (from < 0 || to < from || to > size || to - from > IScrollGrain.MaxReadCount)
        {
            throw new ArgumentOutOfRangeException(nameof(to), $"{_ledger.Scroll}: cannot read [{from}, {to}) of {size} receipts, at most {IScrollGrain.MaxReadCount} at a time");
        }

        var lines = new List<byte[]>((int)(to - from));
        await foreach (var (_, line) in _ledger.ReadAsync(from, to))
        {
            lines.Add(line);
        }

        return lines;
    }

    public Task<Sha256Digest> RootAsync(long size) => Task.FromResult(_ledger.Root(size));

    public async Task<ConsistencyEvidence> ProveConsistencyAsync(long size)
    {
        await _ledger.SealAsync();
        var checkpoint = _ledger.LatestCheckpoint!;
        return new ConsistencyEvidence(_ledger.LatestCheckpointNote!, checkpoint.Size, _ledger.Root(size), _ledger.ConsistencyProof(size, checkpoint.Size));
    }

    public async Task<InclusionBundle> ProveAsync(long index) => await _ledger.ProveAsync(index);

    public async Task<string?> CheckpointAsync() => await _ledger.SealAsync();

    public async Task<AnchorReport> AnchorAsync(string anchorFile)
    {
        var result = await AnchorCycle.AnchorAsync(_ledger, new AnchorFile(anchorFile), time);
        var outcome = System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(result.Outcome.ToString());
        return new AnchorReport(result.Scroll, outcome, result.Size, result.Detail, _ledger.LatestCheckpoint?.Root.ToString(), null, time.GetUtcNow());
    }

    public Task<IReadOnlyList<RecordedUpdate>> RecordedAsync(KeyFingerprint node) =>
        Task.FromResult(_updates?.For(node).All ?? []);

    public Task<int> SubmittedAsync(long epoch) =>
        Task.FromResult(_updates?.ForEpoch(epoch).Count(u => !u.Update.Late) ?? 0);

    public async Task<IReadOnlyList<ScrollUpdateView>> ReadUpdatesAsync(long epoch, long cutoff) =>
        (await EpochInputsReader.ReadUpdatesAsync(_ledger, epoch, Math.Min(cutoff, _ledger.Size))).Select(u => new ScrollUpdateView(u.Seq, u.SignedUpdate)).ToList();

    [LoggerMessage(EventId = 4130, Level = LogLevel.Warning, Message = "scroll {Scroll}: {Reason}; moved the {Count} line(s) to {QuarantinedTo}, never sealed")]
    private partial void LogUnauthenticatedTail(string scroll, string reason, long count, string? quarantinedTo);
}

using Federation.Core.Checkpoints;
using Federation.Core.Crypto;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;

namespace Federation.Grains.Services;

/// <summary>
/// Where this silo's scroll grains open their ledgers: one store, all scrolls sealed with the coordinator's scroll key.
/// It keeps no ledger itself — a scroll's ledger lives in its <see cref="Scroll.ScrollGrain"/> activation, the one
/// writer of that scroll in the cluster — so nothing here outlives a silo or differs between silos.
/// </summary>
public sealed class LedgerDirectory(IScrollStore store, Ed25519PrivateKey scrollKey, ScrollLedgerOptions options, TimeProvider time) : IAsyncDisposable
{
    public ScrollLedgerOptions Options => options;

    public IScrollStore Store => store;

    public Ed25519PublicKey PublicKey => scrollKey.PublicKey;

    public NoteVerifierKey VerifierKey(string scroll) => NoteVerifierKey.For(options.OriginOf(scroll), scrollKey.PublicKey);

    /// <summary>Opens a scroll for writing; a scroll whose stored receipts or checkpoints do not verify is refused.</summary>
    public async Task<ScrollLedger> OpenAsync(string scroll)
    {
        var signer = new NoteSigner(options.OriginOf(scroll), scrollKey);
        var ledger = await ScrollLedger.OpenAsync(store, scroll, signer, [], time, options);
        if (ledger.IsHalted)
        {
            // SPEC A: a ledger mismatch at the coordinator halts; the scroll refuses writes and says why.
            var halted = new LedgerHaltedException(scroll, ledger.FirstBadIndex, ledger.HaltReason!);
            await ledger.DisposeAsync();
            throw halted;
        }

        return ledger;
    }

    public async ValueTask DisposeAsync()
    {
        await store.DisposeAsync();
        scrollKey.Dispose();
    }
}

using System.Collections.Concurrent;
using Federation.Core.Checkpoints;
using Federation.Core.Crypto;
using Federation.Storage.Scrolls;

namespace Federation.Storage.Ledger;

/// <summary>
/// The scrolls of one coordinator (a host of grains, or the simulator): one <see cref="ScrollLedger"/> per scroll over one store, all sealed with
/// the coordinator's scroll key. Ledgers are thread-safe and group-commit concurrent appends.
/// </summary>
public sealed class LedgerDirectory(IScrollStore store, Ed25519PrivateKey scrollKey, ScrollLedgerOptions options, TimeProvider time) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<ScrollLedger>>> _ledgers = new(StringComparer.Ordinal);

    public ScrollLedgerOptions Options => options;

    public IScrollStore Store => store;

    public Ed25519PublicKey PublicKey => scrollKey.PublicKey;

    public NoteVerifierKey VerifierKey(string scroll) => NoteVerifierKey.For(options.OriginOf(scroll), scrollKey.PublicKey);

    public Task<ScrollLedger> GetAsync(string scroll) =>
        // The lookup first: the hot path (every sealed receipt) allocates nothing.
        (_ledgers.TryGetValue(scroll, out var open) ? open : _ledgers.GetOrAdd(scroll, name => new Lazy<Task<ScrollLedger>>(() => OpenAsync(name)))).Value;

    private async Task<ScrollLedger> OpenAsync(string scroll)
    {
        var signer = new NoteSigner(options.OriginOf(scroll), scrollKey);
        var ledger = await ScrollLedger.OpenAsync(store, scroll, signer, [], time, options);
        if (ledger.IsHalted)
        {
            // SPEC A: a ledger mismatch at the coordinator halts; the scroll refuses writes and says why.
            throw new LedgerHaltedException(scroll, ledger.FirstBadIndex, ledger.HaltReason!);
        }

        return ledger;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var entry in _ledgers.Values)
        {
            if (entry.IsValueCreated && entry.Value.IsCompletedSuccessfully)
            {
                await entry.Value.Result.DisposeAsync();
            }
        }

        await store.DisposeAsync();
        scrollKey.Dispose();
    }
}

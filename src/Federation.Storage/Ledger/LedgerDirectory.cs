using System.Collections.Concurrent;
using Federation.Core.Checkpoints;
using Federation.Core.Crypto;
using Federation.Storage.Scrolls;

namespace Federation.Storage.Ledger;

/// <summary>
/// The scrolls of one coordinator: one store, all scrolls sealed with the coordinator's scroll key.
/// <see cref="OpenAsync"/> opens a ledger its caller owns — on a silo, the scroll's grain activation, the one writer of
/// that scroll in the cluster, so the directory keeps nothing a silo's death could lose. <see cref="GetAsync"/> keeps one
/// ledger per scroll for a process that is the only writer itself (the simulator); a silo never uses it.
/// </summary>
/// <remarks>
/// A reader's directory (<see cref="LedgerDirectory(IScrollStore, Ed25519PublicKey, ScrollLedgerOptions, TimeProvider)"/>,
/// over a read-only store) holds only the public key: its ledgers verify and read, and never sign.
/// </remarks>
public sealed class LedgerDirectory : IAsyncDisposable
{
    private readonly IScrollStore store;
    private readonly Ed25519PrivateKey? scrollKey;
    private readonly Ed25519PublicKey publicKey;
    private readonly ScrollLedgerOptions options;
    private readonly TimeProvider time;

    public LedgerDirectory(IScrollStore store, Ed25519PrivateKey scrollKey, ScrollLedgerOptions options, TimeProvider time)
        : this(store, scrollKey, scrollKey.PublicKey, options, time)
    {
    }

    /// <summary>A reader's directory: ledgers opened without a signer.</summary>
    public LedgerDirectory(IScrollStore store, Ed25519PublicKey publicKey, ScrollLedgerOptions options, TimeProvider time)
        : this(store, null, publicKey, options, time)
    {
    }

    private LedgerDirectory(IScrollStore store, Ed25519PrivateKey? scrollKey, Ed25519PublicKey publicKey, ScrollLedgerOptions options, TimeProvider time)
    {
        this.store = store;
        this.scrollKey = scrollKey;
        this.publicKey = publicKey;
        this.options = options;
        this.time = time;
    }

    public ScrollLedgerOptions Options => options;

    public IScrollStore Store => store;

    public Ed25519PublicKey PublicKey => publicKey;

    /// <summary>False for a reader's directory: its ledgers never sign.</summary>
    public bool CanSign => scrollKey is not null;

    public NoteVerifierKey VerifierKey(string scroll) => NoteVerifierKey.For(options.OriginOf(scroll), publicKey);

    /// <summary>How long <see cref="OpenAsync"/> waits for the scroll's previous writer in this process to close.</summary>
    public static readonly TimeSpan PreviousWriterWait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Opens a scroll for writing; a scroll whose stored receipts or checkpoints do not verify is refused. A writer of
    /// the scroll still open in this process (a previous activation of its grain still deactivating: sealing, closing)
    /// is waited for, up to <see cref="PreviousWriterWait"/>.
    /// </summary>
    public async Task<ScrollLedger> OpenAsync(string scroll)
    {
        var signer = scrollKey is null ? null : new NoteSigner(options.OriginOf(scroll), scrollKey);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        ScrollLedger ledger;
        while (true)
        {
            try
            {
                ledger = await ScrollLedger.OpenAsync(store, scroll, signer, signer is null ? [VerifierKey(scroll)] : [], time, options);
                break;
            }
            catch (ScrollAlreadyOpenException) when (waited.Elapsed < PreviousWriterWait)
            {
                // Real time, not the ledger's clock: this waits for another task in this process, not for a deadline.
                await Task.Delay(TimeSpan.FromMilliseconds(20));
            }
        }

        if (ledger.IsHalted)
        {
            // SPEC A: a ledger mismatch at the coordinator halts; the scroll refuses writes and says why.
            var halted = new LedgerHaltedException(scroll, ledger.FirstBadIndex, ledger.HaltReason!);
            await ledger.DisposeAsync();
            throw halted;
        }

        return ledger;
    }

    private readonly ConcurrentDictionary<string, Lazy<Task<ScrollLedger>>> _ledgers = new(StringComparer.Ordinal);

    /// <summary>The one ledger of <paramref name="scroll"/> in this process, opened on first use and disposed with the directory.</summary>
    public Task<ScrollLedger> GetAsync(string scroll) =>
        (_ledgers.TryGetValue(scroll, out var open) ? open : _ledgers.GetOrAdd(scroll, name => new Lazy<Task<ScrollLedger>>(() => OpenAsync(name)))).Value;

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
        scrollKey?.Dispose();
    }
}

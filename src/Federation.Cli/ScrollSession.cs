using System.CommandLine;
using Federation.Core.Checkpoints;
using Federation.Core.Crypto;
using Federation.Storage.Keys;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;

namespace Federation.Cli;

/// <summary>Options every scroll command shares.</summary>
public sealed class ScrollCliOptions
{
    public Option<string> DataDir { get; } = new("--data-dir") { Description = "Data directory of the file store (default: appsettings Federation:DataDirectory or ./data)" };

    public Option<string> Store { get; } = new("--store") { Description = "Scroll store: file (default) or postgres" };

    public Option<string> Connection { get; } = new("--connection") { Description = "PostgreSQL connection string (default: appsettings ConnectionStrings:Federation)" };

    public Option<string> Scroll { get; } = new("--scroll") { Description = "Scroll name", Required = true };

    public void AddTo(Command command, bool withScroll = true)
    {
        command.Options.Add(DataDir);
        command.Options.Add(Store);
        command.Options.Add(Connection);
        if (withScroll)
        {
            command.Options.Add(Scroll);
        }
    }
}

/// <summary>How a command opens a scroll.</summary>
internal enum ScrollAccess
{
    /// <summary>Reading and checking: nothing is created, locked, moved or repaired; no private key.</summary>
    Read,

    /// <summary>Explicit repair (<c>fed scroll repair --confirm</c>): the store's open-time repairs run; nothing is signed.</summary>
    Repair,

    /// <summary>Appending and sealing with the private key.</summary>
    Write,
}

/// <summary>A reading command was asked to serve a scroll that fails verification (exit 1).</summary>
internal sealed class ScrollNotVerifiedException(string message) : Exception(message);

/// <summary>One CLI invocation's view of a scroll: the store, the key, the ledger.</summary>
internal sealed class ScrollSession : IAsyncDisposable
{
    private readonly Ed25519PrivateKey? _privateKey;

    private ScrollSession(FedSettings settings, IScrollStore store, ScrollLedger ledger, Ed25519PrivateKey? privateKey, ScrollLedgerOptions options, Ed25519PublicKey publicKey)
    {
        Settings = settings;
        Store = store;
        Ledger = ledger;
        _privateKey = privateKey;
        Options = options;
        PublicKey = publicKey;
    }

    public FedSettings Settings { get; }

    public IScrollStore Store { get; }

    public ScrollLedger Ledger { get; }

    public ScrollLedgerOptions Options { get; }

    public Ed25519PublicKey PublicKey { get; }

    public static FedSettings Resolve(ParseResult parse, ScrollCliOptions common)
    {
        var settings = FedSettings.Load();
        return settings with
        {
            DataDirectory = parse.GetValue(common.DataDir) ?? settings.DataDirectory,
            ScrollStore = parse.GetValue(common.Store) ?? settings.ScrollStore,
            ConnectionString = parse.GetValue(common.Connection) ?? settings.ConnectionString,
        };
    }

    /// <param name="keyPath">A private key file for <see cref="ScrollAccess.Write"/>; otherwise a public (or private) key file; null for the default.</param>
    /// <param name="warnings">Where a writer's open reports what it moved aside (lines after the last authenticated commit).</param>
    public static async Task<ScrollSession> OpenAsync(TextWriter warnings, ParseResult parse, ScrollCliOptions common, string? keyPath, ScrollAccess access, CancellationToken ct)
    {
        var settings = Resolve(parse, common);
        var scroll = parse.GetValue(common.Scroll)!;
        var writable = access == ScrollAccess.Write;
        var path = keyPath ?? settings.ScrollKey ?? Path.Combine(settings.DataDirectory, "keys", "scroll.key");
        if (!File.Exists(path) && keyPath is null)
        {
            throw new FileNotFoundException($"no scroll signing key at {path}: pass {(writable ? "--key" : "--pub")} or create one with `fed keys generate --out {path}`", path);
        }

        Ed25519PrivateKey? privateKey = writable ? KeyFiles.ReadPrivateKey(path) : null;
        var publicKey = privateKey?.PublicKey ?? KeyFiles.ReadPublicKey(path);
        var options = new ScrollLedgerOptions { OriginPrefix = settings.OriginPrefix }.Validate();
        var store = ScrollStores.Create(new ScrollStoreOptions
        {
            Kind = settings.ScrollStore,
            DataDirectory = settings.DataDirectory,
            ConnectionString = settings.ConnectionString,
            ReadOnly = access == ScrollAccess.Read,
        });
        try
        {
            // Asking about a scroll never creates it: a reading command names what exists instead.
            if (!writable && await store.ListScrollsAsync(ct) is var existing && !existing.Contains(scroll, StringComparer.Ordinal))
            {
                var where = settings.ScrollStore == ScrollStoreOptions.DefaultKind ? $"the data directory {settings.DataDirectory}" : "the PostgreSQL scroll store";
                throw new ArgumentException(existing.Count == 0
                    ? $"scroll \"{scroll}\" does not exist: {where} has no scrolls"
                    : $"scroll \"{scroll}\" does not exist in {where}; its scrolls are {string.Join(", ", existing.Order(StringComparer.Ordinal))}");
            }

            var signer = privateKey is null ? null : new NoteSigner(options.OriginOf(scroll), privateKey);
            var trusted = new[] { NoteVerifierKey.For(options.OriginOf(scroll), publicKey) };
            var ledger = await ScrollLedger.OpenAsync(store, scroll, signer, trusted, TimeProvider.System, options, ct);
            if (ledger.UnreadTail is { WriterActive: false } unread && access == ScrollAccess.Read)
            {
                warnings.WriteLine($"fed: warning: scroll {scroll}: {unread.Reason}; the {unread.Count} line(s) were not read (`fed scroll repair --confirm` moves them aside)");
            }

            if (ledger.UnauthenticatedTail is { } tail)
            {
                warnings.WriteLine($"fed: warning: scroll {scroll}: {tail.Reason}; moved the {tail.Count} line(s) to {tail.QuarantinedTo}, never sealed");
            }

            return new ScrollSession(settings, store, ledger, privateKey, options, publicKey);
        }
        catch
        {
            await store.DisposeAsync();
            privateKey?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reading commands serve nothing from a scroll that fails its checks (issue 20): a halted ledger (a line or a
    /// checkpoint that does not verify) or a missing, stale or forged ROOT file is exit 1, naming what is wrong.
    /// </summary>
    /// <param name="unverifiedFlag">The command's flag that shows the raw lines anyway, to name in the message; null if it has none.</param>
    public void RequireVerified(string? unverifiedFlag = null)
    {
        string? problem = null;
        if (Ledger.IsHalted)
        {
            problem = $"{Ledger.HaltReason} (first bad index {Ledger.FirstBadIndex})";
        }
        else if (Ledger.OpenReport?.RootProblem is { } root)
        {
            problem = root;
        }

        if (problem is not null)
        {
            var raw = unverifiedFlag is null ? string.Empty : $", {unverifiedFlag} shows its raw lines marked unverified";
            throw new ScrollNotVerifiedException($"scroll {Ledger.Scroll} fails verification: {problem}; nothing is served from it (`fed scroll verify` lists every failure{raw})");
        }
    }

    /// <summary>Opens another scroll of the same store with the same key (e.g. the anchoring scroll).</summary>
    public async Task<ScrollLedger> OpenOtherAsync(string scroll, CancellationToken ct)
    {
        var signer = _privateKey is null ? null : new NoteSigner(Options.OriginOf(scroll), _privateKey);
        return await ScrollLedger.OpenAsync(Store, scroll, signer, [NoteVerifierKey.For(Options.OriginOf(scroll), PublicKey)], TimeProvider.System, Options, ct);
    }

    public async ValueTask DisposeAsync()
    {
        await Ledger.DisposeAsync();
        await Store.DisposeAsync();
        _privateKey?.Dispose();
    }
}

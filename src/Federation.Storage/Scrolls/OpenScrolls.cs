using System.Collections.Concurrent;

namespace Federation.Storage.Scrolls;

/// <summary>
/// The scrolls one store instance has open: each opened once, looked up by name, all disposed with the store.
/// Shared by the file and PostgreSQL stores.
/// </summary>
internal sealed class OpenScrolls<TScroll>(object owner)
    where TScroll : class, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, TScroll> _open = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _disposed;

    public bool IsDisposed => _disposed;

    /// <summary>Opens <paramref name="scroll"/> with <paramref name="open"/> unless it is open already (an error) or the store is disposed.</summary>
    public async Task<ScrollOpenReport> OpenAsync(string scroll, Func<Task<(TScroll Scroll, ScrollOpenReport Report)>> open, CancellationToken ct)
    {
        ScrollNames.Validate(scroll);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, owner);
            if (_open.ContainsKey(scroll))
            {
                throw new ScrollAlreadyOpenException(scroll);
            }

            var (opened, report) = await open().ConfigureAwait(false);
            _open[scroll] = opened;
            return report;
        }
        finally
        {
            _gate.Release();
        }
    }

    public TScroll Get(string scroll)
    {
        ScrollNames.Validate(scroll);
        ObjectDisposedException.ThrowIf(_disposed, owner);
        return _open.TryGetValue(scroll, out var opened)
            ? opened
            : throw new InvalidOperationException($"scroll {scroll} is not open in this store; call OpenAsync first");
    }

    /// <summary>Disposes and forgets <paramref name="scroll"/> if it is open; it can then be opened again.</summary>
    public async Task CloseAsync(string scroll, CancellationToken ct)
    {
        ScrollNames.Validate(scroll);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!_disposed && _open.TryRemove(scroll, out var opened))
            {
                await opened.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Disposes every open scroll once; false when the store was already disposed.</summary>
    public async Task<bool> DisposeAllAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return false;
            }

            _disposed = true;
        }
        finally
        {
            _gate.Release();
        }

        foreach (var scroll in _open.Values)
        {
            await scroll.DisposeAsync().ConfigureAwait(false);
        }

        _open.Clear();
        return true;
    }
}

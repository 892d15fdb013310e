namespace Federation.Hosting;

/// <summary>
/// One named piece of a grain's durable state (Orleans' <c>IPersistentState&lt;T&gt;</c>). The host reads it
/// before <c>OnActivateAsync</c>. Writes carry the <see cref="Etag"/> they were based on; a write based on a
/// stale etag throws <see cref="InconsistentStateException"/> and changes nothing.
/// </summary>
public interface IPersistentState<TState>
{
    TState State { get; set; }

    /// <summary>The version the provider holds; null when nothing was ever written.</summary>
    string? Etag { get; }

    /// <summary>True when stored state exists (false before the first write and after a clear).</summary>
    bool RecordExists { get; }

    Task ReadStateAsync();

    /// <summary>Returns when the write is durable (fsync for files, commit for PostgreSQL).</summary>
    Task WriteStateAsync();

    /// <summary>Removes the stored state; <see cref="State"/> goes back to a new instance.</summary>
    Task ClearStateAsync();
}

/// <summary>A write or clear was based on an etag the store no longer holds (another writer came first).</summary>
public sealed class InconsistentStateException(string message, string? storedEtag, string? currentEtag) : Exception(message)
{
    /// <summary>The etag in the store, if known.</summary>
    public string? StoredEtag { get; } = storedEtag;

    /// <summary>The etag the write was based on.</summary>
    public string? CurrentEtag { get; } = currentEtag;
}

namespace Federation.Hosting.Persistence;

/// <summary>Which stored state: a grain and the name of one of its states.</summary>
public readonly record struct GrainStateKey(GrainId GrainId, string StateName)
{
    public override string ToString() => $"{GrainId}#{StateName}";
}

/// <summary>What a provider holds for one key: the etag (version) and the JSON payload, null after a clear.</summary>
public sealed record StoredGrainState(string Etag, byte[]? Payload);

/// <summary>
/// A grain state store (Orleans' <c>IGrainStorage</c>, at the level of bytes: serialization lives in
/// <see cref="PersistentState{TState}"/>, once for every provider). Etags are versions: a write or clear
/// must name the version it was based on (null when nothing was ever stored), and a mismatch throws
/// <see cref="InconsistentStateException"/> without changing anything. A clear keeps the version counting,
/// so a write based on a version from before the clear is still refused.
/// </summary>
public interface IGrainStorage
{
    /// <summary>Null when nothing was ever stored for <paramref name="key"/>.</summary>
    Task<StoredGrainState?> ReadAsync(GrainStateKey key, CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="payload"/> durably; returns the new etag.</summary>
    Task<string> WriteAsync(GrainStateKey key, ReadOnlyMemory<byte> payload, string? etag, CancellationToken cancellationToken = default);

    /// <summary>Removes the payload; returns the new etag (null when nothing was ever stored and <paramref name="etag"/> is null).</summary>
    Task<string?> ClearAsync(GrainStateKey key, string? etag, CancellationToken cancellationToken = default);
}

internal static class Etags
{
    public static string Format(long version) => version.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static InconsistentStateException Stale(string provider, GrainStateKey key, string? stored, string? given) =>
        new($"{provider} storage: stale write of {key}: it was based on etag {given ?? "(none)"} but the store holds {stored ?? "(none)"}", stored, given);
}

using Federation.Core.Hashing;
using Orleans.Concurrency;

namespace Federation.Grains;

/// <summary>What a bearer token of a federation may do on the HTTP API (docs/formats/http-api.md).</summary>
[GenerateSerializer, Alias("fed.access-role.v1")]
public enum AccessRole
{
    /// <summary>Registers and revokes nodes, lists them, triggers anchors.</summary>
    Operator,

    /// <summary>Reads review cases and the nodes (verdicts themselves are signed by reviewer keys, not by tokens).</summary>
    Reviewer,

    /// <summary>Reads: nodes, epochs, scrolls.</summary>
    Auditor,
}

/// <summary>A token as the coordinator keeps it: its id, role and label — never the token itself, only its SHA-256.</summary>
[GenerateSerializer, Immutable, Alias("fed.access-token.v1")]
public sealed record AccessToken([property: Id(0)] string Id, [property: Id(1)] AccessRole Role, [property: Id(2)] string Label, [property: Id(3)] DateTimeOffset CreatedAt);

/// <summary>Whose tokens an <see cref="IAccessGrain"/> keeps: a federation's (its key is the federation id) or the cluster's.</summary>
public static class AccessScopes
{
    /// <summary>
    /// The key of the cluster's tokens: operator tokens that open what spans every federation (the Orleans Dashboard,
    /// which shows every grain's state). No federation can have this id (ids are <c>[a-z0-9][a-z0-9-]*</c>).
    /// </summary>
    public const string Cluster = "_cluster";

    /// <summary>The only role a cluster token may have: the dashboard shows everything, so only operators see it.</summary>
    public const AccessRole ClusterRole = AccessRole.Operator;
}

/// <summary>
/// The bearer tokens of one federation (key: the federation id), or of the cluster (key: <see cref="AccessScopes.Cluster"/>),
/// stored as SHA-256 hashes in grain state.
/// </summary>
public interface IAccessGrain : IGrainWithStringKey
{
    /// <summary>
    /// Adds the token whose SHA-256 is <paramref name="tokenHash"/>; returns its id (the first 12 hex digits of the hash).
    /// A cluster token must have <see cref="AccessScopes.ClusterRole"/> (else <see cref="ArgumentException"/>).
    /// </summary>
    Task<AccessToken> AddAsync(Sha256Digest tokenHash, AccessRole role, string label);

    /// <summary>The token with this hash, or null. A hash not known is looked up again in storage (at most once a second), so a token created by another process is usable at once.</summary>
    Task<AccessToken?> FindAsync(Sha256Digest tokenHash);

    [ReadOnly]
    Task<IReadOnlyList<AccessToken>> ListAsync();
}

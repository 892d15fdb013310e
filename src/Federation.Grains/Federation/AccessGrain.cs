using Federation.Core.Hashing;
using Federation.Grains.Services;

namespace Federation.Grains.Federation;

/// <summary>Persisted bearer tokens of one federation (names are part of the storage format): hashes only.</summary>
public sealed class AccessState
{
    public List<AccessTokenEntry> Tokens { get; set; } = [];
}

public sealed class AccessTokenEntry
{
    public string Id { get; set; } = string.Empty;

    /// <summary>SHA-256 of the token, <c>sha256:&lt;hex&gt;</c>.</summary>
    public string Hash { get; set; } = string.Empty;

    public AccessRole Role { get; set; }

    public string Label { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// The bearer tokens of one federation (key: the federation id) or of the cluster (key: <see cref="AccessScopes.Cluster"/>).
/// A token is shown once when created and kept only as its SHA-256; the HTTP API hashes the presented token and asks here.
/// </summary>
[GrainType("access")]
public sealed class AccessGrain(
    [PersistentState("access")] IPersistentState<AccessState> state,
    FederationDirectory federations,
    TimeProvider time) : Grain, IAccessGrain
{
    /// <summary>Most tokens one federation holds.</summary>
    public const int MaxTokens = 1000;

    private static readonly TimeSpan RereadInterval = TimeSpan.FromSeconds(1);
    private DateTimeOffset _lastReread;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!IsCluster)
        {
            federations.Get(this.GetPrimaryKeyString()); // tenants are explicit: an unknown federation fails the call
        }

        return Task.CompletedTask;
    }

    public async Task<AccessToken> AddAsync(Sha256Digest tokenHash, AccessRole role, string label)
    {
        if (IsCluster && role != AccessScopes.ClusterRole)
        {
            throw new ArgumentException($"a cluster token is an {AccessScopes.ClusterRole.ToString().ToLowerInvariant()} token, not {role.ToString().ToLowerInvariant()}");
        }

        var hash = tokenHash.ToString();
        if (state.State.Tokens.Any(t => t.Hash == hash))
        {
            throw new ArgumentException("this token is already registered");
        }

        if (state.State.Tokens.Count >= MaxTokens)
        {
            throw new ArgumentException(IsCluster ? $"the cluster already holds {MaxTokens} tokens" : $"federation \"{this.GetPrimaryKeyString()}\" already holds {MaxTokens} tokens");
        }

        var entry = new AccessTokenEntry { Id = hash["sha256:".Length..][..12], Hash = hash, Role = role, Label = label, CreatedAt = time.GetUtcNow() };
        state.State.Tokens.Add(entry);
        await state.WriteStateAsync();
        return View(entry);
    }

    public async Task<AccessToken?> FindAsync(Sha256Digest tokenHash)
    {
        var hash = tokenHash.ToString();
        var entry = state.State.Tokens.Find(t => t.Hash == hash);
        if (entry is null && time.GetUtcNow() - _lastReread >= RereadInterval)
        {
            _lastReread = time.GetUtcNow();
            await state.ReadStateAsync();
            entry = state.State.Tokens.Find(t => t.Hash == hash);
        }

        return entry is null ? null : View(entry);
    }

    public Task<IReadOnlyList<AccessToken>> ListAsync() =>
        Task.FromResult<IReadOnlyList<AccessToken>>(state.State.Tokens.Select(View).ToList());

    private bool IsCluster => this.GetPrimaryKeyString() == AccessScopes.Cluster;

    private static AccessToken View(AccessTokenEntry entry) => new(entry.Id, entry.Role, entry.Label, entry.CreatedAt);
}

using Federation.Core.Consensus;
using Federation.Core.Crypto;

namespace Federation.Grains.Services;

/// <summary>How a validator behaves: honest, or one of the Byzantine kinds simulations inject.</summary>
public enum ValidatorBehaviour
{
    Honest,

    /// <summary>Sends nothing.</summary>
    Silent,

    /// <summary>As primary, pre-prepares two different digests to two halves of the validators.</summary>
    EquivocatingPrimary,

    /// <summary>Signs a second, conflicting vote for each of its prepares and commits.</summary>
    ConflictingVotes,
}

public sealed record ValidatorSettings(string Id, Ed25519PrivateKey Key, ValidatorBehaviour Behaviour = ValidatorBehaviour.Honest);

/// <summary>
/// The validators of each federation: n = 3f + 1 (n ≥ 4) members with their own keys, and the epoch
/// aggregation policy and timeouts. Owns the keys (disposed with it).
/// </summary>
public sealed class ValidatorDirectory : IDisposable
{
    /// <summary>A view that has not committed after this long starts a view change; it doubles with each one.</summary>
    public static readonly TimeSpan DefaultViewTimeout = TimeSpan.FromSeconds(2);

    /// <summary>View changes before an epoch is declared failed (the federation halts safely and says why).</summary>
    public const int DefaultMaxViewChanges = 8;

    private readonly Dictionary<string, (ValidatorSet Set, IReadOnlyList<ValidatorSettings> Members, AggregationPolicy Policy)> _federations = new(StringComparer.Ordinal);

    public TimeSpan ViewTimeout { get; init; } = DefaultViewTimeout;

    public int MaxViewChanges { get; init; } = DefaultMaxViewChanges;

    public void Add(string federationId, IReadOnlyList<ValidatorSettings> validators, AggregationPolicy policy)
    {
        var set = new ValidatorSet(validators.Select(v => (v.Id, v.Key.PublicKey)).ToList());
        _federations[federationId] = (set, validators, policy);
    }

    public ValidatorSet SetOf(string federationId) => Get(federationId).Set;

    public AggregationPolicy PolicyOf(string federationId) => Get(federationId).Policy;

    public ValidatorSettings Member(string federationId, string validatorId) =>
        Get(federationId).Members.FirstOrDefault(m => m.Id == validatorId)
            ?? throw new InvalidOperationException($"\"{validatorId}\" is not a validator of federation \"{federationId}\"");

    private (ValidatorSet Set, IReadOnlyList<ValidatorSettings> Members, AggregationPolicy Policy) Get(string federationId) =>
        _federations.TryGetValue(federationId, out var entry)
            ? entry
            : throw new InvalidOperationException($"federation \"{federationId}\" has no validators configured");

    public void Dispose()
    {
        foreach (var (_, members, _) in _federations.Values)
        {
            foreach (var member in members)
            {
                member.Key.Dispose();
            }
        }
    }
}

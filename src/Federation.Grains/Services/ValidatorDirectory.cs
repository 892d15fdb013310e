using Federation.Core.Consensus;
using Federation.Core.Crypto;

namespace Federation.Grains.Services;

public sealed record ValidatorSettings(string Id, Ed25519PrivateKey Key, ValidatorBehaviour Behaviour = ValidatorBehaviour.Honest);

/// <summary>
/// The validators of each federation: n = 3f + 1 (n ≥ 4) members with their own keys, and the epoch
/// aggregation policy and timeouts. Owns the keys (disposed with it).
/// </summary>
public sealed class ValidatorDirectory : IDisposable
{
    /// <summary>A view that has not committed after this long starts a view change; it doubles with each one.</summary>
    public static readonly TimeSpan DefaultViewTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// View changes before an epoch is declared failed (the federation halts safely and says why). With the
    /// default 2 s timeout doubling each time, 3 view changes take 2 + 4 + 8 = 14 s: a run of the epoch answers
    /// within the grain call timeout (30 s) instead of leaving its caller to time out.
    /// </summary>
    public const int DefaultMaxViewChanges = 3;

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

/// <summary>When an epoch closes: a quorum of active nodes has submitted plus a grace period, or its deadline passed.</summary>
public sealed class EpochOptions
{
    public const double DefaultQuorumFraction = 2.0 / 3.0;

    public static readonly TimeSpan DefaultGrace = TimeSpan.FromSeconds(5);

    /// <summary>Epochs never stay open longer (a durable reminder, so a restart does not lose it).</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromMinutes(2);

    public static readonly TimeSpan DefaultCheckInterval = TimeSpan.FromSeconds(1);

    public double QuorumFraction { get; init; } = DefaultQuorumFraction;

    public TimeSpan Grace { get; init; } = DefaultGrace;

    public TimeSpan Deadline { get; init; } = DefaultDeadline;

    public TimeSpan CheckInterval { get; init; } = DefaultCheckInterval;

    public EpochOptions Validate()
    {
        if (QuorumFraction is <= 0 or > 1 || Grace < TimeSpan.Zero || Deadline <= TimeSpan.Zero || CheckInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"EpochOptions: QuorumFraction must be in (0, 1], Grace ≥ 0, Deadline and CheckInterval > 0 (got {QuorumFraction}, {Grace}, {Deadline}, {CheckInterval})");
        }

        return this;
    }
}

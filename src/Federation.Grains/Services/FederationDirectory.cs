using Federation.Core.Crypto;
using Federation.Core.Membership;
using Federation.Core.Scrolls;

namespace Federation.Grains.Services;

/// <summary>One federation's settings: its policy, the governance key that signs accepts, its seed registry.</summary>
public sealed class FederationSettings
{
    /// <summary>A node that has sent nothing (update or heartbeat) for this long is reported inactive (not quarantined).</summary>
    public static readonly TimeSpan DefaultInactivityTimeout = TimeSpan.FromMinutes(5);

    public required FederationPolicy Policy { get; init; }

    /// <summary>Signs FederationAccept messages. Owned by the directory (disposed with it); null in a reader (<see cref="CoordinatorRole.Reader"/>).</summary>
    public required Ed25519PrivateKey? GovernanceKey { get; init; }

    /// <summary>The governance key, or a refusal that says this process holds none.</summary>
    public Ed25519PrivateKey RequireGovernanceKey() =>
        GovernanceKey ?? throw new InvalidOperationException($"federation {Policy.FederationId}: this process holds no governance key (a reading command): it cannot accept nodes");

    public IReadOnlyList<NodeRegistration> Nodes { get; init; } = [];

    /// <summary>The public keys whose signed verdicts decide quarantine cases (<c>Federations:N:ReviewerKeys</c>); none: no verdict is accepted.</summary>
    public IReadOnlyList<Ed25519PublicKey> ReviewerKeys { get; init; } = [];

    public TimeSpan InactivityTimeout { get; init; } = DefaultInactivityTimeout;

    public string Id => Policy.FederationId;
}

/// <summary>The federations this coordinator serves (tenants). Unknown federation ids are refused everywhere.</summary>
public sealed class FederationDirectory : IDisposable
{
    private readonly Dictionary<string, FederationSettings> _federations;

    public FederationDirectory(IEnumerable<FederationSettings> federations)
    {
        _federations = new Dictionary<string, FederationSettings>(StringComparer.Ordinal);
        foreach (var federation in federations)
        {
            FederationScrolls.ValidateFederationId(federation.Id);
            federation.Policy.Validate();
            if (!_federations.TryAdd(federation.Id, federation))
            {
                throw new ArgumentException($"federation \"{federation.Id}\" is configured twice");
            }
        }
    }

    public IReadOnlyCollection<string> Ids => _federations.Keys;

    public FederationSettings Get(string federationId) =>
        _federations.TryGetValue(federationId, out var settings)
            ? settings
            : throw new UnknownFederationException(federationId);

    public bool Contains(string federationId) => _federations.ContainsKey(federationId);

    public void Dispose()
    {
        foreach (var federation in _federations.Values)
        {
            federation.GovernanceKey?.Dispose();
        }
    }
}

public sealed class UnknownFederationException(string federationId) : InvalidOperationException($"federation \"{federationId}\" is not served by this coordinator")
{
    public string FederationId { get; } = federationId;
}

using Federation.Core.Crypto;

namespace Federation.Grains.Services;

/// <summary>
/// A node's own request budget, asked by the <see cref="IngestGateway"/> once a message's signature verifies (so a forged
/// message never spends an honest node's budget: it is bounded by the sender's address instead). The service's
/// implementation is ASP.NET Core's token-bucket rate limiting, one bucket per node (<c>Service:RateLimits</c>).
/// </summary>
public interface INodeAdmission
{
    /// <summary>True when <paramref name="node"/> of <paramref name="federationId"/> has budget left now (nothing is spent).</summary>
    bool HasBudget(string federationId, KeyFingerprint node);

    /// <summary>Spends one request of the node's budget: called for what it sent that was new (a replayed update, answered duplicate, costs nothing).</summary>
    void Spend(string federationId, KeyFingerprint node);
}

using Federation.Core.Crypto;

namespace Federation.Grains.Services;

/// <summary>
/// A node's own request budget, asked by the <see cref="IngestGateway"/> once a message's signature verifies (so a forged
/// message never spends an honest node's budget: it is bounded by the sender's address instead). The service's
/// implementation is ASP.NET Core's token-bucket rate limiting, one bucket per node (<c>Service:RateLimits</c>).
/// </summary>
public interface INodeAdmission
{
    /// <summary>Spends one request of <paramref name="node"/>'s budget; false (nothing spent) when it has none left now.</summary>
    bool TryAdmit(string federationId, KeyFingerprint node);
}

using Federation.Core.Canonical;
using Federation.Core.Hashing;

namespace Federation.Core.Membership;

/// <summary>How a federation aggregates: numeric vectors or keyed canon entries (issue 6 builds both).</summary>
public enum AggregationKind
{
    Vector,
    Canon,
}

/// <summary>
/// The rules a federation's nodes join under. Its hash (SHA-256 of its RFC 8785 form) is the
/// <c>policy_hash</c> of every FederationAccept, so a node knows exactly what it agreed to.
/// </summary>
public sealed record FederationPolicy(
    string FederationId,
    AggregationKind Aggregation,
    IReadOnlyList<string> RequiredCapabilities,
    int VectorDimension = FederationPolicy.DefaultVectorDimension,
    int MaxPayloadBytes = FederationPolicy.DefaultMaxPayloadBytes,
    int MaxDeltaBytes = FederationPolicy.DefaultMaxDeltaBytes)
{
    public const int DefaultVectorDimension = 16;

    /// <summary>A compressed delta larger than this is refused before it is decoded.</summary>
    public const int DefaultMaxPayloadBytes = 1024 * 1024;

    /// <summary>Decompression stops past this many bytes (no decompression bombs).</summary>
    public const int DefaultMaxDeltaBytes = 8 * 1024 * 1024;

    /// <summary>The capability a node needs to send deltas of a kind.</summary>
    public static string CapabilityFor(AggregationKind kind) => kind == AggregationKind.Vector ? "delta.vector.v1" : "delta.canon.v1";

    public Sha256Digest Hash() => Sha256Digest.Of(CanonicalJson.Serialize(this, ProtocolJson.Options));

    public FederationPolicy Validate()
    {
        if (string.IsNullOrWhiteSpace(FederationId))
        {
            throw new ArgumentException("FederationPolicy.FederationId must be set");
        }

        if (VectorDimension is < 1 or > 1_000_000)
        {
            throw new ArgumentException($"FederationPolicy.VectorDimension must be between 1 and 1,000,000, got {VectorDimension}");
        }

        if (MaxPayloadBytes < 64 || MaxDeltaBytes < MaxPayloadBytes)
        {
            throw new ArgumentException($"FederationPolicy: MaxPayloadBytes ({MaxPayloadBytes}) must be at least 64 and at most MaxDeltaBytes ({MaxDeltaBytes})");
        }

        return this;
    }
}

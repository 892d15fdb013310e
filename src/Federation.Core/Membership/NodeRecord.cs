using Federation.Core.Crypto;

namespace Federation.Core.Membership;

/// <summary>SPEC D: how far a node is trusted.</summary>
public enum TrustLevel
{
    Federated,
    Root,
}

/// <summary>SPEC D: which way knowledge flows with the node.</summary>
public enum SyncPolicy
{
    PullApprovedOnly,
    Bidirectional,
}

/// <summary>A node's standing in its federation. Only <see cref="Active"/> nodes' updates are aggregated.</summary>
public enum NodeStatus
{
    /// <summary>Registered or said hello; has not completed the handshake.</summary>
    Pending,
    Active,

    /// <summary>Held for governance review (divergence, equivocation, ledger divergence).</summary>
    Quarantined,

    /// <summary>Rejected by review; its updates are refused.</summary>
    Excluded,

    /// <summary>Its key was revoked; every message is refused.</summary>
    Revoked,

    /// <summary>Left the federation; may rejoin with a new handshake.</summary>
    Departed,
}

/// <summary>The registry's record of one node, scoped by federation.</summary>
public sealed record NodeRecord(
    string FederationId,
    KeyFingerprint Fingerprint,
    TrustLevel TrustLevel,
    SyncPolicy SyncPolicy,
    IReadOnlyList<string> Capabilities,
    NodeStatus Status,
    string? SessionId = null,
    string? LedgerBlockId = null,
    long LastEpoch = -1,
    string? StatusReason = null);

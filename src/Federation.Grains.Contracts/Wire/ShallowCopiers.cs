using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Scrolls;
using Orleans.Serialization.Cloning;

namespace Federation.Grains.Wire;

/// <summary>
/// The Core wire types that are immutable, passed as they are within a silo (what <c>[Immutable]</c> does for the
/// contracts' own records; Core cannot carry the attribute). A registered copier outranks the surrogate codec's copy,
/// which would convert to the surrogate and back — for <see cref="VerifiedUpdate"/> a reread of the whole message.
/// </summary>
/// <remarks>
/// Immutable here means: every member is read-only and every collection or array a value holds is never changed once
/// the value is made (the producers hand over snapshots, e.g. <see cref="NodeState"/> replaces its capability list,
/// never edits it). An update's message, signed bytes and payload are never written after parsing.
/// </remarks>
public static class ShallowCopiers
{
    [RegisterCopier]
    public sealed class Sha256DigestCopier : ShallowCopier<Sha256Digest>;

    [RegisterCopier]
    public sealed class KeyFingerprintCopier : ShallowCopier<KeyFingerprint>;

    [RegisterCopier]
    public sealed class NodeRecordCopier : ShallowCopier<NodeRecord>;

    [RegisterCopier]
    public sealed class FederationPolicyCopier : ShallowCopier<FederationPolicy>;

    [RegisterCopier]
    public sealed class QuarantineEntryCopier : ShallowCopier<QuarantineEntry>;

    [RegisterCopier]
    public sealed class InclusionBundleCopier : ShallowCopier<InclusionBundle>;

    [RegisterCopier]
    public sealed class AdvisoryCopier : ShallowCopier<Advisory>;

    [RegisterCopier]
    public sealed class VerifiedUpdateCopier : ShallowCopier<VerifiedUpdate>;

    [RegisterCopier]
    public sealed class RecordedUpdateCopier : ShallowCopier<RecordedUpdate>;
}

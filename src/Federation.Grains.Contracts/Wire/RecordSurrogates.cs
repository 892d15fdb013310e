using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Scrolls;

namespace Federation.Grains.Wire;

// Core records that cross grain boundaries, member for member (ids in constructor order). Each is immutable (its
// collections are never changed once the record is made), so within a silo it is passed as is (ShallowCopiers.cs).

[GenerateSerializer, Immutable]
public readonly record struct NodeRecordSurrogate(
    [property: Id(0)] string FederationId,
    [property: Id(1)] KeyFingerprint Fingerprint,
    [property: Id(2)] TrustLevel TrustLevel,
    [property: Id(3)] SyncPolicy SyncPolicy,
    [property: Id(4)] IReadOnlyList<string> Capabilities,
    [property: Id(5)] NodeStatus Status,
    [property: Id(6)] string? SessionId,
    [property: Id(7)] string? LedgerBlockId,
    [property: Id(8)] long LastEpoch,
    [property: Id(9)] string? StatusReason);

[RegisterConverter]
public sealed class NodeRecordConverter : IConverter<NodeRecord, NodeRecordSurrogate>
{
    public NodeRecord ConvertFromSurrogate(in NodeRecordSurrogate s) =>
        new(s.FederationId, s.Fingerprint, s.TrustLevel, s.SyncPolicy, s.Capabilities, s.Status, s.SessionId, s.LedgerBlockId, s.LastEpoch, s.StatusReason);

    public NodeRecordSurrogate ConvertToSurrogate(in NodeRecord v) =>
        new(v.FederationId, v.Fingerprint, v.TrustLevel, v.SyncPolicy, v.Capabilities, v.Status, v.SessionId, v.LedgerBlockId, v.LastEpoch, v.StatusReason);
}

[GenerateSerializer, Immutable]
public readonly record struct FederationPolicySurrogate(
    [property: Id(0)] string FederationId,
    [property: Id(1)] AggregationKind Aggregation,
    [property: Id(2)] IReadOnlyList<string> RequiredCapabilities,
    [property: Id(3)] int VectorDimension,
    [property: Id(4)] int MaxPayloadBytes,
    [property: Id(5)] int MaxDeltaBytes);

[RegisterConverter]
public sealed class FederationPolicyConverter : IConverter<FederationPolicy, FederationPolicySurrogate>
{
    public FederationPolicy ConvertFromSurrogate(in FederationPolicySurrogate s) =>
        new(s.FederationId, s.Aggregation, s.RequiredCapabilities, s.VectorDimension, s.MaxPayloadBytes, s.MaxDeltaBytes);

    public FederationPolicySurrogate ConvertToSurrogate(in FederationPolicy v) =>
        new(v.FederationId, v.Aggregation, v.RequiredCapabilities, v.VectorDimension, v.MaxPayloadBytes, v.MaxDeltaBytes);
}

[GenerateSerializer, Immutable]
public readonly record struct QuarantineEntrySurrogate([property: Id(0)] KeyFingerprint Node, [property: Id(1)] string Reason, [property: Id(2)] Sha256Digest EvidenceHash);

[RegisterConverter]
public sealed class QuarantineEntryConverter : IConverter<QuarantineEntry, QuarantineEntrySurrogate>
{
    public QuarantineEntry ConvertFromSurrogate(in QuarantineEntrySurrogate s) => new(s.Node, s.Reason, s.EvidenceHash);

    public QuarantineEntrySurrogate ConvertToSurrogate(in QuarantineEntry v) => new(v.Node, v.Reason, v.EvidenceHash);
}

[GenerateSerializer, Immutable]
public readonly record struct InclusionBundleSurrogate(
    [property: Id(0)] string Scroll,
    [property: Id(1)] long Index,
    [property: Id(2)] string Line,
    [property: Id(3)] Sha256Digest LeafHash,
    [property: Id(4)] IReadOnlyList<Sha256Digest> Proof,
    [property: Id(5)] string Checkpoint);

[RegisterConverter]
public sealed class InclusionBundleConverter : IConverter<InclusionBundle, InclusionBundleSurrogate>
{
    public InclusionBundle ConvertFromSurrogate(in InclusionBundleSurrogate s) => new(s.Scroll, s.Index, s.Line, s.LeafHash, s.Proof, s.Checkpoint);

    public InclusionBundleSurrogate ConvertToSurrogate(in InclusionBundle v) => new(v.Scroll, v.Index, v.Line, v.LeafHash, v.Proof, v.Checkpoint);
}

[GenerateSerializer, Immutable]
public readonly record struct AdvisorySurrogate(
    [property: Id(0)] string AdvisoryId,
    [property: Id(1)] string FederationId,
    [property: Id(2)] long Epoch,
    [property: Id(3)] string DriftType,
    [property: Id(4)] string SourceEnv,
    [property: Id(5)] IReadOnlyList<string> TargetEnvs,
    [property: Id(6)] string Recommendation,
    [property: Id(7)] string Detail,
    [property: Id(8)] AdvisoryStatus Status);

[RegisterConverter]
public sealed class AdvisoryConverter : IConverter<Advisory, AdvisorySurrogate>
{
    public Advisory ConvertFromSurrogate(in AdvisorySurrogate s) =>
        new(s.AdvisoryId, s.FederationId, s.Epoch, s.DriftType, s.SourceEnv, s.TargetEnvs, s.Recommendation, s.Detail, s.Status);

    public AdvisorySurrogate ConvertToSurrogate(in Advisory v) =>
        new(v.AdvisoryId, v.FederationId, v.Epoch, v.DriftType, v.SourceEnv, v.TargetEnvs, v.Recommendation, v.Detail, v.Status);
}

[GenerateSerializer, Immutable]
public readonly record struct RecordedUpdateSurrogate(
    [property: Id(0)] long Epoch,
    [property: Id(1)] Sha256Digest SignedHash,
    [property: Id(2)] string ReceiptId,
    [property: Id(3)] long Seq,
    [property: Id(4)] Sha256Digest LeafHash,
    [property: Id(5)] bool Late);

[RegisterConverter]
public sealed class RecordedUpdateConverter : IConverter<RecordedUpdate, RecordedUpdateSurrogate>
{
    public RecordedUpdate ConvertFromSurrogate(in RecordedUpdateSurrogate s) => new(s.Epoch, s.SignedHash, s.ReceiptId, s.Seq, s.LeafHash, s.Late);

    public RecordedUpdateSurrogate ConvertToSurrogate(in RecordedUpdate v) => new(v.Epoch, v.SignedHash, v.ReceiptId, v.Seq, v.LeafHash, v.Late);
}

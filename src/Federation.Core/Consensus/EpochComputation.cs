using System.Text.Json.Nodes;
using Federation.Core.Aggregation;
using Federation.Core.Canonical;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Signing;

namespace Federation.Core.Consensus;

/// <summary>How a federation aggregates numeric deltas.</summary>
public enum VectorStrategy
{
    Median,
    TrimmedMean,
    MultiKrum,
}

/// <summary>The aggregation and divergence rules of a federation (issue 6; defaults are named constants).</summary>
public sealed record AggregationPolicy(VectorStrategy Strategy, double TrimFraction, DivergencePolicy Divergence, double PostureThreshold)
{
    public const double DefaultTrimFraction = 0.2;

    public static AggregationPolicy DefaultVector { get; } = new(VectorStrategy.MultiKrum, DefaultTrimFraction, new DivergencePolicy(DivergenceMetric.Distance, 1.0, 2, 0.25), CanonAggregation.DefaultPostureThreshold);

    public static AggregationPolicy DefaultCanon { get; } = new(VectorStrategy.Median, DefaultTrimFraction, DivergencePolicy.DefaultDrift, CanonAggregation.DefaultPostureThreshold);
}

/// <summary>One update as its receipt in the update scroll holds it.</summary>
public sealed record ScrollUpdate(long Seq, byte[] SignedUpdate);

/// <summary>Statistical evidence behind a divergence quarantine: the scores, the threshold, the aggregate.</summary>
public sealed record DivergenceEvidence(long Epoch, KeyFingerprint Node, DivergenceMetric Metric, double Value, double Threshold, int ConsecutiveEpochs, Sha256Digest AggregateHash)
{
    public const string Type = "divergence_evidence";

    public JsonObject ToJson() => new()
    {
        ["type"] = Type,
        ["epoch"] = Epoch,
        ["node"] = Node.ToString(),
        ["metric"] = Metric.ToString().ToLowerInvariant(),
        ["value"] = Value,
        ["threshold"] = Threshold,
        ["consecutive_epochs"] = ConsecutiveEpochs,
        ["aggregate_hash"] = AggregateHash.ToString(),
    };

    public Sha256Digest Hash() => Sha256Digest.Of(CanonicalJson.Write(ToJson()));
}

/// <summary>Everything an epoch's decision rests on; its <see cref="Proposal"/> is what the validators sign.</summary>
public sealed record EpochOutcome(
    EpochProposal Proposal,
    AlignmentResult Alignment,
    JsonObject Aggregate,
    IReadOnlyList<DivergenceAssessment> Assessments,
    IReadOnlyList<DivergenceEvidence> DivergenceEvidence,
    IReadOnlyList<DriftDetection> Drift,
    IReadOnlyDictionary<KeyFingerprint, int> Streaks);

/// <summary>
/// The deterministic function every validator runs on the same inputs (the update scroll's receipts for the
/// epoch, the epoch's base state, the active set, the committed divergence streaks): alignment, robust
/// aggregation, divergence and quarantine. Bit-identical on every machine: inputs in ledger order, no clocks.
/// </summary>
public static class EpochComputation
{
    /// <summary>
    /// <see cref="Compute(long, Sha256Digest, IReadOnlyList{ScrollUpdate}, IReadOnlySet{KeyFingerprint}, FederationPolicy, AggregationPolicy, IReadOnlyDictionary{KeyFingerprint, int}, IReadOnlyList{QuarantineEntry})"/>
    /// from an epoch's inputs as the epoch chain keeps them (the active nodes as a list, the streaks by fingerprint text):
    /// what the aggregator and every validator run.
    /// </summary>
    public static EpochOutcome Compute(
        long epoch,
        Sha256Digest baseState,
        IReadOnlyList<ScrollUpdate> updates,
        IEnumerable<KeyFingerprint> active,
        FederationPolicy federation,
        AggregationPolicy policy,
        IReadOnlyDictionary<string, int> streaks,
        IReadOnlyList<QuarantineEntry> quarantinedAtIngest) =>
        Compute(epoch, baseState, updates, active.ToHashSet(), federation, policy, streaks.ToDictionary(s => KeyFingerprint.Parse(s.Key), s => s.Value), quarantinedAtIngest);

    public static EpochOutcome Compute(
        long epoch,
        Sha256Digest baseState,
        IReadOnlyList<ScrollUpdate> updates,
        IReadOnlySet<KeyFingerprint> activeAtStart,
        FederationPolicy federation,
        AggregationPolicy policy,
        IReadOnlyDictionary<KeyFingerprint, int> streaks,
        IReadOnlyList<QuarantineEntry> quarantinedAtIngest)
    {
        var parsed = updates
            .Select(u => (u.Seq, Envelope: SignedEnvelope.Parse(u.SignedUpdate)))
            .Select(u => (u.Seq, u.Envelope, Update: u.Envelope.PayloadAs<MetaUpdate>()))
            .Where(u => u.Update.FederatedEpoch == epoch)
            .ToList();

        // The scroll is not trusted blindly: a receipt whose signed update does not verify is excluded.
        var forged = parsed.Where(u => !u.Envelope.Verify(Ed25519Verifier.Trusting(Ed25519PublicKey.FromFingerprint(u.Update.NodeFingerprint))).IsValid).ToList();
        parsed = parsed.Except(forged).ToList();
        var alignment = DynamicNodeAlignment.Align(
            parsed.Select(u => new EpochUpdate(u.Seq, u.Update.NodeFingerprint, u.Update.UpdateHash, u.Update.BaseStateHash)).ToList(),
            baseState,
            activeAtStart);
        if (forged.Count > 0)
        {
            alignment = alignment with
            {
                Excluded = [.. alignment.Excluded, .. forged.Select(f => new ExcludedUpdate(f.Seq, f.Update.NodeFingerprint, "bad_signature", "the sealed update's signature does not verify"))],
            };
        }
        var bySeq = parsed.ToDictionary(u => u.Seq);
        var included = alignment.Included
            .Select(a => (a.Node, Delta: UpdatePayload.Decode(Convert.FromBase64String(bySeq[a.Seq].Update.Payload), federation)))
            .ToList();

        JsonObject aggregate;
        var values = new Dictionary<KeyFingerprint, double>();
        var drift = new List<DriftDetection>();
        if (included.Count == 0)
        {
            aggregate = new JsonObject { ["kind"] = federation.Aggregation.ToString().ToLowerInvariant(), ["empty"] = true };
        }
        else if (federation.Aggregation == AggregationKind.Vector)
        {
            var vectors = included.Select(i => i.Delta.Values!).ToList();
            double[] result;
            double[]? scores = null;
            var excluded = new JsonArray();
            switch (policy.Strategy)
            {
                case VectorStrategy.MultiKrum when vectors.Count >= 5:
                    var f = (vectors.Count - 3) / 2;
                    var krum = VectorAggregation.MultiKrum(vectors, f, vectors.Count - f);
                    result = krum.Aggregate;
                    scores = krum.Scores;
                    foreach (var index in krum.Excluded)
                    {
                        excluded.Add(new JsonObject { ["node"] = included[index].Node.ToString(), ["score"] = krum.Scores[index] });
                    }

                    break;
                case VectorStrategy.TrimmedMean:
                    result = VectorAggregation.TrimmedMean(vectors, policy.TrimFraction);
                    break;
                default:
                    result = VectorAggregation.Median(vectors);
                    break;
            }

            aggregate = new JsonObject
            {
                ["kind"] = "vector",
                ["strategy"] = policy.Strategy.ToString().ToLowerInvariant(),
                ["values"] = new JsonArray(result.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
                ["krum_excluded"] = excluded,
            };
            for (var i = 0; i < included.Count; i++)
            {
                values[included[i].Node] = policy.Divergence.Metric == DivergenceMetric.Score && scores is not null
                    ? scores[i]
                    : VectorAggregation.Distance(included[i].Delta.Values!, result);
            }
        }
        else
        {
            var canon = CanonAggregation.Aggregate(included.ToDictionary(i => i.Node.ToString(), i => i.Delta.Entries!), policy.PostureThreshold);
            drift.AddRange(canon.Drift);
            aggregate = new JsonObject
            {
                ["kind"] = "canon",
                ["entries"] = new JsonObject(canon.Entries.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)new JsonObject
                {
                    ["revision"] = e.Value.Revision,
                    ["confidence"] = e.Value.Confidence,
                    ["patch"] = e.Value.Patch,
                    ["supporters"] = e.Value.Supporters,
                }))),
            };
            foreach (var (node, score) in canon.DriftScores)
            {
                values[KeyFingerprint.Parse(node)] = score;
            }
        }

        var aggregateHash = Sha256Digest.Of(CanonicalJson.Write(aggregate));
        var tracker = new DivergenceTracker(policy.Divergence, streaks);
        var assessments = tracker.Assess(values);
        var evidence = assessments.Where(a => a.Verdict == DivergenceVerdict.Quarantine)
            .Select(a => new DivergenceEvidence(epoch, a.Node, policy.Divergence.Metric, a.Value, policy.Divergence.QuarantineThreshold, a.ConsecutiveAbove, aggregateHash))
            .ToList();
        var quarantined = quarantinedAtIngest
            .Concat(evidence.Select(e => new QuarantineEntry(e.Node, "divergence", e.Hash())))
            .GroupBy(q => q.Node).Select(g => g.First())
            .OrderBy(q => q.Node.Hex, StringComparer.Ordinal)
            .ToList();
        var proposal = new EpochProposal(epoch, baseState, alignment.AlignmentHash, alignment.Included.Select(i => i.Node).ToList(), alignment.Excluded, quarantined, aggregateHash);
        return new EpochOutcome(proposal, alignment, aggregate, assessments, evidence, drift, tracker.Streaks);
    }
}

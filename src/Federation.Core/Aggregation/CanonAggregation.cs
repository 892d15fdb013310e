using Federation.Core.Ingest;

namespace Federation.Core.Aggregation;

/// <summary>SPEC B drift types between a node's canon entry and the federation's majority.</summary>
public enum DriftType
{
    /// <summary>Same signature id, a different active revision.</summary>
    VersionSkew,

    /// <summary>Same revision, confidence differing by more than the threshold (default 0.3).</summary>
    PostureDivergence,

    /// <summary>Same revision, an incompatible patch.</summary>
    RefinementConflict,
}

public sealed record DriftDetection(string Node, string SignatureId, DriftType Type, string Detail);

/// <summary>The majority view of one signature id.</summary>
public sealed record MajorityEntry(string SignatureId, long Revision, double Confidence, string Patch, int Supporters);

public sealed record CanonAggregate(IReadOnlyDictionary<string, MajorityEntry> Entries, IReadOnlyList<DriftDetection> Drift, IReadOnlyDictionary<string, double> DriftScores);

/// <summary>
/// Aggregation of keyed canon entries (signature_id → revision, confidence, patch): the majority revision
/// per entry, the majority patch among its holders, their median confidence; every deviation is a
/// drift detection of SPEC B's three types, and each node gets a drift score (drifted entries / entries it sent).
/// </summary>
public static class CanonAggregation
{
    public const double DefaultPostureThreshold = 0.3;

    /// <param name="updates">Per node (any stable id), its entries; iteration order does not matter.</param>
    public static CanonAggregate Aggregate(IReadOnlyDictionary<string, IReadOnlyDictionary<string, CanonEntry>> updates, double postureThreshold = DefaultPostureThreshold)
    {
        var nodes = updates.Keys.Order(StringComparer.Ordinal).ToList();
        var ids = updates.Values.SelectMany(e => e.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var majority = new SortedDictionary<string, MajorityEntry>(StringComparer.Ordinal);
        var drift = new List<DriftDetection>();
        var drifted = nodes.ToDictionary(n => n, _ => 0, StringComparer.Ordinal);

        foreach (var id in ids)
        {
            var holders = nodes.Where(n => updates[n].ContainsKey(id)).Select(n => (Node: n, Entry: updates[n][id])).ToList();

            // Majority revision; ties go to the higher revision (the newer one wins a split vote).
            var revision = holders.GroupBy(h => h.Entry.Revision).OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key).First().Key;
            var atRevision = holders.Where(h => h.Entry.Revision == revision).ToList();
            var patch = atRevision.GroupBy(h => h.Entry.Patch).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
            var confidences = atRevision.Select(h => h.Entry.Confidence).Order().ToList();
            var mid = confidences.Count / 2;
            var confidence = confidences.Count % 2 == 1 ? confidences[mid] : (confidences[mid - 1] + confidences[mid]) / 2;
            majority[id] = new MajorityEntry(id, revision, confidence, patch, atRevision.Count);

            foreach (var (node, entry) in holders)
            {
                DriftDetection? detection = null;
                if (entry.Revision != revision)
                {
                    detection = new(node, id, DriftType.VersionSkew, $"revision {entry.Revision}, majority {revision}");
                }
                else if (entry.Patch != patch)
                {
                    detection = new(node, id, DriftType.RefinementConflict, $"patch differs from the majority's at revision {revision}");
                }
                else if (Math.Abs(entry.Confidence - confidence) > postureThreshold)
                {
                    detection = new(node, id, DriftType.PostureDivergence, $"confidence {entry.Confidence:0.###}, majority {confidence:0.###} (threshold {postureThreshold})");
                }

                if (detection is not null)
                {
                    drift.Add(detection);
                    drifted[node]++;
                }
            }
        }

        var scores = nodes.ToDictionary(n => n, n => updates[n].Count == 0 ? 0 : drifted[n] / (double)updates[n].Count, StringComparer.Ordinal);
        return new CanonAggregate(majority, drift, scores);
    }
}

using Federation.Core.Aggregation;
using Federation.Core.Ingest;

namespace Federation.Core.Tests.Aggregation;

public class VectorAggregationTests
{
    private static IReadOnlyList<IReadOnlyList<double>> V(params double[][] rows) => rows;

    [Fact]
    public void Median_is_coordinate_wise_and_averages_the_middle_pair()
    {
        Assert.Equal([2.0, 20.0], VectorAggregation.Median(V([1, 30], [2, 10], [100, 20])));
        Assert.Equal([2.5, 15.0], VectorAggregation.Median(V([1, 10], [2, 20], [3, 10], [100, 20])));
    }

    [Fact]
    public void Trimmed_mean_drops_the_extremes_of_each_coordinate()
    {
        var result = VectorAggregation.TrimmedMean(V([1, -50], [2, 2], [3, 3], [4, 4], [1000, 5]), 0.2);
        Assert.Equal([3.0, 3.0], result);
        Assert.Equal([202.0, -7.2], VectorAggregation.TrimmedMean(V([1, -50], [2, 2], [3, 3], [4, 4], [1000, 5]), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => VectorAggregation.TrimmedMean(V([1]), 0.5));
    }

    [Fact]
    public void Multi_krum_excludes_the_outliers_and_reports_their_scores()
    {
        var random = new Random(3);
        var honest = Enumerable.Range(0, 8).Select(_ => (IReadOnlyList<double>)Enumerable.Range(0, 5).Select(_ => 1 + random.NextDouble() * 0.01).ToArray()).ToList();
        var attackers = new[] { (IReadOnlyList<double>)Enumerable.Repeat(50.0, 5).ToArray(), Enumerable.Repeat(-40.0, 5).ToArray() };
        var inputs = honest.Take(3).Concat(attackers.Take(1)).Concat(honest.Skip(3)).Concat(attackers.Skip(1)).ToList(); // attackers at 3 and 9

        var result = VectorAggregation.MultiKrum(inputs, byzantine: 2, keep: 7);
        Assert.Equal([3, 9], result.Excluded.Intersect([3, 9]).ToArray());
        Assert.All(result.Selected, i => Assert.DoesNotContain(i, new[] { 3, 9 }));
        Assert.True(result.Scores[3] > result.Scores.Where((_, i) => i is not (3 or 9)).Max());
        Assert.All(result.Aggregate, v => Assert.InRange(v, 1, 1.01));
        Assert.Equal(inputs.Count, result.Selected.Count + result.Excluded.Count);
    }

    [Fact]
    public void Multi_krum_needs_enough_inputs_for_its_f()
    {
        var inputs = Enumerable.Range(0, 4).Select(i => (IReadOnlyList<double>)new double[] { i }).ToList();
        Assert.Throws<ArgumentException>(() => VectorAggregation.MultiKrum(inputs, byzantine: 1, keep: 2));
    }

    [Fact]
    public void Aggregation_is_independent_of_nothing_but_its_inputs()
    {
        var inputs = Enumerable.Range(0, 9).Select(i => (IReadOnlyList<double>)new[] { i * 0.1, 1.0 / (i + 1) }).ToList();
        Assert.Equal(VectorAggregation.MultiKrum(inputs, 2, 5).Aggregate, VectorAggregation.MultiKrum(inputs.ToList(), 2, 5).Aggregate);
    }

    [Fact]
    public void Malformed_inputs_are_refused()
    {
        Assert.Throws<ArgumentException>(() => VectorAggregation.Median([]));
        Assert.Throws<ArgumentException>(() => VectorAggregation.Median(V([1, 2], [1])));
        Assert.Throws<ArgumentException>(() => VectorAggregation.Median(V([double.NaN])));
    }
}

public class CanonAggregationTests
{
    private static IReadOnlyDictionary<string, CanonEntry> E(params (string Id, long Revision, double Confidence, string Patch)[] entries) =>
        entries.ToDictionary(e => e.Id, e => new CanonEntry(e.Revision, e.Confidence, e.Patch));

    [Fact]
    public void The_majority_revision_wins_and_each_drift_type_is_detected()
    {
        var updates = new Dictionary<string, IReadOnlyDictionary<string, CanonEntry>>
        {
            ["a"] = E(("sig-1", 3, 0.9, "p3"), ("sig-2", 1, 0.5, "q")),
            ["b"] = E(("sig-1", 3, 0.8, "p3"), ("sig-2", 1, 0.5, "q")),
            ["c"] = E(("sig-1", 3, 0.85, "p3"), ("sig-2", 1, 0.1, "q")),   // posture divergence on sig-2
            ["d"] = E(("sig-1", 2, 0.9, "p2"), ("sig-2", 1, 0.5, "q")),    // version skew on sig-1
            ["e"] = E(("sig-1", 3, 0.9, "other"), ("sig-2", 1, 0.5, "q")), // refinement conflict on sig-1
        };

        var result = CanonAggregation.Aggregate(updates);
        Assert.Equal(3, result.Entries["sig-1"].Revision);
        Assert.Equal("p3", result.Entries["sig-1"].Patch);
        Assert.Equal(0.5, result.Entries["sig-2"].Confidence);
        Assert.Equal(
            [("c", "sig-2", DriftType.PostureDivergence), ("d", "sig-1", DriftType.VersionSkew), ("e", "sig-1", DriftType.RefinementConflict)],
            result.Drift.Select(d => (d.Node, d.SignatureId, d.Type)).OrderBy(d => d.Node).ToArray());
        Assert.Equal(0.5, result.DriftScores["d"]);
        Assert.Equal(0, result.DriftScores["a"]);
    }

    [Fact]
    public void A_split_vote_goes_to_the_newer_revision_and_the_threshold_is_configurable()
    {
        var updates = new Dictionary<string, IReadOnlyDictionary<string, CanonEntry>>
        {
            ["a"] = E(("s", 4, 0.5, "p")),
            ["b"] = E(("s", 5, 0.5, "p")),
            ["c"] = E(("s", 5, 0.3, "p")),
            ["d"] = E(("s", 4, 0.5, "p")),
        };
        Assert.Equal(5, CanonAggregation.Aggregate(updates).Entries["s"].Revision);
        Assert.DoesNotContain(CanonAggregation.Aggregate(updates).Drift, d => d.Type == DriftType.PostureDivergence);
        Assert.Contains(CanonAggregation.Aggregate(updates, postureThreshold: 0.05).Drift, d => d.Type == DriftType.PostureDivergence);
    }
}

public class KrumSelectionTests
{
    [Fact]
    public void Scores_by_selection_are_bit_identical_to_scores_by_full_sort()
    {
        var random = new Random(17);
        for (var trial = 0; trial < 20; trial++)
        {
            var n = random.Next(5, 60);
            var f = (n - 3) / 2;
            var vectors = Enumerable.Range(0, n).Select(_ => (IReadOnlyList<double>)Enumerable.Range(0, 3).Select(_ => Math.Round(random.NextDouble() * 4, random.Next(0, 3))).ToArray()).ToList();
            var result = VectorAggregation.MultiKrum(vectors, f, n - f);
            for (var i = 0; i < n; i++)
            {
                var row = Enumerable.Range(0, n).Where(j => j != i).Select(j => Enumerable.Range(0, 3).Sum(d => (vectors[i][d] - vectors[j][d]) * (vectors[i][d] - vectors[j][d]))).Order().ToArray();
                var expected = 0.0;
                for (var j = 0; j < n - f - 2; j++)
                {
                    expected += row[j];
                }

                Assert.Equal(expected, result.Scores[i]);
            }
        }
    }
}

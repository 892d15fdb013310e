namespace Federation.Core.Aggregation;

/// <summary>A Multi-Krum selection: the aggregate and, for every input, its score and whether it was kept.</summary>
/// <param name="Scores">Krum score per input (sum of squared distances to its n − f − 2 nearest neighbours), input order.</param>
/// <param name="Selected">Indices kept (the m lowest scores; ties broken by index), ascending.</param>
/// <param name="Excluded">Indices not kept, ascending.</param>
public sealed record KrumResult(double[] Aggregate, double[] Scores, IReadOnlyList<int> Selected, IReadOnlyList<int> Excluded);

/// <summary>
/// Byzantine-robust aggregation of numeric deltas. Every function is deterministic: sums run in input
/// order, ties break by index, so every validator recomputes bit-identical results.
/// </summary>
public static class VectorAggregation
{
    /// <summary>Coordinate-wise median (mean of the two middle values for an even count).</summary>
    public static double[] Median(IReadOnlyList<IReadOnlyList<double>> vectors)
    {
        var dimension = CheckShape(vectors);
        var result = new double[dimension];
        var column = new double[vectors.Count];
        for (var d = 0; d < dimension; d++)
        {
            for (var i = 0; i < vectors.Count; i++)
            {
                column[i] = vectors[i][d];
            }

            Array.Sort(column);
            var mid = column.Length / 2;
            result[d] = column.Length % 2 == 1 ? column[mid] : (column[mid - 1] + column[mid]) / 2;
        }

        return result;
    }

    /// <summary>Coordinate-wise trimmed mean: drops ⌊β·n⌋ values from each end of every coordinate.</summary>
    public static double[] TrimmedMean(IReadOnlyList<IReadOnlyList<double>> vectors, double trimFraction)
    {
        if (trimFraction is < 0 or >= 0.5)
        {
            throw new ArgumentOutOfRangeException(nameof(trimFraction), trimFraction, "the trim fraction must be in [0, 0.5)");
        }

        var dimension = CheckShape(vectors);
        var trim = (int)Math.Floor(trimFraction * vectors.Count);
        var kept = vectors.Count - 2 * trim;
        var result = new double[dimension];
        var column = new double[vectors.Count];
        for (var d = 0; d < dimension; d++)
        {
            for (var i = 0; i < vectors.Count; i++)
            {
                column[i] = vectors[i][d];
            }

            Array.Sort(column);
            var sum = 0.0;
            for (var i = trim; i < trim + kept; i++)
            {
                sum += column[i];
            }

            result[d] = sum / kept;
        }

        return result;
    }

    /// <summary>
    /// Multi-Krum (Blanchard et al., 2017): score every vector by the sum of squared distances to its
    /// n − f − 2 nearest neighbours, keep the <paramref name="keep"/> lowest scores and average them.
    /// Unlike implementations that return only the weights, this says who was excluded and why (the scores).
    /// </summary>
    public static KrumResult MultiKrum(IReadOnlyList<IReadOnlyList<double>> vectors, int byzantine, int keep)
    {
        var n = vectors.Count;
        var dimension = CheckShape(vectors);
        if (byzantine < 0 || n < 2 * byzantine + 3)
        {
            throw new ArgumentException($"Multi-Krum needs n ≥ 2f + 3 inputs: n = {n}, f = {byzantine}");
        }

        if (keep < 1 || keep > n)
        {
            throw new ArgumentOutOfRangeException(nameof(keep), keep, $"must keep between 1 and {n} inputs");
        }

        // Row by row, without an n × n matrix (10,000 inputs would need 800 MB): each row's distances, then the
        // sum of its n − f − 2 smallest by selection (expected O(n)), not a full sort (O(n log n) per row).
        var neighbours = n - byzantine - 2;
        var scores = new double[n];
        var row = new double[n - 1];
        for (var i = 0; i < n; i++)
        {
            var k = 0;
            for (var j = 0; j < n; j++)
            {
                if (j != i)
                {
                    row[k++] = SquaredDistance(vectors[i], vectors[j], dimension);
                }
            }

            SelectSmallest(row, neighbours);
            Array.Sort(row, 0, neighbours); // sum the selected ones in ascending order: the same bits as a full sort
            var score = 0.0;
            for (var j = 0; j < neighbours; j++)
            {
                score += row[j];
            }

            scores[i] = score;
        }

        var order = Enumerable.Range(0, n).OrderBy(i => scores[i]).ThenBy(i => i).ToList();
        var selected = order.Take(keep).Order().ToList();
        var excluded = order.Skip(keep).Order().ToList();
        var aggregate = new double[dimension];
        foreach (var i in selected)
        {
            for (var d = 0; d < dimension; d++)
            {
                aggregate[d] += vectors[i][d];
            }
        }

        for (var d = 0; d < dimension; d++)
        {
            aggregate[d] /= selected.Count;
        }

        return new KrumResult(aggregate, scores, selected, excluded);
    }

    private static double SquaredDistance(IReadOnlyList<double> a, IReadOnlyList<double> b, int dimension)
    {
        var sum = 0.0;
        for (var d = 0; d < dimension; d++)
        {
            var diff = a[d] - b[d];
            sum += diff * diff;
        }

        return sum;
    }

    /// <summary>Rearranges <paramref name="values"/> so its <paramref name="count"/> smallest come first (Hoare selection, median-of-three pivots).</summary>
    private static void SelectSmallest(double[] values, int count)
    {
        int lo = 0, hi = values.Length - 1;
        while (lo < hi && count > lo && count <= hi)
        {
            var mid = lo + ((hi - lo) / 2);
            var pivot = Median3(values[lo], values[mid], values[hi]);
            int i = lo, j = hi;
            while (i <= j)
            {
                while (values[i] < pivot)
                {
                    i++;
                }

                while (values[j] > pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }

            // [lo, j] ≤ pivot ≤ [i, hi]; keep the side that holds the boundary between the count smallest and the rest.
            if (count <= j)
            {
                hi = j;
            }
            else if (count >= i)
            {
                lo = i;
            }
            else
            {
                return;
            }
        }
    }

    private static double Median3(double a, double b, double c) => Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));

    /// <summary>Euclidean distance between two vectors of one dimension.</summary>
    public static double Distance(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count != b.Count)
        {
            throw new ArgumentException($"dimensions differ: {a.Count} and {b.Count}");
        }

        var sum = 0.0;
        for (var d = 0; d < a.Count; d++)
        {
            var diff = a[d] - b[d];
            sum += diff * diff;
        }

        return Math.Sqrt(sum);
    }

    private static int CheckShape(IReadOnlyList<IReadOnlyList<double>> vectors)
    {
        if (vectors.Count == 0)
        {
            throw new ArgumentException("nothing to aggregate: no vectors");
        }

        var dimension = vectors[0].Count;
        for (var i = 0; i < vectors.Count; i++)
        {
            if (vectors[i].Count != dimension)
            {
                throw new ArgumentException($"vector {i} has dimension {vectors[i].Count}, expected {dimension}");
            }

            for (var d = 0; d < dimension; d++)
            {
                if (!double.IsFinite(vectors[i][d]))
                {
                    throw new ArgumentException($"vector {i} has a non-finite value at {d}");
                }
            }
        }

        return dimension;
    }
}

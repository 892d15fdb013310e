namespace Federation.Hosting.Telemetry;

/// <summary>
/// In-memory aggregates of one grain method: calls, errors and a latency histogram with power-of-two
/// microsecond buckets (1 µs … 2^25 µs ≈ 33 s, then overflow). Lock-free; read by the management interface.
/// </summary>
internal sealed class MethodStatistics(string grainType, string method)
{
    /// <summary>Bucket i counts latencies ≤ 2^i µs.</summary>
    public const int BucketCount = 26;

    private readonly long[] _buckets = new long[BucketCount + 1];
    private long _calls;
    private long _errors;
    private long _totalMicroseconds;

    public string GrainType { get; } = grainType;

    public string Method { get; } = method;

    public void Record(double microseconds, bool failed)
    {
        Interlocked.Increment(ref _calls);
        if (failed)
        {
            Interlocked.Increment(ref _errors);
        }

        var whole = (long)Math.Ceiling(microseconds);
        Interlocked.Add(ref _totalMicroseconds, whole);
        var bucket = whole <= 1 ? 0 : 64 - long.LeadingZeroCount(whole - 1);
        Interlocked.Increment(ref _buckets[Math.Min(bucket, BucketCount)]);
    }

    public GrainMethodStatistics Snapshot()
    {
        var counts = new long[_buckets.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = Volatile.Read(ref _buckets[i]);
        }

        var calls = Volatile.Read(ref _calls);
        var bounds = new double[BucketCount];
        for (var i = 0; i < bounds.Length; i++)
        {
            bounds[i] = Math.Pow(2, i);
        }

        return new GrainMethodStatistics(
            GrainType,
            Method,
            calls,
            Volatile.Read(ref _errors),
            calls == 0 ? 0 : (double)Volatile.Read(ref _totalMicroseconds) / calls,
            Percentile(counts, bounds, 0.50),
            Percentile(counts, bounds, 0.99),
            bounds,
            counts);
    }

    /// <summary>The upper bound of the bucket holding the q-th latency (overflow reads as the last bound).</summary>
    private static double Percentile(long[] counts, double[] bounds, double q)
    {
        var total = counts.Sum();
        if (total == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(q * total);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return bounds[Math.Min(i, bounds.Length - 1)];
            }
        }

        return bounds[^1];
    }
}

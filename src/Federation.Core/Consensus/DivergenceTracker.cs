using Federation.Core.Crypto;

namespace Federation.Core.Consensus;

/// <summary>What to measure a node's divergence from the robust aggregate with.</summary>
public enum DivergenceMetric
{
    /// <summary>Euclidean distance of the node's vector to the aggregate.</summary>
    Distance,

    /// <summary>The node's Multi-Krum score.</summary>
    Score,

    /// <summary>The node's canon drift score (drifted entries / entries), SPEC D's baseline drift.</summary>
    Drift,
}

/// <summary>
/// When divergence becomes quarantine (issue 6 / SPEC D): above <see cref="QuarantineThreshold"/> for
/// <see cref="ConsecutiveEpochs"/> epochs in a row → quarantine with evidence; above <see cref="FlagThreshold"/>
/// but not (yet) at quarantine level → the update is delayed and flagged, and becomes an advisory.
/// </summary>
public sealed record DivergencePolicy(DivergenceMetric Metric, double QuarantineThreshold, int ConsecutiveEpochs, double FlagThreshold)
{
    /// <summary>SPEC D's default for baselines: drift above 0.05 is flagged; quarantine needs more.</summary>
    public static DivergencePolicy DefaultDrift { get; } = new(DivergenceMetric.Drift, 0.5, 2, 0.05);

    public DivergencePolicy Validate()
    {
        if (ConsecutiveEpochs < 1 || FlagThreshold < 0 || QuarantineThreshold < FlagThreshold)
        {
            throw new ArgumentException($"divergence policy needs ConsecutiveEpochs ≥ 1 and 0 ≤ FlagThreshold ≤ QuarantineThreshold (got {ConsecutiveEpochs}, {FlagThreshold}, {QuarantineThreshold})");
        }

        return this;
    }
}

public enum DivergenceVerdict
{
    Normal,

    /// <summary>Delayed and flagged: recorded, aggregated with care, reported as an advisory.</summary>
    Flagged,

    /// <summary>Above the threshold, not yet for enough consecutive epochs.</summary>
    Watch,

    Quarantine,
}

public sealed record DivergenceAssessment(KeyFingerprint Node, double Value, int ConsecutiveAbove, DivergenceVerdict Verdict);

/// <summary>Per-node streaks of epochs above the quarantine threshold. Pure: the caller persists <see cref="Streaks"/>.</summary>
public sealed class DivergenceTracker(DivergencePolicy policy, IReadOnlyDictionary<KeyFingerprint, int>? streaks = null)
{
    private readonly Dictionary<KeyFingerprint, int> _streaks = streaks?.ToDictionary() ?? [];

    public IReadOnlyDictionary<KeyFingerprint, int> Streaks => _streaks;

    /// <summary>Assesses one epoch's values; nodes absent from the epoch keep their streak (slow nodes are never punished for lateness).</summary>
    public IReadOnlyList<DivergenceAssessment> Assess(IReadOnlyDictionary<KeyFingerprint, double> values)
    {
        var result = new List<DivergenceAssessment>();
        foreach (var (node, value) in values.OrderBy(v => v.Key.Hex, StringComparer.Ordinal))
        {
            if (value > policy.QuarantineThreshold)
            {
                var streak = _streaks.GetValueOrDefault(node) + 1;
                _streaks[node] = streak;
                result.Add(new(node, value, streak, streak >= policy.ConsecutiveEpochs ? DivergenceVerdict.Quarantine : DivergenceVerdict.Watch));
            }
            else
            {
                _streaks.Remove(node);
                result.Add(new(node, value, 0, value > policy.FlagThreshold ? DivergenceVerdict.Flagged : DivergenceVerdict.Normal));
            }
        }

        return result;
    }
}

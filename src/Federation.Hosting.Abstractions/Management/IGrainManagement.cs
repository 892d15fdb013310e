namespace Federation.Hosting;

/// <summary>
/// What the dashboard reads and steers (Orleans' <c>IManagementGrain</c>): activations, reminders, statistics.
/// </summary>
public interface IGrainManagement
{
    IReadOnlyList<ActivationInfo> ListActivations();

    /// <summary>Deactivates one activation gracefully; false when it is not active.</summary>
    Task<bool> DeactivateAsync(GrainId grainId);

    Task<IReadOnlyList<ReminderInfo>> ListRemindersAsync(CancellationToken cancellationToken = default);

    /// <summary>False when no such reminder exists.</summary>
    Task<bool> DeleteReminderAsync(GrainId grainId, string reminderName, CancellationToken cancellationToken = default);

    GrainStatisticsSnapshot GetStatistics();
}

public sealed record ActivationInfo(GrainId GrainId, string Status, DateTimeOffset ActivatedAt, DateTimeOffset LastUsedAt, int QueuedRequests, int RunningRequests);

public sealed record ReminderInfo(GrainId GrainId, string ReminderName, DateTimeOffset FirstTickTime, TimeSpan Period, DateTimeOffset NextDue);

/// <param name="Calls">Completed calls (successes and errors).</param>
/// <param name="LatencyBucketsMicroseconds">Upper bounds of the histogram buckets in µs; <paramref name="LatencyBucketCounts"/> has one more entry (overflow).</param>
public sealed record GrainMethodStatistics(
    string GrainType,
    string Method,
    long Calls,
    long Errors,
    double MeanMicroseconds,
    double P50Microseconds,
    double P99Microseconds,
    IReadOnlyList<double> LatencyBucketsMicroseconds,
    IReadOnlyList<long> LatencyBucketCounts);

public sealed record GrainStatisticsSnapshot(
    DateTimeOffset TakenAt,
    IReadOnlyList<GrainMethodStatistics> Methods,
    IReadOnlyDictionary<string, int> ActivationsByType,
    long ActivationsCreated,
    long ActivationsCollected);

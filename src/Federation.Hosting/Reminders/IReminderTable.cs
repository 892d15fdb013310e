namespace Federation.Hosting.Reminders;

/// <summary>
/// One durable reminder: first due time, period, and the next due time (advanced after each delivered tick,
/// so after downtime a missed reminder fires once — not once per missed period).
/// </summary>
public sealed record ReminderEntry(GrainId GrainId, string ReminderName, DateTimeOffset StartAt, TimeSpan Period, DateTimeOffset NextDue, string? Etag = null);

/// <summary>The durable reminder store (Orleans' <c>IReminderTable</c>).</summary>
public interface IReminderTable
{
    Task<IReadOnlyList<ReminderEntry>> ReadAllAsync(CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ReminderEntry>> ReadRowsAsync(GrainId grainId, CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces the row; returns its new etag. Returns when durable.</summary>
    Task<string> UpsertRowAsync(ReminderEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Removes the row when <paramref name="etag"/> is null or matches; false when no such row (or a newer one) exists.</summary>
    Task<bool> RemoveRowAsync(GrainId grainId, string reminderName, string? etag, CancellationToken cancellationToken = default);
}

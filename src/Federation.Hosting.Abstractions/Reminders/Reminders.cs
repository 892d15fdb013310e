namespace Federation.Hosting;

/// <summary>
/// A grain that receives durable reminders (Orleans' <c>IRemindable</c>). Ticks can repeat (a tick delivered
/// just before a crash may be delivered again after the restart): handlers must be idempotent.
/// </summary>
public interface IRemindable : IGrain
{
    Task ReceiveReminder(string reminderName, TickStatus status);
}

/// <param name="FirstTickTime">When the reminder was first due.</param>
/// <param name="Period">The period between ticks.</param>
/// <param name="CurrentTickTime">When this tick was due (after downtime: the latest missed due time).</param>
public readonly record struct TickStatus(DateTimeOffset FirstTickTime, TimeSpan Period, DateTimeOffset CurrentTickTime);

/// <summary>A registered reminder; pass it back to unregister.</summary>
public interface IGrainReminder
{
    string ReminderName { get; }
}

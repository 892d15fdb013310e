namespace Federation.Hosting.Runtime;

/// <summary>The management interface of one host, read by the dashboard.</summary>
internal sealed class GrainManagement(GrainRuntime runtime) : IGrainManagement
{
    public IReadOnlyList<ActivationInfo> ListActivations() => [.. runtime.Activations().Select(a => a.Describe())];

    public async Task<bool> DeactivateAsync(GrainId grainId)
    {
        if (!runtime.TryGetActivation(grainId, out var activation))
        {
            return false;
        }

        await activation.DeactivateAsync(DeactivationReason.ManagementRequested);
        return true;
    }

    public async Task<IReadOnlyList<ReminderInfo>> ListRemindersAsync(CancellationToken cancellationToken = default)
    {
        var rows = await runtime.Reminders.Table.ReadAllAsync(cancellationToken);
        return [.. rows.Select(r => new ReminderInfo(r.GrainId, r.ReminderName, r.StartAt, r.Period, r.NextDue))];
    }

    public async Task<bool> DeleteReminderAsync(GrainId grainId, string reminderName, CancellationToken cancellationToken = default)
    {
        var exists = (await runtime.Reminders.Table.ReadRowsAsync(grainId, cancellationToken)).Any(r => r.ReminderName == reminderName);
        if (!exists)
        {
            return false;
        }

        await runtime.Reminders.UnregisterAsync(grainId, reminderName);
        return true;
    }

    public GrainStatisticsSnapshot GetStatistics() => runtime.Statistics.Snapshot();
}

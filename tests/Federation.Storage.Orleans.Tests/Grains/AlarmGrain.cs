using Federation.Storage.Orleans.Tests.GrainStorage;
using Orleans.Runtime;

namespace Federation.Storage.Orleans.Tests.Grains;

/// <summary>A test grain with a durable reminder; each tick is counted in its persistent state, with the silo that took it.</summary>
[Alias("fed.test.alarm")]
public interface IAlarmGrain : IGrainWithStringKey
{
    /// <summary>Registers the reminder; returns the silo hosting the grain.</summary>
    [Alias("arm")]
    Task<string> Arm(TimeSpan dueTime, TimeSpan period);

    [Alias("read")]
    Task<AlarmView> Read();
}

[GenerateSerializer]
[Alias("fed.test.alarm-view.v1")]
public sealed class AlarmView
{
    [Id(0)]
    public int Ticks { get; init; }

    [Id(1)]
    public string? LastSilo { get; init; }
}

public sealed class AlarmState
{
    public int Ticks { get; set; }

    public string? LastSilo { get; set; }
}

[GrainType(AlarmGrain.GrainTypeName)]
public sealed class AlarmGrain([PersistentState(AlarmGrain.StateName, GrainStorageContract.StorageName)] IPersistentState<AlarmState> alarm)
    : Grain, IAlarmGrain, IRemindable
{
    public const string GrainTypeName = "alarm";
    public const string StateName = "alarm";
    public const string ReminderName = "wake";

    public async Task<string> Arm(TimeSpan dueTime, TimeSpan period)
    {
        await this.RegisterOrUpdateReminder(ReminderName, dueTime, period);
        return RuntimeIdentity;
    }

    public Task<AlarmView> Read() => Task.FromResult(new AlarmView { Ticks = alarm.State.Ticks, LastSilo = alarm.State.LastSilo });

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        alarm.State.Ticks++;
        alarm.State.LastSilo = RuntimeIdentity;
        await alarm.WriteStateAsync();
    }
}

using Microsoft.Extensions.Logging;

namespace Federation.Hosting.Telemetry;

/// <summary>The host's log events, source-generated, with stable event ids (4000–4099: grain host).</summary>
internal static partial class HostLog
{
    [LoggerMessage(4000, LogLevel.Information, "grain host started: {Grains} grain types, scheduler {Scheduler}, storage {Storage}, reminders {Reminders}")]
    public static partial void HostStarted(this ILogger logger, int grains, string scheduler, string storage, string reminders);

    [LoggerMessage(4001, LogLevel.Information, "grain host stopped gracefully: {Activations} activations deactivated")]
    public static partial void HostStopped(this ILogger logger, int activations);

    [LoggerMessage(4002, LogLevel.Warning, "grain host killed: {Activations} activations abandoned without deactivation")]
    public static partial void HostKilled(this ILogger logger, int activations);

    [LoggerMessage(4010, LogLevel.Debug, "activated {Grain}")]
    public static partial void Activated(this ILogger logger, string grain);

    [LoggerMessage(4011, LogLevel.Error, "activation of {Grain} failed; its queued requests fail with it")]
    public static partial void ActivationFailed(this ILogger logger, string grain, Exception exception);

    [LoggerMessage(4012, LogLevel.Debug, "deactivated {Grain} ({Reason})")]
    public static partial void Deactivated(this ILogger logger, string grain, DeactivationReason reason);

    [LoggerMessage(4013, LogLevel.Warning, "OnDeactivateAsync of {Grain} failed; the activation ends anyway")]
    public static partial void DeactivationFailed(this ILogger logger, string grain, Exception exception);

    [LoggerMessage(4017, LogLevel.Warning, "{Grain} did not deactivate within {Timeout}; abandoned")]
    public static partial void DeactivationTimedOut(this ILogger logger, string grain, TimeSpan timeout);

    [LoggerMessage(4014, LogLevel.Error, "a step of {Grain} threw outside any request")]
    public static partial void StepFailed(this ILogger logger, string grain, Exception exception);

    [LoggerMessage(4015, LogLevel.Warning, "timer callback of {Grain} failed")]
    public static partial void TimerFailed(this ILogger logger, string grain, Exception exception);

    [LoggerMessage(4016, LogLevel.Information, "collected {Count} idle activations")]
    public static partial void Collected(this ILogger logger, int count);

    [LoggerMessage(4020, LogLevel.Warning, "call {Call} timed out after {Timeout}")]
    public static partial void CallTimedOut(this ILogger logger, string call, TimeSpan timeout);

    [LoggerMessage(4030, LogLevel.Warning, "reminder {Reminder} of {Grain} failed")]
    public static partial void ReminderTickFailed(this ILogger logger, string grain, string reminder, Exception exception);

    [LoggerMessage(4031, LogLevel.Error, "could not store the next due time of reminder {Reminder} of {Grain}; it may repeat after a restart")]
    public static partial void ReminderStoreFailed(this ILogger logger, string grain, string reminder, Exception exception);

    [LoggerMessage(4032, LogLevel.Warning, "reminder {Reminder} of {Grain} names no registered IRemindable grain type; skipped")]
    public static partial void ReminderForUnknownGrain(this ILogger logger, string grain, string reminder);
}

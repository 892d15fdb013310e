using Federation.Grains.Federation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Grains.Services;

/// <summary>
/// Seed E's periodic anchor task in a running coordinator: every <see cref="AnchorOptions.Interval"/> each federation runs
/// an anchor cycle. With several silos each one's schedule fires; a second cycle of the same sizes is "already anchored".
/// </summary>
public sealed partial class AnchorSchedule(IGrainFactory grains, FederationDirectory federations, AnchorOptions options, TimeProvider time, ILogger<AnchorSchedule> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var federation in federations.Ids)
            {
                try
                {
                    foreach (var report in await grains.GetGrain<IAnchorGrain>(federation).RunAsync())
                    {
                        if (report.Outcome is not ("success" or "nothing_to_anchor"))
                        {
                            LogAnchorProblem(federation, report.Scroll, report.Outcome, report.Detail);
                        }
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogCycleFailed(federation, ex);
                }
            }
        }
    }

    [LoggerMessage(EventId = 4140, Level = LogLevel.Warning, Message = "anchor cycle of federation {Federation}: {Scroll} {Outcome}: {Detail}")]
    private partial void LogAnchorProblem(string federation, string scroll, string outcome, string detail);

    [LoggerMessage(EventId = 4141, Level = LogLevel.Error, Message = "anchor cycle of federation {Federation} failed")]
    private partial void LogCycleFailed(string federation, Exception exception);
}

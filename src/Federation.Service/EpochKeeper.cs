using Federation.Grains;
using Federation.Grains.Services;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Service;

/// <summary>
/// Keeps every federation's epoch grain active on <c>fed serve</c>: once a second each federation's grain is called
/// (<see cref="IEpochGrain.KeepAsync"/>). An epoch grain's quorum-plus-grace check is a timer, which lives with its
/// activation; when the silo hosting it dies, the next call places it on a live one and the check runs again there —
/// without this, an epoch whose updates had all arrived would wait for its deadline reminder. Every silo of a cluster
/// does this (the grain is one per federation, wherever it lives).
/// </summary>
public sealed class EpochKeeper(IGrainFactory grains, FederationDirectory federations, IHostApplicationLifetime lifetime, ILogger<EpochKeeper> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Not before the silo serves.
            await Task.Delay(Timeout.Infinite, lifetime.ApplicationStarted).ContinueWith(_ => { }, TaskScheduler.Default);
            using var timer = new PeriodicTimer(Period);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                foreach (var federation in federations.Ids)
                {
                    try
                    {
                        await grains.GetGrain<IEpochGrain>(federation).KeepAsync();
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // A silo just died: the grain is unreachable until membership has moved it; the next tick places it.
                        logger.LogDebug(ex, "epoch grain of {Federation} not reachable yet", federation);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }
}

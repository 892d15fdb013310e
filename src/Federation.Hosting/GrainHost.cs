using Federation.Hosting.Configuration;
using Federation.Hosting.Persistence;
using Federation.Hosting.Reminders;
using Federation.Hosting.Runtime;
using Federation.Hosting.Scheduling;
using Federation.Hosting.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Federation.Hosting;

/// <summary>
/// One grain host (Orleans' silo): start it, call grains through <see cref="GrainFactory"/>, stop it
/// gracefully (every activation deactivates) or <see cref="Kill"/> it (as a crash would). An
/// <see cref="IHostedService"/>, so the server can run it inside its generic host.
/// </summary>
public sealed class GrainHost : IHostedService, IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly GrainTelemetry _telemetry;
    private readonly ILogger _logger;
    private GrainRuntime? _runtime;
    private OpenTelemetryExport? _export;
    private bool _disposed;

    internal GrainHost(ServiceProvider services)
    {
        _services = services;
        var scheduler = services.GetRequiredService<IGrainScheduler>();
        _telemetry = new GrainTelemetry(scheduler.TimeProvider);
        _logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Federation.Hosting.GrainHost");
    }

    public IServiceProvider Services => _services;

    public IGrainFactory GrainFactory => Runtime;

    public IGrainManagement Management => new GrainManagement(Runtime);

    public TimeProvider TimeProvider => _services.GetRequiredService<IGrainScheduler>().TimeProvider;

    internal GrainRuntime Runtime => _runtime ?? throw new InvalidOperationException("the grain host is not started (StartAsync)");

    /// <summary>Live activations right now.</summary>
    public int ActivationCount => Runtime.ActivationCount;

    /// <summary>Collects at once every activation idle for at least <paramref name="idleFor"/> (what the collector does each quantum).</summary>
    public Task<int> CollectIdleActivationsAsync(TimeSpan idleFor) => Runtime.CollectIdleNowAsync(idleFor);

    /// <summary>Validates options (failures name the setting), opens storage, loads reminders, starts the collector.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_runtime is not null)
        {
            throw new InvalidOperationException("the grain host is already started");
        }

        var storage = _services.GetRequiredService<IOptions<GrainStorageOptions>>().Value;
        var collection = _services.GetRequiredService<IOptions<GrainCollectionOptions>>().Value;
        var messaging = _services.GetRequiredService<IOptions<GrainMessagingOptions>>().Value;
        var reminders = _services.GetRequiredService<IOptions<ReminderOptions>>().Value;
        var telemetry = _services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        var scheduler = _services.GetRequiredService<IGrainScheduler>();
        var registry = new GrainTypeRegistry(_services.GetRequiredService<GrainRegistrations>().Grains, _telemetry);

        var defaultStorage = _services.GetRequiredKeyedService<IGrainStorage>(GrainStorageOptions.DefaultStorageName);
        if (defaultStorage is PostgresGrainStorage postgres)
        {
            await postgres.InitializeAsync(cancellationToken);
        }

        var reminderTable = _services.GetRequiredService<IReminderTable>();
        if (reminderTable is PostgresReminderTable postgresReminders)
        {
            await postgresReminders.InitializeAsync(cancellationToken);
        }

        if (telemetry.OtlpEndpoint is { } endpoint)
        {
            _export = new OpenTelemetryExport(new Uri(endpoint));
        }

        _runtime = new GrainRuntime(_services, scheduler, registry, _telemetry, _logger, messaging, collection, new StateFactory(_services), reminderTable, reminders);
        await _runtime.StartAsync(cancellationToken);
        _logger.HostStarted(registry.Classes.Count(), scheduler.GetType().Name, storage.StorageProvider, storage.ReminderProvider);
    }

    /// <summary>Graceful stop: reminders stop, every activation runs OnDeactivateAsync, later calls are refused.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_runtime is null)
        {
            return;
        }

        var count = await _runtime.StopAsync();
        _logger.HostStopped(count);
    }

    /// <summary>
    /// Abandons the host as a crash would: no OnDeactivateAsync, queued and running requests fail, timers and
    /// reminders stop, and storage is closed — after this returns the host never touches storage again.
    /// Writes acknowledged before are durable (they returned only after fsync or commit).
    /// </summary>
    public void Kill()
    {
        if (_runtime is null)
        {
            return;
        }

        var count = _runtime.Kill();
        _logger.HostKilled(count);
        CloseStores();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_runtime is { IsLive: true })
        {
            Kill(); // disposed without a graceful stop: abandon, as a crash would, so no timer outlives the host
        }

        _export?.Dispose();
        _telemetry.Dispose();
        await _services.DisposeAsync();
    }

    private void CloseStores()
    {
        // Disposing the container disposes the providers it created; close them now so no write lands after a kill.
        foreach (var disposable in new object?[]
                 {
                     _services.GetKeyedService<IGrainStorage>(GrainStorageOptions.DefaultStorageName),
                     _services.GetService<IReminderTable>(),
                 })
        {
            (disposable as IDisposable)?.Dispose();
        }
    }
}

namespace Federation.Hosting.Testing;

/// <summary>
/// Orleans' TestCluster for this host: one host in-process over storage that outlives it (a data directory,
/// a PostgreSQL database or shared memory providers), which a test can start, stop gracefully, kill without
/// shutdown and restart. <paramref name="configure"/> runs for every new host, so each restart builds a
/// fresh host over the same storage.
/// </summary>
public sealed class TestCluster(Action<GrainHostBuilder> configure) : IAsyncDisposable
{
    private GrainHost? _host;

    /// <summary>How many hosts this cluster has built (1 after the first start, 2 after a restart, …).</summary>
    public int Generation { get; private set; }

    public GrainHost Host => _host ?? throw new InvalidOperationException("the test cluster has no running host (StartAsync)");

    public IGrainFactory GrainFactory => Host.GrainFactory;

    public IGrainManagement Management => Host.Management;

    public bool IsRunning => _host is not null;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_host is not null)
        {
            throw new InvalidOperationException("the test cluster's host is already running");
        }

        var builder = new GrainHostBuilder();
        configure(builder);
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        _host = host;
        Generation++;
    }

    /// <summary>Graceful stop: every activation runs OnDeactivateAsync.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        var host = Host;
        _host = null;
        await host.StopAsync(cancellationToken);
        await host.DisposeAsync();
    }

    /// <summary>Abandons the host without graceful shutdown (a crash, in-process).</summary>
    public void Kill()
    {
        var host = Host;
        _host = null;
        host.Kill();
        _ = host.DisposeAsync().AsTask();
    }

    /// <summary>Gracefully stops the running host (if any) and starts a new one over the same storage.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        if (_host is not null)
        {
            await StopAsync(cancellationToken);
        }

        await StartAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await StopAsync();
        }
    }
}

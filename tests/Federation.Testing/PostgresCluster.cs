using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Federation.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster for tests (ARCHITECTURE.md): <c>initdb</c> + <c>pg_ctl</c> from the
/// machine's PostgreSQL 15, run as the <c>postgres</c> OS user when the tests run as root, listening on
/// a free loopback port, and removed when the test process exits. One cluster per test process;
/// each test class takes its own database from <see cref="CreateDatabaseAsync"/>.
/// </summary>
public sealed class PostgresCluster : IDisposable
{
    private static readonly Lazy<PostgresCluster> Shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _directory;
    private readonly string _binDirectory;
    private readonly bool _asPostgresUser;
    private int _databaseCounter;

    private PostgresCluster(string directory, string binDirectory, bool asPostgresUser, int port)
    {
        _directory = directory;
        _binDirectory = binDirectory;
        _asPostgresUser = asPostgresUser;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Connection string of the maintenance database.</summary>
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false";

    /// <summary>The cluster shared by every test in this process, started on first use.</summary>
    public static PostgresCluster Instance => Shared.Value;

    /// <summary>Creates a fresh, empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test")
    {
        var name = $"{prefix}_{Environment.ProcessId}_{Interlocked.Increment(ref _databaseCounter)}".ToLowerInvariant();
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        return $"Host=127.0.0.1;Port={Port};Username=postgres;Database={name}";
    }

    /// <summary>
    /// Drops a database <see cref="CreateDatabaseAsync"/> made, ending its sessions (pooled connections a test left
    /// open included); the cluster itself goes when the process exits.
    /// </summary>
    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database
            ?? throw new ArgumentException("the connection string names no database", nameof(connectionString));
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static PostgresCluster Start()
    {
        var bin = FindBinDirectory();
        RemoveStaleClusters();
        var asPostgresUser = Environment.UserName == "root";
        var directory = Path.Combine(Path.GetTempPath(), $"fed-pg-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var dataDirectory = Path.Combine(directory, "data");
        if (asPostgresUser)
        {
            Run("chown", "postgres:postgres", directory);
        }

        var port = FreePort();
        var cluster = new PostgresCluster(directory, bin, asPostgresUser, port);
        try
        {
            cluster.RunPg("initdb", "-D", dataDirectory, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync");
            cluster.RunPg("pg_ctl", "-D", dataDirectory, "-l", Path.Combine(directory, "server.log"), "-w", "-t", "60",
                "-o", $"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=32MB", "start");
        }
        catch
        {
            cluster.Dispose();
            throw;
        }

        cluster.StartWatchdog();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.Dispose();
        return cluster;
    }

    /// <summary>
    /// The test runner gives its test host about 100 ms to exit before it kills it (vstest), often too little for
    /// <see cref="Dispose"/> at process exit, which then leaves a server running or a half-deleted directory. A
    /// detached shell (<c>setsid -f</c>: outside the test host's process tree, so not killed with it) waits for
    /// this process to end, however it ends, then stops the server and removes the directory, and the runtime's
    /// diagnostic pipes a killed .NET process leaves in the temporary folder.
    /// </summary>
    private void StartWatchdog()
    {
        var pid = Environment.ProcessId;
        var data = Path.Combine(_directory, "data");
        var pgCtl = Path.Combine(_binDirectory, "pg_ctl");
        var stop = _asPostgresUser ? $"runuser -u postgres -- '{pgCtl}' -D '{data}' -m immediate -w stop" : $"'{pgCtl}' -D '{data}' -m immediate -w stop";
        var temp = Path.GetTempPath().TrimEnd('/');
        var script = string.Join("; ",
            "exec </dev/null >/dev/null 2>&1",
            $"while kill -0 {pid}; do sleep 0.2; done",
            $"if [ -f '{data}/postmaster.pid' ]; then {stop}; fi",
            $"rm -rf '{_directory}'",
            $"rm -f '{temp}'/clr-debug-pipe-{pid}-* '{temp}'/dotnet-diagnostic-{pid}-*");
        Run("setsid", "-f", "sh", "-c", script);
    }

    public void Dispose()
    {
        var dataDirectory = Path.Combine(_directory, "data");
        if (File.Exists(Path.Combine(dataDirectory, "postmaster.pid")))
        {
            try
            {
                RunPg("pg_ctl", "-D", dataDirectory, "-m", "immediate", "-w", "stop");
            }
            catch (InvalidOperationException)
            {
                // already stopped
            }
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
        catch (UnauthorizedAccessException)
        {
            // best effort
        }
    }

    private void RunPg(string tool, params string[] args)
    {
        var path = Path.Combine(_binDirectory, tool);
        if (_asPostgresUser)
        {
            Run("runuser", ["-u", "postgres", "--", path, .. args]);
        }
        else
        {
            Run(path, args);
        }
    }

    private static void Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} did not finish within 120 s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Result}{output.Result}");
        }
    }

    /// <summary>
    /// A test host can be killed before its exit handler finishes; clusters of processes that no longer
    /// exist are removed here (and their servers stopped) so runs never pile up.
    /// </summary>
    private static void RemoveStaleClusters()
    {
        foreach (var stale in Directory.GetDirectories(Path.GetTempPath(), "fed-pg-*"))
        {
            var parts = Path.GetFileName(stale).Split('-');
            if (parts.Length < 3 || !int.TryParse(parts[2], out var owner) || ProcessExists(owner))
            {
                continue;
            }

            var pidFile = Path.Combine(stale, "data", "postmaster.pid");
            if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var postmaster) && ProcessExists(postmaster))
            {
                try
                {
                    Process.GetProcessById(postmaster).Kill();
                }
                catch (InvalidOperationException)
                {
                    // exited meanwhile
                }
            }

            try
            {
                Directory.Delete(stale, recursive: true);
            }
            catch (IOException)
            {
                // in use; a later run removes it
            }
        }
    }

    private static bool ProcessExists(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string FindBinDirectory()
    {
        var root = "/usr/lib/postgresql";
        var candidates = Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().ToList()
            : [];
        return candidates.FirstOrDefault()
            ?? throw new InvalidOperationException("PostgreSQL server binaries not found under /usr/lib/postgresql: install the Debian package postgresql-15");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

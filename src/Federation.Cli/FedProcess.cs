using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Federation.Cli;

/// <summary>
/// Another <c>fed</c> process started by this one (<c>fed demo live</c>, <c>fed bench http-ingest</c>): the same
/// executable with other arguments, its output lines handed to a callback, stopped with SIGTERM as an operator would.
/// </summary>
internal sealed partial class FedProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private readonly Process _process;

    private FedProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <param name="onLine">Called with every line the process writes (stdout and stderr), from a pool thread.</param>
    public static FedProcess Start(string name, IEnumerable<string> args, Action<FedProcess, string> onLine)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            info.ArgumentList.Add(typeof(FedProcess).Assembly.Location);
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"{name} could not be started");
        var started = new FedProcess(process, name);
        process.OutputDataReceived += (_, e) => Forward(e.Data);
        process.ErrorDataReceived += (_, e) => Forward(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;

        void Forward(string? line)
        {
            if (line is not null)
            {
                onLine(started, line);
            }
        }
    }

    /// <summary>kill -9: the process ends at once.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM: a graceful stop.</summary>
    public void Terminate()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigTerm);
        }
    }

    /// <summary>Waits until <c>fed serve</c> answers <c>/healthz</c> at <paramref name="url"/>; false if it exits or <paramref name="timeout"/> passes first.</summary>
    public async Task<bool> WaitHealthyAsync(string url, TimeSpan timeout, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < timeout && !_process.HasExited)
        {
            try
            {
                if ((await http.GetAsync($"{url}/healthz", ct)).IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(200, ct);
        }

        return false;
    }

    /// <summary>The exit code, or null if the process had not exited within <paramref name="timeout"/> (it is then killed).</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Terminate();
            if (await WaitForExitAsync(TimeSpan.FromSeconds(30)) is null)
            {
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

using System.Diagnostics;
using System.Net;
using System.Text;
using Federation.Grains.Services;

namespace Federation.Cli.Tests;

/// <summary>A running <c>fed serve</c>; disposing it sends SIGTERM and waits for the exit.</summary>
internal sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServeProcess(Process process, Uri root)
    {
        _process = process;
        Root = root;
        process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri Root { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <param name="port">Where to listen (default: a free port); a restarted coordinator takes its predecessor's.</param>
    /// <param name="more">More arguments of fed serve, e.g. <c>--data-dir</c>.</param>
    public static async Task<ServeProcess> StartAsync(string settings, HttpClient http, int? port = null, params string[] more)
    {
        port ??= SiloSettings.FreePort();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "fed.dll"), "serve", "--settings", settings, "--urls", $"http://127.0.0.1:{port}" }.Concat(more))
        {
            info.ArgumentList.Add(arg);
        }

        var server = new ServeProcess(Process.Start(info)!, new Uri($"http://127.0.0.1:{port}/"));
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            Assert.False(server._process.HasExited, "fed serve exited while starting: " + server.Output);
            try
            {
                if ((await http.GetAsync(new Uri(server.Root, "healthz"))).StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(100);
        }

        await server.DisposeAsync();
        throw new TimeoutException("fed serve did not answer /healthz within 60 s: " + server.Output);
    }

    public int Port => Root.Port;

    /// <summary>kill -9: the process ends at once, in the middle of whatever it was doing.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, then the exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}

using System.Diagnostics;

namespace Federation.Cli.Tests;

/// <summary>Runs <c>fed</c> in-process (fast) or as a real process (stdin, exit codes, no stack traces).</summary>
public static class FedRunner
{
    public sealed record Result(int ExitCode, string Out, string Err);

    public static Result InProcess(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = FedCli.Run(args, output, error);
        return new Result(code, output.ToString(), error.ToString());
    }

    public static Result Process(string? stdin, params string[] args) => Process(stdin, new Dictionary<string, string>(), args);

    /// <param name="environment">Variables set for the process (FED_SETTINGS, say), beside the test's own.</param>
    public static Result Process(string? stdin, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var fedDll = Path.Combine(AppContext.BaseDirectory, "fed.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        info.ArgumentList.Add(fedDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
        }

        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(180_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("fed did not exit within 180 s: " + string.Join(' ', args));
        }

        return new Result(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Runs a tool of the machine (openssl) and returns exit code and output.</summary>
    public static Result Tool(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit(60_000);
        return new Result(process.ExitCode, output.Result, error.Result);
    }
}

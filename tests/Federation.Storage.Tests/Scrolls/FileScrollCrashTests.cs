using System.Diagnostics;
using System.Globalization;
using Federation.Storage.Scrolls;

namespace Federation.Storage.Tests.Scrolls;

/// <summary>
/// A real crash: another process appends with 32 concurrent appenders and is killed with SIGKILL mid-stream.
/// Every append it saw acknowledged must be in the scroll, at the seq it was given, after reopening.
/// (A process crash keeps the page cache: this proves "acknowledged only after the write" and crash recovery,
/// not the fsync, which only a power cut would test.)
/// The child is an F# script run by <c>dotnet fsi</c> (part of the SDK) against the built Federation.Storage.dll.
/// </summary>
public sealed class FileScrollCrashTests : IDisposable
{
    private const string Scroll = "crash";
    private const int AcknowledgementsBeforeKill = 3000;
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Every_acknowledged_append_survives_a_kill_of_the_writing_process()
    {
        var dataDirectory = Path.Combine(_directory.Path, "data");
        var script = _directory.File("appender.fsx");
        var binaries = Path.GetDirectoryName(typeof(FileScrollStore).Assembly.Location)!;
        File.WriteAllText(script, $$"""
            #r "{{Path.Combine(binaries, "Federation.Core.dll")}}"
            #r "{{Path.Combine(binaries, "Federation.Storage.dll")}}"
            open System.Threading.Tasks
            open Federation.Storage.Scrolls
            let store = new FileScrollStore(ScrollStoreOptions(DataDirectory = fsi.CommandLineArgs.[1]))
            store.OpenAsync("{{Scroll}}", CommittedLinesObserver(fun _ _ -> ())).Wait()
            let output = obj ()
            let appender (worker: int) () =
                let mutable i = 0
                while true do
                    let id = worker * 1000000 + i
                    let line = LineBuilder(fun seq -> System.Text.Encoding.UTF8.GetBytes(sprintf "{\"id\":%d,\"seq\":%d}" id seq))
                    let seq = store.AppendAsync("{{Scroll}}", [| line |]).Result
                    lock output (fun () -> stdout.WriteLine(sprintf "%d %d ." seq id); stdout.Flush())
                    i <- i + 1
            Task.WaitAll([| for w in 0 .. 31 -> Task.Run(appender w) |])
            """);

        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // The killed processes cannot remove what they keep in the temporary folder (fsi's assembly folder, the
        // runtime's diagnostic pipes): give them one inside the test's directory, which goes with it.
        var childTemp = Directory.CreateDirectory(Path.Combine(_directory.Path, "tmp")).FullName;
        start.Environment["TMPDIR"] = childTemp;
        foreach (var argument in new[] { "fsi", "--quiet", script, dataDirectory })
        {
            start.ArgumentList.Add(argument);
        }

        var acknowledged = new List<(long Seq, long Id)>();
        using (var child = Process.Start(start)!)
        {
            try
            {
                var errors = child.StandardError.ReadToEndAsync();
                while (acknowledged.Count < AcknowledgementsBeforeKill)
                {
                    var line = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2));
                    if (line is null)
                    {
                        Assert.Fail($"the appender exited early: {await errors}");
                    }

                    acknowledged.Add(ParseAcknowledgement(line) ?? throw new FormatException($"unexpected output from the appender: {line}"));
                }

                // SIGKILL to dotnet fsi and the fsi.dll process it runs: no finally blocks, no dispose, no flush.
                child.Kill(entireProcessTree: true);
                string? rest;
                while ((rest = await child.StandardOutput.ReadLineAsync()) is not null)
                {
                    // The kill may cut the last line short; only complete lines (ending in " .") count.
                    if (ParseAcknowledgement(rest) is { } acknowledgement)
                    {
                        acknowledged.Add(acknowledgement);
                    }
                }

                await child.WaitForExitAsync();
            }
            finally
            {
                if (!child.HasExited)
                {
                    child.Kill(entireProcessTree: true);
                }
            }
        }

        await using var store = new FileScrollStore(new ScrollStoreOptions { DataDirectory = dataDirectory });
        var replayed = new RecordingObserver();
        var report = await store.OpenAsync(Scroll, replayed.Observer);
        Assert.Empty(replayed.Violations);
        Assert.True(report.Size >= acknowledged.Count, $"{report.Size} lines survived but {acknowledged.Count} were acknowledged");
        foreach (var (seq, id) in acknowledged)
        {
            Assert.Equal($"{{\"id\":{id},\"seq\":{seq}}}", System.Text.Encoding.UTF8.GetString(replayed.Lines[(int)seq]));
        }

        Assert.Equal(report.Size, await store.AppendAsync(Scroll, [seq => "{\"after\":\"crash\"}"u8.ToArray()]));
    }

    /// <summary>"SEQ ID ." as the appender prints it once an append is acknowledged.</summary>
    private static (long Seq, long Id)? ParseAcknowledgement(string line)
    {
        var parts = line.Split(' ');
        return parts.Length == 3 && parts[2] == "."
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var seq)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                ? (seq, id)
                : null;
    }
}

using System.Diagnostics;
using System.Text;
using Federation.Storage.Files;

namespace Federation.Storage.Scrolls;

/// <summary>What <see cref="ScrollStoreBenchmark.MeasureDurableAppendsAsync"/> measured.</summary>
/// <param name="Appends">Appends acknowledged (each one line, durable when acknowledged).</param>
public sealed record ScrollBenchmarkResult(long Appends, TimeSpan Elapsed, int Appenders)
{
    public double AppendsPerSecond => Elapsed > TimeSpan.Zero ? Appends / Elapsed.TotalSeconds : 0;
}

/// <summary>The measurements behind <c>fed bench scroll</c>.</summary>
public static class ScrollStoreBenchmark
{
    /// <summary>About the size of a receipt line: a canonical JSON object with a seq, a kind, a digest and a signature.</summary>
    public const int BenchmarkLineBytes = 256;

    /// <summary>
    /// <paramref name="appenders"/> tasks each append one line at a time, awaiting each, until <paramref name="duration"/>
    /// has passed; returns how many appends were acknowledged and how long until the last one was. The scroll must
    /// already be open in <paramref name="store"/>; the lines stay in it.
    /// </summary>
    public static async Task<ScrollBenchmarkResult> MeasureDurableAppendsAsync(IScrollStore store, string scroll, int appenders, TimeSpan duration, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThan(appenders, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        var padding = new string('x', BenchmarkLineBytes - 160);
        LineBuilder line = seq => Encoding.UTF8.GetBytes(
            $"{{\"kind\":\"bench\",\"payload\":\"{padding}\",\"prev\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\",\"seq\":{seq}}}");
        LineBuilder[] one = [line];

        var stop = 0;
        long appends = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, appenders).Select(_ => Task.Run(async () =>
        {
            // At least one append each: a worker the thread pool starts late (a loaded machine) still measures.
            do
            {
                var append = store.AppendAsync(scroll, one, ct);
                if (append.IsCompleted)
                {
                    // A store that completes synchronously (memory) must not starve the timer that ends the run.
                    await append.ConfigureAwait(false);
                    await Task.Yield();
                }
                else
                {
                    await append.ConfigureAwait(false);
                }

                Interlocked.Increment(ref appends);
            }
            while (Volatile.Read(ref stop) == 0 && !ct.IsCancellationRequested);
        }, ct)).ToList();

        try
        {
            await Task.Delay(duration, ct).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref stop, 1);
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        clock.Stop();
        return new ScrollBenchmarkResult(Interlocked.Read(ref appends), clock.Elapsed, appenders);
    }

    /// <summary>The same as <see cref="MeasureDurableAppendsAsync"/>, as a rate.</summary>
    public static async Task<double> MeasureDurableAppendsPerSecondAsync(IScrollStore store, string scroll, int appenders, TimeSpan duration, CancellationToken ct) =>
        (await MeasureDurableAppendsAsync(store, scroll, appenders, duration, ct).ConfigureAwait(false)).AppendsPerSecond;

    /// <summary>
    /// The raw limit group commit is measured against: one writer appending <see cref="BenchmarkLineBytes"/> bytes and
    /// fsyncing after each, in a temporary file in <paramref name="directory"/> (the same disk as the data). Returns fsyncs/s.
    /// </summary>
    public static double MeasureRawFsyncsPerSecond(string directory, TimeSpan duration)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $".fsync-probe-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        var line = new byte[BenchmarkLineBytes];
        line.AsSpan().Fill((byte)'x');
        line[^1] = (byte)'\n';
        try
        {
            using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
            DurableFile.SyncDirectory(directory);
            long offset = 0;
            long syncs = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < duration)
            {
                RandomAccess.Write(handle, line, offset);
                offset += line.Length;
                RandomAccess.FlushToDisk(handle);
                syncs++;
            }

            return syncs / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            File.Delete(path);
        }
    }
}

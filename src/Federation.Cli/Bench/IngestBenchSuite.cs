using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Signing;
using Federation.Grains;
using Federation.Grains.Services;
using Federation.Hosting;
using Federation.Hosting.Configuration;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;

namespace Federation.Cli.Bench;

/// <summary>
/// <c>fed bench ingest</c>: signed updates ingested per second — verify, hash, validate, seal durably (file
/// store, group commit), acknowledge — on one core and on two (child processes pinned with taskset), beside
/// the raw libsodium verify rate measured on the same cores in the same run.
/// </summary>
public sealed class IngestBenchSuite : IBenchSuite
{
    public const string WorkerCommand = "ingest-run";
    private const string Federation = BenchFederation.Id;
    private const int Dimension = BenchFederation.Dimension;
    private const byte SeedTag = 0xbe;

    public string Name => "ingest";

    public string Description => "Signed updates ingested per second on 1 and 2 cores, beside libsodium verifies per second";

    public async Task<BenchReport> RunAsync(bool quick, TextWriter progress, CancellationToken cancellationToken)
    {
        var nodes = quick ? 1000 : 2000;
        var epochs = quick ? 3 : 8;
        var results = new List<BenchResult>();
        foreach (var cores in new[] { 1, 2 })
        {
            progress.WriteLine($"{cores} core(s): {nodes} nodes × {epochs} epochs, plus the raw verify rate on the same cores");
            var run = await RunPinnedAsync(cores, nodes, epochs, progress, cancellationToken);
            progress.WriteLine(Invariant($"  ingested {run.UpdatesPerSecond:N0} updates/s ({run.CpuMicrosecondsPerUpdate:N1} µs CPU each); raw verify {run.VerifiesPerSecond:N0}/s ({run.Pinning})"));
            results.Add(new BenchResult($"updates_ingested_per_s_{cores}core", Math.Round(run.UpdatesPerSecond), "updates/s",
                new BenchBaseline($"libsodium_verifies_per_s_{cores}core", Math.Round(run.VerifiesPerSecond), "verifies/s")));
        }

        return new BenchReport(Name, results);
    }

    /// <param name="CpuMicrosecondsPerUpdate">Process CPU time (user + system) per acknowledged update while ingesting.</param>
    /// <param name="AllocatedBytesPerUpdate">Managed bytes allocated per acknowledged update while ingesting.</param>
    /// <param name="GcPausePercent">Share of the ingest time the runtime paused for garbage collection.</param>
    /// <param name="Gen0Collections">Generation 0 collections while ingesting (gen 1 and 2 included).</param>
    /// <param name="UpdatesPerCommit">Updates sealed per group commit (one write and one fsync each) of the update scroll.</param>
    public sealed record WorkerResult(double UpdatesPerSecond, double VerifiesPerSecond, long Updates, double Seconds, string Pinning, double CpuMicrosecondsPerUpdate,
        double AllocatedBytesPerUpdate = 0, double GcPausePercent = 0, int Gen0Collections = 0, double UpdatesPerCommit = 0);

    /// <summary>Runs the measurement in a child process pinned to the first <paramref name="cores"/> cores.</summary>
    private static async Task<WorkerResult> RunPinnedAsync(int cores, int nodes, int epochs, TextWriter progress, CancellationToken cancellationToken)
    {
        var fed = Environment.GetCommandLineArgs()[0];
        var taskset = File.Exists("/usr/bin/taskset") ? "/usr/bin/taskset" : null;
        if (taskset is null || cores > Environment.ProcessorCount || !fed.EndsWith(".dll", StringComparison.Ordinal))
        {
            progress.WriteLine("  (taskset or fed.dll not found: measuring in this process, unpinned)");
            return await MeasureAsync(nodes, epochs, Environment.ProcessorCount, "unpinned", cancellationToken);
        }

        var info = new ProcessStartInfo(taskset) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-c", cores == 1 ? "0" : "0-" + (cores - 1), "dotnet", fed, "bench", WorkerCommand, "--nodes", nodes.ToString(CultureInfo.InvariantCulture), "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--cores", cores.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"the pinned ingest run failed ({process.ExitCode}): {error}");
        }

        return JsonSerializer.Deserialize<WorkerResult>(output.Trim().Split('\n')[^1])!;
    }

    /// <summary>The measurement itself (the body of <c>fed bench ingest-run</c>).</summary>
    public static async Task<WorkerResult> MeasureAsync(int nodes, int epochs, int threads, string pinning, CancellationToken cancellationToken)
    {
        await using var bench = await BenchFederation.StartAsync(nodes, SeedTag, null, _ => { }, cancellationToken);
        var keys = bench.Keys;
        var federation = bench.Federation;
        var blocks = new string[nodes];
        await Parallel.ForEachAsync(Enumerable.Range(0, nodes), cancellationToken, async (i, _) => blocks[i] = await JoinAsync(federation, keys[i]));

        // Sign every update first: the node's work, not the coordinator's.
        var genesis = (await federation.GetEpochAsync()).OpenStateHash;
        var states = Enumerable.Range(1, epochs).ToDictionary(e => (long)e, e => e == 1 ? genesis : Sha256Digest.Of(BitConverter.GetBytes(e)));
        var signed = new byte[epochs][][];
        for (var e = 0; e < epochs; e++)
        {
            var epoch = e + 1;
            signed[e] = keys.Select((key, i) =>
            {
                var (payload, hash) = UpdateDelta.Vector(Enumerable.Range(0, Dimension).Select(d => Math.Sin(i + d + epoch)).ToArray()).Encode();
                var update = MetaUpdate.Create(Federation, epoch, key.Fingerprint, hash, blocks[i], states[epoch], payload);
                return SignedEnvelope.Sign(update, new Ed25519Signer(key)).ToCanonicalJson();
            }).ToArray();
        }

        long acknowledged = 0;
        var updateScroll = await bench.Ledgers.GetAsync(FederationScrolls.Updates(Federation));
        var batchesBefore = updateScroll.CommittedBatches;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var pauseBefore = GC.GetTotalPauseDuration();
        var gen0Before = GC.CollectionCount(0);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        for (var e = 0; e < epochs; e++)
        {
            await Parallel.ForEachAsync(signed[e], new ParallelOptions { MaxDegreeOfParallelism = 512, CancellationToken = cancellationToken }, async (message, _) =>
            {
                var ack = await bench.Gateway.SubmitAsync(Federation, message);
                if (ack.Disposition != Disposition.Accepted)
                {
                    throw new InvalidOperationException($"benchmark update refused: {ack.Code}: {ack.Message}");
                }

                Interlocked.Increment(ref acknowledged);
            });

            if (e + 1 < epochs)
            {
                await federation.OpenNextEpochAsync(states[e + 2]);
            }
        }

        var seconds = stopwatch.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var pause = (GC.GetTotalPauseDuration() - pauseBefore).TotalSeconds;
        var gen0 = GC.CollectionCount(0) - gen0Before;
        var batches = updateScroll.CommittedBatches - batchesBefore;
        var verifies = MeasureVerifies(signed[0][0], keys[0].PublicKey, threads, TimeSpan.FromSeconds(2));
        return new WorkerResult(acknowledged / seconds, verifies, acknowledged, seconds, pinning, cpu / acknowledged,
            (double)allocated / acknowledged, 100 * pause / seconds, gen0, batches == 0 ? 0 : (double)acknowledged / batches);
    }

    private static async Task<string> JoinAsync(IFederationGrain federation, Ed25519PrivateKey key)
    {
        await federation.RegisterNodeAsync(BenchFederation.Registration(key));
        var reply = await federation.HelloAsync(SignedEnvelope.Sign(FederationHello.Create(Federation, key.Fingerprint, "bench", ["ingest.v1", "delta.vector.v1"], "n"), new Ed25519Signer(key)).ToCanonicalJson());
        var accept = SignedEnvelope.Parse(reply.Accept!);
        var ack = SessionAck.Create(Federation, key.Fingerprint, accept.PayloadAs<FederationAccept>().SessionId, Sha256Digest.Of(accept.SignedBytes));
        var session = await federation.CompleteSessionAsync(SignedEnvelope.Sign(ack, new Ed25519Signer(key)).ToCanonicalJson());
        return session.LedgerBlockId ?? throw new InvalidOperationException($"benchmark join failed: {session.Message}");
    }

    /// <summary>The raw limit: libsodium verifying the signature of a typical update, on <paramref name="threads"/> threads.</summary>
    private static double MeasureVerifies(byte[] message, Ed25519PublicKey key, int threads, TimeSpan duration)
    {
        var envelope = SignedEnvelope.Parse(message);
        var bytes = envelope.SignedBytes;
        var signature = envelope.Signature.Value;
        long count = 0;
        var stopwatch = Stopwatch.StartNew();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
        {
            long local = 0;
            while (stopwatch.Elapsed < duration)
            {
                for (var i = 0; i < 100; i++)
                {
                    if (!key.Verify(bytes, signature))
                    {
                        throw new InvalidOperationException("benchmark signature does not verify");
                    }
                }

                local += 100;
            }

            Interlocked.Add(ref count, local);
        });
        return count / stopwatch.Elapsed.TotalSeconds;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

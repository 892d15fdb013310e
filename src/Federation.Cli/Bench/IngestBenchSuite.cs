using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Grains;
using Federation.Grains.Services;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;

namespace Federation.Cli.Bench;

/// <summary>
/// <c>fed bench ingest</c>: signed updates ingested per second through the Orleans path — the gateway verifies, the
/// node grain decides, the update scroll's grain seals durably (file store, group commit), the ack returns — on one
/// core and on two (child processes pinned with taskset), beside the raw Ed25519 verify rate (NSec, which is
/// libsodium's; the baseline keeps its name <c>libsodium_verifies_per_s</c>) measured on the same cores in the same run.
/// </summary>
public sealed partial class IngestBenchSuite : IBenchSuite
{
    public const string WorkerCommand = "ingest-run";
    private const string Federation = BenchFederation.Id;
    private const int Dimension = BenchFederation.Dimension;
    private const byte SeedTag = 0xbe;

    public string Name => "ingest";

    public string Description => "Signed updates ingested per second through the grains on 1 and 2 cores, beside raw Ed25519 (NSec/libsodium) verifies per second";

    public async Task<BenchReport> RunAsync(bool quick, TextWriter progress, CancellationToken cancellationToken)
    {
        var nodes = quick ? 1000 : 2000;
        var epochs = quick ? 8 : 25;
        var results = new List<BenchResult>();
        foreach (var cores in new[] { 1, 2 })
        {
            // One core tiers the JIT up about ten times more slowly (the runtime's single-processor delay).
            var warmup = TimeSpan.FromSeconds((quick ? 5.0 : 15.0) / cores);
            progress.WriteLine(Invariant($"{cores} core(s): {nodes} nodes, warm-up ingest until the JIT is quiet ({2 * warmup.TotalSeconds:N1} to {3 * warmup.TotalSeconds:N1} s), then {epochs} epochs measured; the raw verify rate on the same cores"));
            var run = await RunPinnedAsync(cores, nodes, epochs, warmup, progress, cancellationToken);
            progress.WriteLine(Invariant($"  ingested {run.UpdatesPerSecond:N0} updates/s ({run.CpuMicrosecondsPerUpdate:N1} µs CPU, {run.AllocatedBytesPerUpdate:N0} B allocated each; {run.UpdatesPerCommit:N0} per group commit); raw verify {run.VerifiesPerSecond:N0}/s over the epoch's updates ({run.Pinning}); one update's signature repeated: {run.RepeatedVerifiesPerSecond:N0}/s (ingest {run.UpdatesPerSecond / run.RepeatedVerifiesPerSecond:N2}x that)"));
            progress.WriteLine(Invariant($"  per update: {run.WorkItemsPerUpdate:N1} thread-pool work items, {run.ContextSwitchesPerUpdate:N2} context switches, {run.PageFaultsPerUpdate:N2} page faults; warm-up: {run.WarmupUpdates:N0} updates in {run.WarmupSeconds:N0} s; methods the JIT compiled while measuring: {run.MethodsCompiledWhileMeasuring}"));
            results.Add(new BenchResult($"updates_ingested_per_s_{cores}core", Math.Round(run.UpdatesPerSecond), "updates/s",
                new BenchBaseline($"libsodium_verifies_per_s_{cores}core", Math.Round(run.VerifiesPerSecond), "verifies/s")));
        }

        return new BenchReport(Name, results);
    }

    /// <param name="VerifiesPerSecond">The baseline: NSec (libsodium) verifying the signatures of one epoch's updates (distinct messages and keys) in a loop.</param>
    /// <param name="RepeatedVerifiesPerSecond">libsodium verifying one update's signature over and over (its best case: all in cache).</param>
    /// <param name="CpuMicrosecondsPerUpdate">Process CPU time (user + system) per acknowledged update while ingesting.</param>
    /// <param name="AllocatedBytesPerUpdate">Managed bytes allocated per acknowledged update while ingesting.</param>
    /// <param name="GcPausePercent">Share of the ingest time the runtime paused for garbage collection.</param>
    /// <param name="Gen0Collections">Generation 0 collections while ingesting (gen 1 and 2 included).</param>
    /// <param name="UpdatesPerCommit">Updates sealed per group commit (one write and one fsync each) of the update scroll.</param>
    /// <param name="WarmupUpdates">Updates ingested (untimed) before the measurement, during <paramref name="WarmupSeconds"/>.</param>
    /// <param name="MethodsCompiledWhileMeasuring">Methods the JIT compiled during the measurement (0 when warm-up reached the steady state).</param>
    /// <param name="WorkItemsPerUpdate">Thread-pool work items completed per update (hops between threads).</param>
    /// <param name="ContextSwitchesPerUpdate">Context switches of the process's threads per update (voluntary and not), from /proc.</param>
    /// <param name="PageFaultsPerUpdate">Minor page faults of the process per update (first touches of memory the GC or the kernel handed back), from /proc.</param>
    public sealed record WorkerResult(double UpdatesPerSecond, double VerifiesPerSecond, double RepeatedVerifiesPerSecond, long Updates, double Seconds, string Pinning, double CpuMicrosecondsPerUpdate,
        double AllocatedBytesPerUpdate, double GcPausePercent, int Gen0Collections, double UpdatesPerCommit, long WarmupUpdates, double WarmupSeconds, long MethodsCompiledWhileMeasuring,
        double WorkItemsPerUpdate, double ContextSwitchesPerUpdate, double PageFaultsPerUpdate);

    /// <summary>Runs the measurement in a child process pinned to the first <paramref name="cores"/> cores.</summary>
    private static async Task<WorkerResult> RunPinnedAsync(int cores, int nodes, int epochs, TimeSpan warmup, TextWriter progress, CancellationToken cancellationToken)
    {
        var fed = Environment.GetCommandLineArgs()[0];
        var taskset = File.Exists("/usr/bin/taskset") ? "/usr/bin/taskset" : null;
        if (taskset is null || cores > Environment.ProcessorCount || !fed.EndsWith(".dll", StringComparison.Ordinal))
        {
            progress.WriteLine("  (taskset or fed.dll not found: measuring in this process, unpinned)");
            return await MeasureAsync(nodes, epochs, warmup, Environment.ProcessorCount, "unpinned", cancellationToken);
        }

        var info = new ProcessStartInfo(taskset) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-c", cores == 1 ? "0" : "0-" + (cores - 1), "dotnet", fed, "bench", WorkerCommand, "--nodes", nodes.ToString(CultureInfo.InvariantCulture), "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--cores", cores.ToString(CultureInfo.InvariantCulture), "--warmup-seconds", warmup.TotalSeconds.ToString(CultureInfo.InvariantCulture) })
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
    /// <param name="epochs">Epochs measured, each one update per node.</param>
    /// <param name="warmup">Ingest before measuring, for at least this long: a coordinator runs for days, so the
    /// figure is its steady state (the JIT has tiered the hot path up), not its first seconds.</param>
    public static async Task<WorkerResult> MeasureAsync(int nodes, int epochs, TimeSpan warmup, int threads, string pinning, CancellationToken cancellationToken)
    {
        await using var bench = await BenchFederation.StartAsync(nodes, SeedTag, null, new SiloSettings(), cancellationToken);
        var keys = bench.Keys;
        var federation = bench.Federation;
        var blocks = new string[nodes];
        await Parallel.ForEachAsync(Enumerable.Range(0, nodes), cancellationToken, async (i, _) => blocks[i] = await JoinAsync(federation, keys[i]));
        var genesis = (await federation.GetEpochAsync()).OpenStateHash;
        Sha256Digest State(long epoch) => epoch == 1 ? genesis : Sha256Digest.Of(BitConverter.GetBytes(epoch));

        // Every update is signed before it is timed: the node's work, not the coordinator's.
        byte[][] Sign(long epoch)
        {
            var signed = new byte[nodes][];
            Parallel.For(0, nodes, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                var (payload, hash) = UpdateDelta.Vector(Enumerable.Range(0, Dimension).Select(d => Math.Sin(i + d + epoch)).ToArray()).Encode();
                var update = MetaUpdate.Create(Federation, epoch, keys[i].Fingerprint, hash, blocks[i], State(epoch), payload);
                signed[i] = SignedEnvelope.Sign(update, new Ed25519Signer(keys[i])).ToCanonicalJson();
            });
            return signed;
        }

        long acknowledged = 0;
        long epoch = 1;
        var trace = Environment.GetEnvironmentVariable("FED_BENCH_TRACE") is not null;
        var traceCpu = Process.GetCurrentProcess().TotalProcessorTime;
        async Task IngestEpochAsync(byte[][] updates)
        {
            // 512 in flight: as many senders, each taking the next update as its last one is acknowledged (the load
            // generator's own cost per update is an index increment, not a task or an enumerator lock).
            var next = -1;
            async Task SendAsync()
            {
                for (int i; (i = Interlocked.Increment(ref next)) < updates.Length;)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var ack = await bench.Gateway.SubmitAsync(Federation, updates[i]);
                    if (ack.Disposition != Disposition.Accepted)
                    {
                        throw new InvalidOperationException($"benchmark update refused: {ack.Code}: {ack.Message}");
                    }

                    Interlocked.Increment(ref acknowledged);
                }
            }

            await Task.WhenAll(Enumerable.Range(0, Math.Min(InFlight, updates.Length)).Select(_ => Task.Run(SendAsync)));
            await federation.OpenNextEpochAsync(State(++epoch));
            if (trace)
            {
                var cpuNow = Process.GetCurrentProcess().TotalProcessorTime;
                Console.Error.WriteLine(Invariant($"epoch {epoch - 1}: {(cpuNow - traceCpu).TotalMicroseconds / updates.Length:F1} µs CPU/update, {System.Runtime.JitInfo.GetCompiledMethodCount()} methods compiled"));
                traceCpu = cpuNow;
            }
        }

        var updateScroll = bench.Grains.GetGrain<IScrollGrain>(FederationScrolls.Updates(Federation));
        var epochKeys = keys.Select(k => k.PublicKey).ToArray();

        // One epoch as the measurement takes it: the counters read around its ingest, then a burst of raw verifies on
        // the same cores (so both rates sample the same minutes of a machine whose speed drifts by a tenth and more
        // from minute to minute). The warm-up runs exactly this too, with throwaway counters: every piece of code the
        // measured window runs — the load generator's and the counters' as much as the coordinator's — has been tiered
        // up by the JIT before measuring, not compiled in the middle of it.
        AllocationSampler? allocations = null;
        async Task EpochAsync(byte[][] updates, WindowCounters ingest, VerifyBurst verifier, VerifyBurst repeated, bool profile)
        {
            var before = await WindowCounters.ReadAsync(updateScroll);
            PerfControl(profile ? "enable" : null);
            allocations?.Sampling = profile;
            var stopwatch = Stopwatch.StartNew();
            await IngestEpochAsync(updates);
            var seconds = stopwatch.Elapsed.TotalSeconds;
            allocations?.Sampling = false;
            PerfControl(profile ? "disable" : null);
            ingest.Add(before, await WindowCounters.ReadAsync(updateScroll), seconds);
            verifier.Run(profile ? VerifyBurstSeconds : VerifyBurstSeconds / 10);
            repeated.Run(profile ? VerifyBurstSeconds / 2 : VerifyBurstSeconds / 20);
        }

        // The raw limit verifies the same kind of work ingest does: the signatures of one epoch's updates, each by its
        // own node key (the baseline; update i is node i's). One message verified over and over (code, key and message
        // always in cache) is a few per cent faster; it is measured too and reported beside it.
        (VerifyBurst Verifier, VerifyBurst Repeated) Bursts(byte[][] updates)
        {
            var envelopes = updates.Select(m => SignedEnvelope.Parse(m)).ToArray();
            return (new VerifyBurst(envelopes, epochKeys, threads), new VerifyBurst([envelopes[0]], [epochKeys[0]], threads));
        }

        // Warm up until the JIT is quiet (no method compiled for five seconds: tiering is done), after at least twice
        // the given time and at most three times it. (A 3-second lull after the minimum once ended a one-core warm-up
        // at 27 s with 835 methods still to compile.)
        var warming = Stopwatch.StartNew();
        var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        var quietSince = TimeSpan.Zero;
        var rehearsal = new WindowCounters();
        var (warmVerifier, warmRepeated) = Bursts(Sign(epoch));
        while (warming.Elapsed < warmup * 3)
        {
            await EpochAsync(Sign(epoch), rehearsal, warmVerifier, warmRepeated, profile: false);
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now != compiled)
            {
                (compiled, quietSince) = (now, warming.Elapsed);
            }
            else if (warming.Elapsed >= warmup * 2 && warming.Elapsed - quietSince >= TimeSpan.FromSeconds(5))
            {
                break;
            }
        }

        var measured = new byte[epochs][][];
        for (var e = 0; e < epochs; e++)
        {
            measured[e] = Sign(epoch + e);
        }

        var (verifier, repeated) = Bursts(measured[0]);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var warmedUp = acknowledged;
        allocations = AllocationSampler.StartIfRequested();
        var ingest = new WindowCounters();
        foreach (var updates in measured)
        {
            await EpochAsync(updates, ingest, verifier, repeated, profile: true);
        }

        allocations?.StopAndReport(acknowledged - warmedUp, "update", Console.Error);
        var ingested = acknowledged - warmedUp;
        return new WorkerResult(ingested / ingest.Seconds, verifier.PerSecond, repeated.PerSecond, ingested, ingest.Seconds, pinning, ingest.CpuMicroseconds / ingested,
            (double)ingest.Allocated / ingested, 100 * ingest.PauseSeconds / ingest.Seconds, (int)ingest.Gen0, ingest.Batches == 0 ? 0 : (double)ingested / ingest.Batches, warmedUp, warming.Elapsed.TotalSeconds, ingest.Compiled,
            (double)ingest.WorkItems / ingested, ingest.Switches < 0 ? -1 : (double)ingest.Switches / ingested, ingest.Faults < 0 ? -1 : (double)ingest.Faults / ingested);
    }

    /// <summary>Updates in flight while ingesting: enough for group commits of about a hundred (see docs/performance.md).</summary>
    private const int InFlight = 512;

    /// <summary>Raw verifies after each measured epoch (about as long as an epoch's ingest at 2,000 nodes).</summary>
    private const double VerifyBurstSeconds = 0.2;

    /// <summary>Process counters over the measured ingest epochs only (each epoch's delta, summed).</summary>
    private sealed class WindowCounters
    {
        public double Seconds { get; private set; }

        public double CpuMicroseconds { get; private set; }

        public long Allocated { get; private set; }

        public double PauseSeconds { get; private set; }

        public long Gen0 { get; private set; }

        public long Batches { get; private set; }

        public long Compiled { get; private set; }

        public long WorkItems { get; private set; }

        /// <summary>-1 once /proc could not tell.</summary>
        public long Switches { get; private set; }

        /// <summary>-1 once /proc could not tell.</summary>
        public long Faults { get; private set; }

        public static async Task<Snapshot> ReadAsync(IScrollGrain updateScroll)
        {
            var batches = (await updateScroll.HeadAsync()).CommittedBatches;
            return Read(batches);
        }

        private static Snapshot Read(long batches) => new(
            Process.GetCurrentProcess().TotalProcessorTime, GC.GetTotalAllocatedBytes(precise: true), GC.GetTotalPauseDuration(), GC.CollectionCount(0),
            batches, System.Runtime.JitInfo.GetCompiledMethodCount(), ThreadPool.CompletedWorkItemCount, ContextSwitches(), MinorPageFaults());

        public void Add(Snapshot before, Snapshot after, double seconds)
        {
            Seconds += seconds;
            CpuMicroseconds += (after.Cpu - before.Cpu).TotalMicroseconds;
            Allocated += after.Allocated - before.Allocated;
            PauseSeconds += (after.Pause - before.Pause).TotalSeconds;
            Gen0 += after.Gen0 - before.Gen0;
            Batches += after.Batches - before.Batches;
            Compiled += after.Compiled - before.Compiled;
            WorkItems += after.WorkItems - before.WorkItems;
            Switches = Switches < 0 || before.Switches < 0 || after.Switches < 0 ? -1 : Switches + after.Switches - before.Switches;
            Faults = Faults < 0 || before.Faults < 0 || after.Faults < 0 ? -1 : Faults + after.Faults - before.Faults;
        }

        public readonly record struct Snapshot(TimeSpan Cpu, long Allocated, TimeSpan Pause, int Gen0, long Batches, long Compiled, long WorkItems, long Switches, long Faults);
    }

    /// <summary>
    /// The raw limit: NSec (libsodium) verifying signed updates — each its signature by its node's key, in turn, round and
    /// round — on <c>threads</c> threads (each starting at its own offset), in bursts whose counts and times add up.
    /// </summary>
    internal sealed class VerifyBurst
    {
        private readonly byte[][] _bytes;
        private readonly byte[][] _signatures;
        private readonly Ed25519PublicKey[] _keys;
        private readonly int _threads;
        private long _verifies;
        private double _seconds;

        public VerifyBurst(IReadOnlyList<SignedEnvelope> messages, IReadOnlyList<Ed25519PublicKey> keys, int threads)
        {
            _bytes = messages.Select(m => m.SignedBytes).ToArray();
            _signatures = messages.Select(m => m.Signature.Value).ToArray();
            _keys = [.. keys];
            _threads = threads;
        }

        public double PerSecond => _verifies / _seconds;

        public void Run(double seconds)
        {
            var duration = TimeSpan.FromSeconds(seconds);
            long count = 0;
            var stopwatch = Stopwatch.StartNew();
            Parallel.For(0, _threads, new ParallelOptions { MaxDegreeOfParallelism = _threads }, thread =>
            {
                long local = 0;
                var next = thread * _bytes.Length / _threads;
                while (stopwatch.Elapsed < duration)
                {
                    for (var i = 0; i < 100; i++)
                    {
                        if (!_keys[next].Verify(_bytes[next], _signatures[next]))
                        {
                            throw new InvalidOperationException("benchmark signature does not verify");
                        }

                        next = next + 1 == _bytes.Length ? 0 : next + 1;
                    }

                    local += 100;
                }

                Interlocked.Add(ref count, local);
            });
            _verifies += count;
            _seconds += stopwatch.Elapsed.TotalSeconds;
        }
    }

    /// <summary>
    /// Profiling the measured window only: with <c>FED_BENCH_PERF_CTL</c> naming the control FIFO of
    /// <c>perf record --control=fifo:FILE -D -1</c>, the worker enables recording as the measurement starts and
    /// disables it as it ends (see docs/performance.md).
    /// </summary>
    private static void PerfControl(string? command)
    {
        if (command is not null && Environment.GetEnvironmentVariable("FED_BENCH_PERF_CTL") is { Length: > 0 } fifo)
        {
            File.WriteAllText(fifo, command + "\n");
        }
    }

    /// <summary>Minor page faults of this process so far (field 10 of /proc/self/stat), or -1 where /proc cannot tell.</summary>
    private static long MinorPageFaults()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[7], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    /// <summary>
    /// Context switches (voluntary and not) of the whole process so far, ended threads included — getrusage(RUSAGE_SELF);
    /// summing /proc/self/task/*/status instead lost the switches of threads that ended, and could go backwards. -1 where
    /// the call is not available.
    /// </summary>
    private static long ContextSwitches()
    {
        var usage = new long[RusageLongs];
        try
        {
            return GetRusage(0, usage) == 0 ? usage[RusageVoluntarySwitches] + usage[RusageInvoluntarySwitches] : -1;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return -1;
        }
    }

    // struct rusage on 64-bit Linux: two timevals (2 longs each), then 14 longs; ru_nvcsw and ru_nivcsw are the last two.
    private const int RusageLongs = 18;
    private const int RusageVoluntarySwitches = 16;
    private const int RusageInvoluntarySwitches = 17;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRusage(int who, [System.Runtime.InteropServices.Out] long[] usage);

    private static async Task<string> JoinAsync(IFederationGrain federation, Ed25519PrivateKey key)
    {
        await federation.RegisterNodeAsync(BenchFederation.Registration(key));
        var reply = await federation.HelloAsync(SignedEnvelope.Sign(FederationHello.Create(Federation, key.Fingerprint, "bench", ["ingest.v1", "delta.vector.v1"], "n"), new Ed25519Signer(key)).ToCanonicalJson());
        var accept = SignedEnvelope.Parse(reply.Accept!);
        var ack = SessionAck.Create(Federation, key.Fingerprint, accept.PayloadAs<FederationAccept>().SessionId, Sha256Digest.Of(accept.SignedBytes));
        var session = await federation.CompleteSessionAsync(SignedEnvelope.Sign(ack, new Ed25519Signer(key)).ToCanonicalJson());
        return session.LedgerBlockId ?? throw new InvalidOperationException($"benchmark join failed: {session.Message}");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

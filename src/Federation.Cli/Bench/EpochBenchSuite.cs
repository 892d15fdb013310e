using System.Diagnostics;
using System.Globalization;
using Federation.Core.Consensus;
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
/// <c>fed bench epoch</c>: epoch commit latency (close → committed) for 100, 1,000 and 10,000 nodes with
/// 4 and 7 validators in one process, beside the raw cost of the signature verifications that commit needs
/// (every validator re-verifies every update), measured in the same run; and the share of the commit spent
/// verifying signatures.
/// </summary>
public sealed class EpochBenchSuite : IBenchSuite
{
    private const string Federation = "bench";
    private const int Dimension = 16;

    public string Name => "epoch";

    public string Description => "Epoch commit latency (close → committed) for 100/1,000/10,000 nodes with 4 and 7 validators; share spent verifying signatures";

    public async Task<BenchReport> RunAsync(bool quick, TextWriter progress, CancellationToken cancellationToken)
    {
        int[] sizes = quick ? [100, 1000] : [100, 1000, 10_000];
        var results = new List<BenchResult>();
        double verifySeconds = 0, commitSeconds = 0;
        foreach (var nodes in sizes)
        {
            foreach (var validatorCount in new[] { 4, 7 })
            {
                var run = await MeasureAsync(nodes, validatorCount, cancellationToken);
                progress.WriteLine(Invariant($"{nodes,6} nodes, {validatorCount} validators: commit {run.CommitMs:N1} ms; raw verification of {nodes * validatorCount:N0} signatures on {Environment.ProcessorCount} cores {run.VerifyMs:N1} ms"));
                results.Add(new BenchResult($"epoch_commit_ms_n{nodes}_v{validatorCount}", Math.Round(run.CommitMs, 1), "ms",
                    new BenchBaseline($"raw_verify_ms_n{nodes}_v{validatorCount}", Math.Round(run.VerifyMs, 1), "ms")));
                verifySeconds += run.VerifyMs;
                commitSeconds += run.CommitMs;
            }
        }

        var share = verifySeconds / commitSeconds;
        progress.WriteLine(Invariant($"share of commit time the raw verifications account for (all sizes): {share:P1}"));
        results.Add(new BenchResult("verify_share", Math.Round(share, 3), "fraction", null));
        return new BenchReport(Name, results);
    }

    private static async Task<(double CommitMs, double VerifyMs)> MeasureAsync(int nodeCount, int validatorCount, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), "fed-bench-epoch-" + Guid.NewGuid().ToString("N"));
        var keys = Enumerable.Range(0, nodeCount).Select(i => Ed25519PrivateKey.FromSeed(Seed(i))).ToList();
        try
        {
            var policy = new FederationPolicy(Federation, AggregationKind.Vector, ["ingest.v1"], Dimension);
            var federations = new FederationDirectory([new FederationSettings { Policy = policy, GovernanceKey = Ed25519PrivateKey.FromSeed(Seed(2_000_001)) }]);
            var validators = new ValidatorDirectory();
            validators.Add(Federation, Enumerable.Range(0, validatorCount).Select(i => new ValidatorSettings($"v{i}", Ed25519PrivateKey.FromSeed(Seed(3_000_000 + i)))).ToList(), AggregationPolicy.DefaultVector);
            var store = ScrollStores.Create(new ScrollStoreOptions { DataDirectory = Path.Combine(directory, "scrolls") });
            var ledgers = new LedgerDirectory(store, Ed25519PrivateKey.FromSeed(Seed(2_000_002)), new ScrollLedgerOptions(), TimeProvider.System);
            var host = new GrainHostBuilder()
                .UseThreadPool()
                .Configure<GrainStorageOptions>(o => o.StorageProvider = GrainStorageOptions.MemoryProvider)
                // A 10,000-node epoch takes longer than the default 30 s call timeout on 2 cores; the benchmark
                // measures the epoch, so its one caller waits (production: raise Hosting:Messaging:CallTimeout too).
                .Configure<GrainMessagingOptions>(o => o.CallTimeout = TimeSpan.FromMinutes(10))
                .AddFederationGrains(federations, ledgers, validators, new GovernanceLog(Path.Combine(directory, GovernanceLog.FileName)))
                .Build();
            await host.StartAsync(cancellationToken);
            try
            {
                var grains = host.GrainFactory;
                var federation = grains.GetGrain<IFederationGrain>(Federation);
                await federation.RegisterNodesAsync(keys.Select(k => new NodeRegistration(k.Fingerprint, TrustLevel.Federated, SyncPolicy.Bidirectional, ["ingest.v1", "delta.vector.v1"])).ToList());
                // The benchmark times the epoch, not joining: nodes are activated under a session of the membership scroll.
                var block = (await grains.GetGrain<IScrollGrain>(FederationScrolls.Membership(Federation)).AppendAsync(
                    new Core.Scrolls.ReceiptDraft("bench_sessions", new System.Text.Json.Nodes.JsonObject { ["nodes"] = nodeCount }))).Id;
                await Parallel.ForEachAsync(keys, cancellationToken, async (key, _) => await grains.GetGrain<INodeGrain>(NodeKey.For(Federation, key.Fingerprint)).ActivateAsync("bench", block));

                var state = (await federation.GetEpochAsync()).OpenStateHash;
                var messages = keys.Select((key, i) =>
                {
                    var (payload, hash) = UpdateDelta.Vector(Enumerable.Range(0, Dimension).Select(d => Math.Sin(i + d)).ToArray()).Encode();
                    return SignedEnvelope.Sign(MetaUpdate.Create(Federation, 1, key.Fingerprint, hash, block, state, payload), new Ed25519Signer(key)).ToCanonicalJson();
                }).ToList();
                var gateway = new IngestGateway(grains, federations);
                await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = 256, CancellationToken = cancellationToken }, async (message, _) =>
                {
                    var ack = await gateway.SubmitAsync(Federation, message);
                    if (ack.Disposition != Disposition.Accepted)
                    {
                        throw new InvalidOperationException($"benchmark update refused: {ack.Code}: {ack.Message}");
                    }
                });

                var stopwatch = Stopwatch.StartNew();
                var report = await grains.GetGrain<IEpochGrain>(Federation).RunAsync();
                var commitMs = stopwatch.Elapsed.TotalMilliseconds;
                if (report.State != EpochState.Committed || report.Included != nodeCount)
                {
                    throw new InvalidOperationException($"benchmark epoch did not commit all {nodeCount} updates: {report.State} {report.Reason} (included {report.Included})");
                }

                return (commitMs, RawVerifyMs(messages, validatorCount));
            }
            finally
            {
                await host.StopAsync(cancellationToken);
                await host.DisposeAsync();
                await ledgers.DisposeAsync();
                federations.Dispose();
                validators.Dispose();
            }
        }
        finally
        {
            keys.ForEach(k => k.Dispose());
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // best effort
            }
        }
    }

    /// <summary>The raw limit: libsodium verifying every update once per validator, on all cores.</summary>
    private static double RawVerifyMs(IReadOnlyList<byte[]> messages, int validators)
    {
        var work = messages.Select(m => SignedEnvelope.Parse(m)).Select(e => (Bytes: e.SignedBytes, Signature: e.Signature.Value, Key: Ed25519PublicKey.FromHex(e.Signature.KeyId!))).ToList();
        var stopwatch = Stopwatch.StartNew();
        Parallel.For(0, work.Count * validators, i =>
        {
            var (bytes, signature, key) = work[i % work.Count];
            if (!key.Verify(bytes, signature))
            {
                throw new InvalidOperationException("benchmark signature does not verify");
            }
        });
        return stopwatch.Elapsed.TotalMilliseconds;
    }

    private static byte[] Seed(int n)
    {
        var seed = new byte[32];
        BitConverter.TryWriteBytes(seed, n);
        seed[31] = 0xeb;
        return seed;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

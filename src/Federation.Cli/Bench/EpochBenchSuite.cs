using System.Diagnostics;
using System.Globalization;
using Federation.Core.Consensus;
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
/// <c>fed bench epoch</c>: epoch commit latency (close → committed) for 100, 1,000 and 10,000 nodes with
/// 4 and 7 validators in one process, beside the raw cost of the signature verifications that commit needs
/// (every validator re-verifies every update), measured in the same run; and the share of the commit spent
/// verifying signatures.
/// </summary>
public sealed class EpochBenchSuite : IBenchSuite
{
    private const string Federation = BenchFederation.Id;
    private const int Dimension = BenchFederation.Dimension;
    private const byte SeedTag = 0xeb;

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
        var validators = new ValidatorDirectory();
        validators.Add(Federation, Enumerable.Range(0, validatorCount).Select(i => new ValidatorSettings($"v{i}", Ed25519PrivateKey.FromSeed(BenchFederation.Seed(3_000_000 + i, SeedTag)))).ToList(), AggregationPolicy.DefaultVector);
        // A 10,000-node epoch takes longer than the default 30 s call timeout on 2 cores; the benchmark measures the
        // epoch, so its one caller waits (production: raise Hosting:Messaging:CallTimeout too).
        await using var bench = await BenchFederation.StartAsync(nodeCount, SeedTag, validators,
            new SiloSettings { StorageProvider = SiloSettings.MemoryProvider, CallTimeout = TimeSpan.FromMinutes(10) }, cancellationToken);
        var keys = bench.Keys;
        var grains = bench.Grains;
        await bench.Federation.RegisterNodesAsync(keys.Select(BenchFederation.Registration).ToList());

        // The benchmark times the epoch, not joining: nodes are activated under a session of the membership scroll.
        var block = (await grains.GetGrain<IScrollGrain>(FederationScrolls.Membership(Federation)).AppendAsync(
            new Core.Scrolls.ReceiptDraft("bench_sessions", new System.Text.Json.Nodes.JsonObject { ["nodes"] = nodeCount }))).Id;
        await Parallel.ForEachAsync(keys, cancellationToken, async (key, _) => await grains.GetGrain<INodeGrain>(NodeKey.For(Federation, key.Fingerprint)).ActivateAsync("bench", block));

        var state = (await bench.Federation.GetEpochAsync()).OpenStateHash;
        var messages = keys.Select((key, i) =>
        {
            var (payload, hash) = UpdateDelta.Vector(Enumerable.Range(0, Dimension).Select(d => Math.Sin(i + d)).ToArray()).Encode();
            return SignedEnvelope.Sign(MetaUpdate.Create(Federation, 1, key.Fingerprint, hash, block, state, payload), new Ed25519Signer(key)).ToCanonicalJson();
        }).ToList();
        await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = 256, CancellationToken = cancellationToken }, async (message, _) =>
        {
            var ack = await bench.Gateway.SubmitAsync(Federation, message);
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

    /// <summary>The raw limit: NSec (libsodium) verifying every update once per validator, on all cores.</summary>
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

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

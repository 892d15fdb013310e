using System.Diagnostics;
using System.Text.Json.Nodes;
using Federation.Core.Checkpoints;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Merkle;
using Federation.Core.Scrolls;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;

namespace Federation.Cli.Bench;

/// <summary>
/// <c>fed bench scroll</c>: durable appends through the ledger on the file store (group commit, fsync),
/// inclusion proofs at a million leaves and memory per leaf, each beside the raw SHA-256 limit measured
/// in the same run.
/// </summary>
public sealed class ScrollBenchSuite : IBenchSuite
{
    private const int Appenders = 512;
    private const int ProofLeaves = 1_000_000;
    private const int ProofSamples = 20_000;

    public string Name => "scroll";

    public string Description => "Durable appends/s (file store, group commit), inclusion proof latency at 1M leaves, bytes per leaf";

    public async Task<BenchReport> RunAsync(bool quick, TextWriter progress, CancellationToken cancellationToken)
    {
        var sampleLine = Receipt.BuildLine(SampleDraft(123456), "bench.scroll", 123456, DateTimeOffset.UnixEpoch);
        var hashSeconds = quick ? 0.5 : 2;
        progress.WriteLine($"measuring raw SHA-256 leaf hashes of a {sampleLine.Length}-byte receipt line for {hashSeconds} s");
        var leafHashesPerSecond = MeasureRate(() => MerkleHash.Leaf(sampleLine), TimeSpan.FromSeconds(hashSeconds));

        var appendSeconds = quick ? 4 : 15;
        progress.WriteLine($"measuring durable appends with {Appenders} concurrent appenders for {appendSeconds} s (file store, fsync per group commit)");
        var (appendsPerSecond, fsyncBatches) = await MeasureDurableAppendsAsync(TimeSpan.FromSeconds(appendSeconds), cancellationToken);

        progress.WriteLine($"building a tree of {ProofLeaves:N0} leaves and timing {ProofSamples:N0} inclusion proofs");
        var (proofMedianUs, bytesPerLeaf, nodeHashUs) = MeasureProofs();

        return new BenchReport(Name,
        [
            new BenchResult("durable_appends_per_s", Math.Round(appendsPerSecond), "appends/s",
                new BenchBaseline("sha256_leaf_hashes_per_s", Math.Round(leafHashesPerSecond), "hashes/s")),
            new BenchResult("durable_append_batches_per_s", Math.Round(fsyncBatches), "fsyncs/s", null),
            new BenchResult("inclusion_proof_median_us_1m", Math.Round(proofMedianUs, 3), "µs",
                new BenchBaseline("sha256_20_node_hashes_us", Math.Round(nodeHashUs * 20, 3), "µs")),
            new BenchResult("bytes_per_leaf", Math.Round(bytesPerLeaf, 1), "bytes",
                new BenchBaseline("leaf_hash_bytes", Sha256Digest.Size, "bytes")),
        ]);
    }

    private static ReceiptDraft SampleDraft(int n) => new("update_accepted", new JsonObject
    {
        ["epoch"] = n / 100,
        ["node_fingerprint"] = "ed25519:" + new string('a', 64),
        ["update_hash"] = "sha256:" + new string('b', 64),
        ["payload_bytes"] = 4096,
    }, ["bench"]);

    private static double MeasureRate(Action action, TimeSpan duration)
    {
        for (var i = 0; i < 10_000; i++)
        {
            action();
        }

        var stopwatch = Stopwatch.StartNew();
        long count = 0;
        while (stopwatch.Elapsed < duration)
        {
            for (var i = 0; i < 1000; i++)
            {
                action();
            }

            count += 1000;
        }

        return count / stopwatch.Elapsed.TotalSeconds;
    }

    private static async Task<(double AppendsPerSecond, double FsyncsPerSecond)> MeasureDurableAppendsAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), "fed-bench-scroll-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var key = Ed25519PrivateKey.Generate();
            var options = new ScrollLedgerOptions();
            var store = ScrollStores.Create(new ScrollStoreOptions { Kind = ScrollStoreOptions.FileKind, DataDirectory = directory });
            await using (store)
            {
                var scroll = "bench.scroll";
                var ledger = await ScrollLedger.OpenAsync(store, scroll, new NoteSigner(options.OriginOf(scroll), key), [], TimeProvider.System, options, cancellationToken);
                await using (ledger)
                {
                    // Warm up the writer loop and the JIT.
                    await Task.WhenAll(Enumerable.Range(0, Appenders).Select(i => ledger.AppendAsync(SampleDraft(i), cancellationToken)));
                    var sizeBefore = ledger.Size;
                    var batchesBefore = ledger.CommittedBatches;
                    var stopwatch = Stopwatch.StartNew();
                    var deadline = duration;
                    long acknowledged = 0;
                    var workers = Enumerable.Range(0, Appenders).Select(async worker =>
                    {
                        var n = 0;
                        while (stopwatch.Elapsed < deadline)
                        {
                            await ledger.AppendAsync(SampleDraft(worker * 1_000_000 + n++), cancellationToken);
                            Interlocked.Increment(ref acknowledged);
                        }
                    }).ToList();
                    await Task.WhenAll(workers);
                    var elapsed = stopwatch.Elapsed.TotalSeconds;
                    if (ledger.Size - sizeBefore != acknowledged)
                    {
                        throw new InvalidOperationException($"benchmark invariant: {acknowledged} acknowledged but the scroll grew by {ledger.Size - sizeBefore}");
                    }

                    return (acknowledged / elapsed, (ledger.CommittedBatches - batchesBefore) / elapsed);
                }
            }
        }
        finally
        {
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

    private static (double MedianUs, double BytesPerLeaf, double NodeHashUs) MeasureProofs()
    {
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var tree = new MerkleTree();
        Span<byte> leaf = stackalloc byte[8];
        for (var i = 0; i < ProofLeaves; i++)
        {
            BitConverter.TryWriteBytes(leaf, i);
            tree.AppendData(leaf);
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        var bytesPerLeaf = (after - before) / (double)ProofLeaves;

        var random = new Random(1);
        var samples = new double[ProofSamples];
        var ticksToUs = 1_000_000.0 / Stopwatch.Frequency;
        for (var i = 0; i < 1000; i++)
        {
            _ = tree.InclusionProof(random.NextInt64(ProofLeaves), ProofLeaves);
        }

        for (var i = 0; i < samples.Length; i++)
        {
            var index = random.NextInt64(ProofLeaves);
            var start = Stopwatch.GetTimestamp();
            _ = tree.InclusionProof(index, ProofLeaves);
            samples[i] = (Stopwatch.GetTimestamp() - start) * ticksToUs;
        }

        Array.Sort(samples);
        var a = MerkleHash.Leaf([1]);
        var b = MerkleHash.Leaf([2]);
        var nodeHashesPerSecond = MeasureRate(() => a = MerkleHash.Node(a, b), TimeSpan.FromSeconds(0.5));
        GC.KeepAlive(tree);
        return (samples[samples.Length / 2], bytesPerLeaf, 1_000_000.0 / nodeHashesPerSecond);
    }
}

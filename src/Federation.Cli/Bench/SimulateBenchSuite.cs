using System.Diagnostics;
using System.Globalization;
using Federation.Core.Crypto;
using Federation.Core.Signing;
using Federation.Simulation;

namespace Federation.Cli.Bench;

/// <summary>
/// <c>fed bench simulate</c>: simulated epochs (submissions through commit) per wall-clock second for 100 and 1,000 honest nodes with
/// 4 validators on the deterministic simulator (the Core state machines in process, one thread), beside the raw limit measured in the same run:
/// epochs per second if an epoch cost only the Ed25519 verifications it needs, on one thread (each update
/// is verified by the gateway and by every validator).
/// </summary>
public sealed class SimulateBenchSuite : IBenchSuite
{
    private const int Validators = 4;

    public string Name => "simulate";

    public string Description => "Simulated epochs per wall-clock second for 100 and 1,000 nodes (deterministic simulator), beside the raw Ed25519 verifications an epoch needs";

    public Task<BenchReport> RunAsync(bool quick, TextWriter progress, CancellationToken cancellationToken)
    {
        var results = new List<BenchResult>();
        foreach (var (nodes, epochs) in quick ? new[] { (100, 3), (1000, 2) } : [(100, 10), (1000, 4)])
        {
            cancellationToken.ThrowIfCancellationRequested();
            var scenario = new Scenario($"bench-n{nodes}", "bench", nodes, Validators, epochs).Validate();
            var directory = Path.Combine(Path.GetTempPath(), "fed-bench-simulate-" + Guid.NewGuid().ToString("N"));
            try
            {
                var summary = FederationSimulator.Run(scenario, 1, directory, TextWriter.Null);
                if (!summary.Passed || summary.EpochsCommitted != epochs)
                {
                    throw new InvalidOperationException($"benchmark simulation of {nodes} nodes did not commit every epoch with every invariant holding");
                }

                // Steady state: epochs (submissions through commit), not the one-off joins, start-up and artifact writing.
                var epochsPerSecond = epochs / summary.EpochsWallClock.TotalSeconds;
                var rawPerSecond = 1 / RawVerifySecondsPerEpoch(nodes);
                progress.WriteLine(Invariant($"{nodes,5} nodes, {Validators} validators: {epochs} epochs in {summary.EpochsWallClock.TotalSeconds:F2} s (whole run {summary.WallClock.TotalSeconds:F2} s) = {epochsPerSecond:F2} epochs/s; raw verifications alone: {rawPerSecond:F1} epochs/s"));
                results.Add(new BenchResult($"sim_epochs_per_s_n{nodes}", Math.Round(epochsPerSecond, 3), "epochs/s",
                    new BenchBaseline($"raw_verify_epochs_per_s_n{nodes}", Math.Round(rawPerSecond, 3), "epochs/s")));
            }
            finally
            {
                if (Directory.Exists(directory))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        }

        return Task.FromResult(new BenchReport(Name, results));
    }

    /// <summary>One thread verifying each of an epoch's updates once at the gateway and once per validator.</summary>
    private static double RawVerifySecondsPerEpoch(int nodes)
    {
        var messages = Enumerable.Range(0, nodes).Select(i =>
        {
            using var key = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)(i % 251), 31).Append((byte)0x5e).ToArray());
            var signed = SignedEnvelope.Sign(new System.Text.Json.Nodes.JsonObject { ["node"] = i, ["payload"] = new string('x', 64) }, new Ed25519Signer(key));
            return (Bytes: signed.SignedBytes, Signature: signed.Signature.Value, Key: key.PublicKey);
        }).ToList();
        var stopwatch = Stopwatch.StartNew();
        for (var round = 0; round < Validators + 1; round++)
        {
            foreach (var (bytes, signature, key) in messages)
            {
                if (!key.Verify(bytes, signature))
                {
                    throw new InvalidOperationException("benchmark signature does not verify");
                }
            }
        }

        return stopwatch.Elapsed.TotalSeconds;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

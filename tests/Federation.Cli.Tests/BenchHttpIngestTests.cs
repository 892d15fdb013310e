using System.Text.Json.Nodes;

namespace Federation.Cli.Tests;

/// <summary><c>fed bench http-ingest --quick --json</c> runs against a real <c>fed serve</c> and reports its figures beside the raw verify rate.</summary>
[Collection(RealProcesses.Name)]
public sealed class BenchHttpIngestTests
{
    [Fact]
    public void The_http_ingest_benchmark_acknowledges_every_update_over_http_and_reports_rate_latency_and_its_baseline()
    {
        var before = Directory.GetDirectories(Path.GetTempPath(), "fed-bench-http-*").Length;
        var result = FedRunner.Process(null, "bench", "http-ingest", "--quick", "--json");
        Assert.True(result.ExitCode == 0, result.Err);
        var report = JsonNode.Parse(result.Out.Trim())!;
        Assert.Equal("http-ingest", report["suite"]!.GetValue<string>());
        var results = report["results"]!.AsArray().ToDictionary(r => r!["name"]!.GetValue<string>());
        var acked = results["http_updates_acked_per_s"]!;
        Assert.True(acked["value"]!.GetValue<double>() > 0);
        Assert.Equal("verifies_per_s_2core", acked["baseline"]!["name"]!.GetValue<string>());
        Assert.True(acked["baseline"]!["value"]!.GetValue<double>() > 0);
        Assert.InRange(acked["ratio"]!.GetValue<double>(), 0.0001, 10);
        var p50 = results["http_ack_latency_p50_ms"]!["value"]!.GetValue<double>();
        Assert.True(p50 > 0 && p50 <= results["http_ack_latency_p99_ms"]!["value"]!.GetValue<double>());
        Assert.Contains("epoch 5: 400 updates acknowledged", result.Err);

        // Its coordinator's directory is gone with it.
        Assert.Equal(before, Directory.GetDirectories(Path.GetTempPath(), "fed-bench-http-*").Length);
    }
}

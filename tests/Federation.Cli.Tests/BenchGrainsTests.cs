using System.Text.Json;

namespace Federation.Cli.Tests;

public class BenchGrainsTests
{
    [Fact]
    public void Bench_grains_quick_json_prints_one_report_with_each_result_beside_its_baseline()
    {
        // Its own process: the memory figures are process-wide (GC.GetTotalMemory), and in the test host other tests
        // running meanwhile allocate and free beside it (a negative "bytes per activation" was seen in CI).
        var result = FedRunner.Process(null, "bench", "grains", "--quick", "--json");
        Assert.Equal(0, result.ExitCode);

        using var report = JsonDocument.Parse(result.Out);
        Assert.Equal("grains", report.RootElement.GetProperty("suite").GetString());
        var results = report.RootElement.GetProperty("results").EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);
        foreach (var name in new[] { "grain_calls_per_s", "bytes_per_idle_activation", "activations_per_s" })
        {
            var entry = results[name];
            Assert.True(entry.GetProperty("value").GetDouble() > 0, name);
            var baseline = entry.GetProperty("baseline");
            Assert.True(baseline.GetProperty("value").GetDouble() > 0, name);
            Assert.False(string.IsNullOrEmpty(baseline.GetProperty("name").GetString()));
            Assert.Equal(Math.Round(entry.GetProperty("value").GetDouble() / baseline.GetProperty("value").GetDouble(), 4), entry.GetProperty("ratio").GetDouble(), 3);
        }

        Assert.Equal("round trips/s", results["grain_calls_per_s"].GetProperty("baseline").GetProperty("unit").GetString());
        Assert.Contains("idle activations", result.Err, StringComparison.Ordinal); // progress goes to stderr with --json
    }
}

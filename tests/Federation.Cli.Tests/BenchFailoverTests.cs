using System.Text.Json.Nodes;

namespace Federation.Cli.Tests;

/// <summary><c>fed bench failover --quick --json</c> over a throwaway PostgreSQL: three real fed serve, one killed with kill -9.</summary>
[Collection(RealProcesses.Name)]
public sealed class BenchFailoverTests : IAsyncLifetime
{
    private string _database = "";

    public async Task InitializeAsync() => _database = await PostgresCluster.Instance.CreateDatabaseAsync("failover");

    public Task DisposeAsync() => PostgresCluster.Instance.DropDatabaseAsync(_database);

    [Fact]
    public void The_failover_benchmark_kills_the_silo_hosting_the_update_scroll_and_reports_the_seconds_to_the_next_ack()
    {
        var result = FedRunner.Process(null, new Dictionary<string, string> { ["FED_BENCH_POSTGRES"] = _database }, "bench", "failover", "--quick", "--json");
        Assert.True(result.ExitCode == 0, result.Err);
        var results = JsonNode.Parse(result.Out.Trim())!["results"]!.AsArray().ToDictionary(r => r!["name"]!.GetValue<string>());
        var seconds = results["failover_s"]!["value"]!.GetValue<double>();
        Assert.True(seconds > 0, result.Err);
        Assert.Equal(seconds, results["failover_max_s"]!["value"]!.GetValue<double>());
        Assert.Contains("hosted failover-", result.Err);
    }

    [Fact]
    public void Without_a_database_the_failover_benchmark_says_what_it_needs()
    {
        var result = FedRunner.Process(null, new Dictionary<string, string> { ["FED_BENCH_POSTGRES"] = "" }, "bench", "failover", "--quick");
        Assert.Equal(ExitCodes.UnusableInput, result.ExitCode);
        Assert.Contains("set FED_BENCH_POSTGRES", result.Err);
    }
}

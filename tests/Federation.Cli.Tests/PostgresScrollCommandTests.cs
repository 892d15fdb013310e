using System.Diagnostics;

namespace Federation.Cli.Tests;

/// <summary>Several real <c>fed</c> processes appending to one PostgreSQL scroll at once.</summary>
public class PostgresScrollCommandTests
{
    [Fact]
    public async Task Concurrent_appender_processes_never_produce_a_duplicate_or_missing_seq()
    {
        var connection = await PostgresCluster.Instance.CreateDatabaseAsync("cli");
        using var dir = new TempDirectory();
        var key = Path.Combine(dir.Path, "keys", "scroll.key");
        Assert.Equal(0, FedRunner.InProcess("keys", "generate", "--out", key).ExitCode);

        const int processes = 4;
        const int perProcess = 40;
        var runs = Enumerable.Range(0, processes).Select(p => Task.Run(() =>
        {
            var input = Path.Combine(dir.Path, $"in{p}.jsonl");
            File.WriteAllLines(input, Enumerable.Range(0, perProcess).Select(i => $$$"""{"type":"t","body":{"p":{{{p}}},"i":{{{i}}}}}"""));
            // Each process appends its receipts one call at a time, interleaving with the others.
            var seqs = new List<long>();
            for (var i = 0; i < perProcess; i += 10)
            {
                var chunk = Path.Combine(dir.Path, $"in{p}-{i}.jsonl");
                File.WriteAllLines(chunk, File.ReadAllLines(input).Skip(i).Take(10));
                var result = FedRunner.Process(null, "scroll", "append", "--scroll", "shared", "--store", "postgres", "--connection", connection, "--key", key, "--in", chunk);
                Assert.True(result.ExitCode == 0, result.Err);
                seqs.AddRange(result.Out.Trim().Split('\n').Select(long.Parse));
            }

            return seqs;
        })).ToList();

        var all = (await Task.WhenAll(runs)).SelectMany(s => s).Order().ToList();
        Assert.Equal(Enumerable.Range(0, processes * perProcess).Select(i => (long)i), all);

        var verify = FedRunner.InProcess("scroll", "verify", "--scroll", "shared", "--store", "postgres", "--connection", connection, "--pub", key + ".pub", "--anchors", Path.Combine(dir.Path, "none.merk"));
        Assert.True(verify.ExitCode == 0, verify.Err + verify.Out);
        Assert.Contains($"{processes * perProcess} receipts verified", verify.Out);
    }
}

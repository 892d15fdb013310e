using System.Text.Json;

namespace Federation.Cli.Tests;

public class BenchIngestTests
{
    [Fact]
    public void The_ingest_worker_measures_every_update_it_was_asked_for_and_reports_its_diagnostics()
    {
        // The pinned child of `fed bench ingest`, tiny: 40 nodes, 3 measured epochs, no warm-up.
        var result = FedRunner.InProcess("bench", "ingest-run", "--nodes", "40", "--epochs", "3", "--cores", "1", "--warmup-seconds", "0");
        Assert.Equal(0, result.ExitCode);

        using var run = JsonDocument.Parse(result.Out.Trim().Split('\n')[^1]);
        var root = run.RootElement;
        Assert.Equal(120, root.GetProperty("Updates").GetInt64()); // 40 nodes × 3 epochs, every one acknowledged as accepted
        Assert.True(root.GetProperty("UpdatesPerSecond").GetDouble() > 0);
        Assert.True(root.GetProperty("VerifiesPerSecond").GetDouble() > 0);
        Assert.True(root.GetProperty("RepeatedVerifiesPerSecond").GetDouble() > 0);
        Assert.True(root.GetProperty("CpuMicrosecondsPerUpdate").GetDouble() > 0);
        Assert.True(root.GetProperty("AllocatedBytesPerUpdate").GetDouble() > 0);
        var perCommit = root.GetProperty("UpdatesPerCommit").GetDouble();
        Assert.InRange(perCommit, 1, 120); // each group commit sealed at least one update, and no more than there were
        Assert.True(root.GetProperty("WarmupUpdates").GetInt64() % 40 == 0); // warm-up ingests whole epochs
        Assert.True(root.GetProperty("WorkItemsPerUpdate").GetDouble() >= 1); // at least the node grain's step after its seal runs as a work item (the turn itself may start on the gateway's thread)
        Assert.True(root.GetProperty("ContextSwitchesPerUpdate").GetDouble() >= 0); // read from /proc on Linux
    }
}

using Federation.Cli.Commands;
using Federation.Simulation;
using Spectre.Console.Testing;

namespace Federation.Cli.Tests;

/// <summary>Long runs show progress on a terminal and nothing extra in pipes; every JSON input has a limit the user can raise.</summary>
public sealed class ProgressAndLimitsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Baseline => Path.Combine(SharedVectors.RepositoryRoot(), "simulations", "m5-baseline.json");

    [Fact]
    public void On_a_terminal_a_simulation_runs_under_a_live_progress_bar_and_writes_the_same_artifacts()
    {
        var terminal = new TestConsole().Interactive();
        terminal.Profile.Width = 160;
        var scenario = Scenario.Load(Baseline);
        var watched = SimulateCommand.RunUnder(terminal, scenario, 1, _dir.File("watched"));
        Assert.True(watched.Passed);
        Assert.Contains("epoch 4/4: committed", terminal.Output);
        Assert.Contains("m5-baseline seed 1", terminal.Output);

        // Watching changes nothing: the artifacts are the bytes of a run nobody watched.
        Assert.Equal(0, FedRunner.InProcess("simulate", "--scenario", Baseline, "--seed", "1", "--out", _dir.File("plain")).ExitCode);
        var plain = TreeSnapshot.Of(_dir.File("plain"));
        Assert.Empty(TreeSnapshot.Of(_dir.File("watched")).DifferencesFrom(plain));
    }

    [Fact]
    public void In_a_pipe_a_simulation_prints_its_epoch_lines_and_no_terminal_control_codes()
    {
        var piped = FedRunner.Process(null, "simulate", "--scenario", Baseline, "--seed", "1", "--out", _dir.File("out"));
        Assert.True(piped.ExitCode == 0, piped.Err);
        Assert.Contains("epoch 1/4: committed", piped.Out);
        Assert.DoesNotContain('\u001b', piped.Out + piped.Err);
        Assert.DoesNotContain('\r', piped.Out);
    }

    [Fact]
    public void Inputs_over_their_limit_are_refused_naming_the_size_the_limit_and_the_option()
    {
        var scenario = FedRunner.InProcess("simulate", "--scenario", Baseline, "--max-scenario-bytes", "100", "--out", _dir.File("out"));
        Assert.Equal(2, scenario.ExitCode);
        Assert.Contains("over the 100-byte limit (raise it with --max-scenario-bytes)", scenario.Err);
        Assert.False(Directory.Exists(_dir.File("out")));

        Assert.Equal(0, FedRunner.InProcess("simulate", "--scenario", Baseline, "--seed", "1", "--out", _dir.File("run")).ExitCode);
        var plan = FedRunner.InProcess("verify", "--phase", "M5", "--artifacts", _dir.File("run"), "--max-plan-bytes", "1000");
        Assert.Equal(2, plan.ExitCode);
        Assert.Contains("federated_plan.json is", plan.Err);
        Assert.Contains("over the 1000-byte limit (raise it with --max-plan-bytes)", plan.Err);

        var bundle = _dir.File("bundle.json");
        File.WriteAllText(bundle, new string(' ', 2000));
        var refused = FedRunner.InProcess("verify-bundle", bundle, "--pub", Path.Combine(_dir.File("run"), "keys", "scroll.pub"), "--max-bytes", "1000");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("over the 1000-byte limit (raise it with --max-bytes)", refused.Err);
    }
}

namespace Federation.Cli.Tests;

/// <summary>
/// Cluster tokens: operator tokens of no federation, for what spans them all (the dashboard).
/// </summary>
public sealed partial class ServeTests
{
    private string ClusterToken(string label = "dashboard test")
    {
        var created = FedRunner.InProcess("token", "create", "--cluster", "--role", "operator", "--label", label, "--settings", Settings);
        Assert.True(created.ExitCode == 0, created.Err);
        Assert.Contains("(operator of the cluster) created; it is not shown again", created.Err);
        return created.Out.Trim();
    }

    [Fact]
    public void A_cluster_token_is_an_operator_token_and_a_token_names_a_federation_or_the_cluster_not_both()
    {
        Prepare();
        var reviewer = FedRunner.InProcess("token", "create", "--cluster", "--role", "reviewer", "--settings", Settings);
        Assert.Equal(ExitCodes.UnusableInput, reviewer.ExitCode);
        Assert.Contains("its role is operator, not \"reviewer\"", reviewer.Err);
        Assert.Equal(string.Empty, reviewer.Out);

        var neither = FedRunner.InProcess("token", "create", "--role", "operator", "--settings", Settings);
        Assert.Equal(ExitCodes.UnusableInput, neither.ExitCode);
        Assert.Contains("give --federation F (a federation's token) or --cluster", neither.Err);
        var both = FedRunner.InProcess("token", "create", "--cluster", "--federation", Fed, "--role", "operator", "--settings", Settings);
        Assert.Equal(ExitCodes.UnusableInput, both.ExitCode);
        Assert.Contains("not both", both.Err);

        var token = ClusterToken(label: "ops desk");
        Assert.StartsWith("fed_", token);
        var list = FedRunner.InProcess("token", "list", "--cluster", "--settings", Settings);
        Assert.Equal(0, list.ExitCode);
        Assert.Matches("^[0-9a-f]{12}  operator  .*  ops desk$", list.Out.Trim());
        Assert.DoesNotContain(token, list.Out);

        // The cluster's tokens are not a federation's.
        Assert.Equal(string.Empty, FedRunner.InProcess("token", "list", "--federation", Fed, "--settings", Settings).Out);
    }
}

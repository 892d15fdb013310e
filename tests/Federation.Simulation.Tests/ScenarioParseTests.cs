using System.Text;

namespace Federation.Simulation.Tests;

/// <summary>A scenario file that cannot be used says which member, what it must be, and where — in the scenario's words.</summary>
public sealed class ScenarioParseTests
{
    private const string Base = "\"name\":\"x\",\"federation\":\"f\",\"nodes\":4,\"validators\":4,\"epochs\":1";

    private static string Refusal(string json) =>
        Assert.Throws<FormatException>(() => Scenario.Parse(Encoding.UTF8.GetBytes(json))).Message;

    [Fact]
    public void A_member_named_twice_is_refused_not_last_wins()
    {
        var message = Refusal("{\"name\":\"first\"," + Base + "}");
        Assert.Contains("member \"name\" appears twice in $", message);
    }

    [Fact]
    public void An_unknown_fault_kind_lists_every_valid_kind()
    {
        var message = Refusal("{" + Base + ",\"node_faults\":[{\"node\":0,\"kind\":\"explode\",\"epochs\":[1]}]}");
        Assert.Contains("$.node_faults[0].kind must be one of divergent, equivocation, bad_signature, wrong_hash, stale_epoch, lying_ledger_head, partitioned, crashed", message);
        Assert.DoesNotContain("Federation.", message);
    }

    [Fact]
    public void An_unknown_validator_behaviour_lists_every_valid_behaviour()
    {
        var message = Refusal("{" + Base + ",\"validator_faults\":[{\"validator\":1,\"behaviour\":\"evil\"}]}");
        Assert.Contains("$.validator_faults[0].behaviour must be one of honest, silent, equivocating_primary, conflicting_votes", message);
    }

    [Theory]
    [InlineData("\"nodes\":\"four\"", "$.nodes must be an integer")]
    [InlineData("\"network\":{\"drop\":\"often\"}", "$.network.drop must be a number")]
    [InlineData("\"network\":{\"reorder\":1}", "$.network.reorder must be true or false")]
    [InlineData("\"coordinator_crashes\":{}", "$.coordinator_crashes must be an array")]
    public void A_wrong_type_names_the_member_and_what_it_must_be(string member, string expected)
    {
        var json = "{" + Base.Replace("\"nodes\":4", member.StartsWith("\"nodes\"", StringComparison.Ordinal) ? member : "\"nodes\":4") + (member.StartsWith("\"nodes\"", StringComparison.Ordinal) ? string.Empty : "," + member) + "}";
        var message = Refusal(json);
        Assert.Contains(expected, message);
        Assert.Contains("(line 1, byte ", message);
        Assert.DoesNotContain("System.", message);
    }

    [Fact]
    public void An_unknown_member_is_named_with_the_members_there_are()
    {
        var message = Refusal("{" + Base + ",\"network\":{\"jitter\":0.1}}");
        Assert.Contains("unknown member \"jitter\" in $.network", message);
        Assert.Contains("the members are duplicate, drop, reorder", message);
    }
}

using System.Text.Json.Nodes;
using Federation.Core.Crypto;
using Federation.Core.Signing;
using static Federation.Simulation.Tests.SimulationRun;

namespace Federation.Simulation.Tests;

/// <summary>
/// <c>fed verify --phase M5</c> is not fooled by a folder that vouches for itself (issue 20): a plan edited and re-signed with a
/// new key (its plan_key and keys/plan.pub replaced to match) or an edited governance log fail the cross-check against the
/// scrolls; with <c>--trust</c>, artifacts signed by keys other than the trusted ones are refused.
/// </summary>
public sealed class TrustTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string Out(string name) => Path.Combine(_directory.Path, name);

    private string PlanPath(string run) => Path.Combine(Out(run), "mec", "M5", "federated_plan.json");

    private string Byzantine(string run = "a", string seed = "1")
    {
        var simulated = Fed("simulate", "--scenario", ScenarioPath("m5-byzantine"), "--seed", seed, "--out", Out(run));
        Assert.True(simulated.Exit == 0, simulated.Err);
        return Out(run);
    }

    /// <summary>Edits the plan's payload and re-signs it with a fresh key, replacing plan_key and keys/plan.pub: an attacker with write access.</summary>
    private void Resign(string run, Action<JsonObject> edit)
    {
        var payload = SignedEnvelope.Parse(File.ReadAllBytes(PlanPath(run))).Payload.DeepClone().AsObject();
        payload.Remove("signature");
        using var key = Ed25519PrivateKey.Generate();
        payload["plan_key"] = key.PublicKey.ToHex();
        edit(payload);
        File.WriteAllBytes(PlanPath(run), FederatedPlan.Sign(payload, key));
        File.WriteAllText(Path.Combine(Out(run), "keys", "plan.pub"), KeyPem.ExportPublicKey(key.PublicKey));
    }

    [Fact]
    public void Without_trust_the_verdict_says_the_keys_came_from_the_folder()
    {
        var verify = Fed("verify", "--phase", "M5", "--artifacts", Byzantine());
        Assert.True(verify.Exit == 0, verify.Err);
        Assert.Contains("keys taken from the folder checked", verify.Out);
        Assert.Contains("pass --trust FILE", verify.Out);
        Assert.Contains("internally consistent", verify.Out);
        Assert.Contains("18 governance log entries field by field", verify.Out);
    }

    [Fact]
    public void A_re_signed_plan_with_a_quarantine_removed_fails_the_cross_check_against_the_scrolls()
    {
        var run = Byzantine();
        string node = "";
        Resign("a", plan =>
        {
            var quarantines = plan["quarantines"]!.AsArray();
            node = quarantines[0]!["node"]!.GetValue<string>();
            quarantines.RemoveAt(0);
            foreach (var entry in plan["nodes"]!.AsArray().Where(n => n!["fingerprint"]!.GetValue<string>() == node))
            {
                entry!["status"] = "active";
            }
        });

        var verify = Fed("verify", "--phase", "M5", "--artifacts", run);
        Assert.Equal(1, verify.Exit);
        Assert.Contains($"plan node {node}: status is active, the receipts leave it quarantined", verify.Err);
        Assert.Contains($"plan quarantines: node {node} is not listed", verify.Err);
    }

    [Fact]
    public void A_re_signed_plan_with_an_edited_epoch_fails_naming_the_member_and_the_receipt()
    {
        var run = Byzantine();
        Resign("a", plan =>
        {
            var epoch = plan["epochs"]![1]!.AsObject();
            var included = epoch["included"]!.AsArray();
            included.RemoveAt(included.Count - 1);
        });

        var verify = Fed("verify", "--phase", "M5", "--artifacts", run);
        Assert.Equal(1, verify.Exit);
        Assert.Contains("plan epoch 2: included is not what its receipt m5.governance:", verify.Err);
    }

    [Fact]
    public void An_edited_reason_in_the_governance_log_fails_naming_the_entry_and_the_field()
    {
        var run = Byzantine();
        var log = Path.Combine(run, "META-GOVERNANCE-LOG.md");
        var text = File.ReadAllText(log);
        Assert.Contains("- reason: equivocation\n", text);
        File.WriteAllText(log, text.Replace("- reason: equivocation\n", "- reason: operator request\n", StringComparison.Ordinal));

        var verify = Fed("verify", "--phase", "M5", "--artifacts", run);
        Assert.Equal(1, verify.Exit);
        Assert.Contains("META-GOVERNANCE-LOG.md: FEDERATED_QUARANTINE m5.governance:4: \"reason\" is operator request, its receipt says equivocation", verify.Err);

        File.WriteAllText(log, text.Replace("- included: 11\n", "- included: 12\n", StringComparison.Ordinal));
        var included = Fed("verify", "--phase", "M5", "--artifacts", run);
        Assert.Equal(1, included.Exit);
        Assert.Contains("\"included\" is 12, its receipt says 11", included.Err);
    }

    [Fact]
    public void With_trust_the_pinned_keys_pass_and_artifacts_signed_by_other_keys_are_refused()
    {
        var good = Byzantine();
        var trust = Out("trust.json");
        var pinned = Fed("verify", "--phase", "M5", "--artifacts", good, "--write-trust", trust);
        Assert.True(pinned.Exit == 0, pinned.Err);
        Assert.Equal(TrustRoots.FormatName, JsonNode.Parse(File.ReadAllText(trust))!["format"]!.GetValue<string>());
        Assert.Equal(2, Fed("verify", "--phase", "M5", "--artifacts", good, "--write-trust", Path.Combine(good, "trust.json")).Exit);

        var trusted = Fed("verify", "--phase", "M5", "--artifacts", good, "--trust", trust);
        Assert.True(trusted.Exit == 0, trusted.Err);
        Assert.Contains("M5 compliant (trusted keys)", trusted.Out);

        // The same plan re-signed by another key (nothing else changed) passes on its own, but not against the trust file.
        Resign("a", _ => { });
        Assert.Equal(0, Fed("verify", "--phase", "M5", "--artifacts", good).Exit);
        var resigned = Fed("verify", "--phase", "M5", "--artifacts", good, "--trust", trust);
        Assert.Equal(1, resigned.Exit);
        Assert.Contains("plan_key", resigned.Err);
        Assert.Contains("is not the trusted key", resigned.Err);
        Assert.Contains("signature does not verify", resigned.Err);

        // A trust file for nodes (no plan key) cannot vouch for a plan: the verdict says so.
        var forNodes = JsonNode.Parse(File.ReadAllText(trust))!.AsObject();
        forNodes.Remove("plan_key");
        var nodesTrust = Out("nodes-trust.json");
        File.WriteAllText(nodesTrust, forNodes.ToJsonString());
        var noPlanKey = Fed("verify", "--phase", "M5", "--artifacts", good, "--trust", nodesTrust);
        Assert.Equal(1, noPlanKey.Exit);
        Assert.Contains("the trust file names no plan_key", noPlanKey.Err);

        // Another federation's artifacts (other scroll, governance and validator keys) are refused key by key.
        var other = Fed("verify", "--phase", "M5", "--artifacts", Byzantine("b", "2"), "--trust", trust);
        Assert.Equal(1, other.Exit);
        Assert.Contains("scroll_key", other.Err);
        Assert.Contains("governance_key", other.Err);
    }

    [Theory]
    [InlineData("{\"format\":\"fed-trust/v1\",\"format\":\"fed-trust/v1\"}", "duplicate")]
    [InlineData("{\"format\":\"fed-trust/v2\"}", "\"format\" must be \"fed-trust/v1\"")]
    [InlineData("{\"format\":\"fed-trust/v1\",\"plan\":\"x\"}", "unknown member \"plan\"")]
    [InlineData("{\"format\":\"fed-trust/v1\",\"governance_key\":\"zz\",\"plan_key\":\"zz\",\"scroll_key\":\"zz\",\"validators\":{\"v0\":\"zz\"}}", "\"governance_key\" is not a hex Ed25519 public key")]
    [InlineData("not json", "trust file")]
    public void A_bad_trust_file_is_unusable_input_naming_what_is_wrong(string content, string expected)
    {
        var run = Byzantine();
        var trust = Out("trust.json");
        File.WriteAllText(trust, content);
        var verify = Fed("verify", "--phase", "M5", "--artifacts", run, "--trust", trust);
        Assert.Equal(2, verify.Exit);
        Assert.Contains(expected, verify.Err);
    }
}

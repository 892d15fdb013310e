using System.Text.Json.Nodes;
using static Federation.Simulation.Tests.SimulationRun;

namespace Federation.Simulation.Tests;

public sealed class SimulatorTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string Out(string name) => Path.Combine(_directory.Path, name);

    private static JsonObject Json(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    [Theory]
    [InlineData("m5-byzantine", "7")]
    [InlineData("m5-crash", "3")] // two coordinator crashes and recoveries from the stores
    public void The_same_scenario_and_seed_give_byte_identical_output_directories(string scenario, string seed)
    {
        Assert.Equal(0, Fed("simulate", "--scenario", ScenarioPath(scenario), "--seed", seed, "--out", Out("a")).Exit);
        Assert.Equal(0, Fed("simulate", "--scenario", ScenarioPath(scenario), "--seed", seed, "--out", Out("b")).Exit);

        var files = Files(Out("a"));
        Assert.Equal(files, Files(Out("b")));
        Assert.Contains(Path.Combine("mec", "M5", "federated_plan.json"), files);
        Assert.Contains(Path.Combine("merkle", "meta_M5.merk"), files);
        Assert.Contains(Path.Combine("receipts", "m5.updates", "m5.updates.jsonl"), files);
        foreach (var file in files)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(Out("a"), file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(Out("b"), file))), $"{file} differs between two runs of {scenario} seed {seed}");
        }
    }

    [Fact]
    public void Different_seeds_give_different_keys_and_plans()
    {
        Fed("simulate", "--scenario", ScenarioPath("m5-baseline"), "--seed", "1", "--out", Out("a"));
        Fed("simulate", "--scenario", ScenarioPath("m5-baseline"), "--seed", "2", "--out", Out("b"));
        var a = Json(Path.Combine(Out("a"), "mec", "M5", "federated_plan.json"));
        var b = Json(Path.Combine(Out("b"), "mec", "M5", "federated_plan.json"));
        Assert.NotEqual(a["plan_key"]!.GetValue<string>(), b["plan_key"]!.GetValue<string>());
        Assert.NotEqual(a["nodes"]![0]!["fingerprint"]!.GetValue<string>(), b["nodes"]![0]!["fingerprint"]!.GetValue<string>());
        Assert.NotEqual(a["epochs"]![0]!["alignment_hash"]!.GetValue<string>(), b["epochs"]![0]!["alignment_hash"]!.GetValue<string>());
    }

    [Fact]
    public void The_baseline_passes_every_invariant_and_the_M5_compliance_validator()
    {
        var run = Fed("simulate", "--scenario", ScenarioPath("m5-baseline"), "--seed", "3", "--out", Out("a"));
        Assert.True(run.Exit == 0, run.Out + run.Err);
        var report = Json(Path.Combine(Out("a"), FederationSimulator.ReportFileName));
        Assert.All(report["invariants"]!.AsArray(), i => Assert.True(i!["pass"]!.GetValue<bool>(), i.ToJsonString()));
        Assert.Equal(["agreement", "validity", "detection", "liveness", "nothing_lost"], report["invariants"]!.AsArray().Select(i => i!["name"]!.GetValue<string>()));

        var plan = Json(Path.Combine(Out("a"), "mec", "M5", "federated_plan.json"));
        Assert.True(plan["consensus_passed"]!.GetValue<bool>());
        Assert.All(plan["epochs"]!.AsArray(), e => Assert.Equal(8, e!["alignment_proofs"]!.AsArray().Count));

        var verify = Fed("verify", "--phase", "M5", "--artifacts", Out("a"));
        Assert.True(verify.Exit == 0, verify.Out + verify.Err);
        Assert.Contains("M5 compliant", verify.Out);
    }

    [Fact]
    public void The_byzantine_scenario_quarantines_exactly_the_nodes_with_evidence_or_divergence_and_flags_the_byzantine_validators()
    {
        var run = Fed("simulate", "--scenario", ScenarioPath("m5-byzantine"), "--seed", "1", "--out", Out("a"));
        Assert.True(run.Exit == 0, run.Out + run.Err);
        var plan = Json(Path.Combine(Out("a"), "mec", "M5", "federated_plan.json"));
        var report = Json(Path.Combine(Out("a"), FederationSimulator.ReportFileName));
        string Fingerprint(int index) => plan["nodes"]![index]!["fingerprint"]!.GetValue<string>();

        // Node 7 lied about its ledger head, 8 diverged two epochs running, 9 equivocated; 10 and 11 sent only refusable messages.
        var quarantined = plan["quarantines"]!.AsArray().Select(q => q!["node"]!.GetValue<string>()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { 7, 8, 9 }.Select(Fingerprint).Order(StringComparer.Ordinal), quarantined);
        Assert.All(plan["quarantines"]!.AsArray(), q => Assert.StartsWith("m5.governance:", q!["evidence_receipt"]!.GetValue<string>()));
        Assert.Equal(["v0", "v5"], plan["validator_flags"]!.AsArray().Select(f => f!["validator"]!.GetValue<string>()).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(["v0", "v5"], report["faults"]!["byzantine_validators"]!.AsArray().Select(v => v!["validator"]!.GetValue<string>()));
        Assert.Contains("bad_signature", report["submissions"]!["refused"]!.AsObject().Select(r => r.Key));
        Assert.Equal(0, Fed("verify", "--phase", "M5", "--artifacts", Out("a")).Exit);
    }

    [Fact]
    public void The_compliance_validator_writes_nothing_and_reports_a_deleted_or_forged_ROOT_instead_of_regenerating_it()
    {
        Assert.Equal(0, Fed("simulate", "--scenario", ScenarioPath("m5-baseline"), "--seed", "1", "--out", Out("a")).Exit);
        var before = TreeSnapshot.Of(Out("a"));
        Assert.Equal(0, Fed("verify", "--phase", "M5", "--artifacts", Out("a")).Exit);
        Assert.Empty(TreeSnapshot.Of(Out("a")).DifferencesFrom(before));

        var root = Path.Combine(Out("a"), "ROOT.m5.updates.txt");
        var note = File.ReadAllText(root);
        File.Delete(root);
        before = TreeSnapshot.Of(Out("a"));
        var missing = Fed("verify", "--phase", "M5", "--artifacts", Out("a"));
        Assert.Equal(1, missing.Exit);
        Assert.Contains("ROOT.m5.updates.txt is missing", missing.Err);
        Assert.Empty(TreeSnapshot.Of(Out("a")).DifferencesFrom(before));

        File.WriteAllText(root, note.Replace("m5.updates", "m5.membership", StringComparison.Ordinal));
        var forged = Fed("verify", "--phase", "M5", "--artifacts", Out("a"));
        Assert.Equal(1, forged.Exit);
        Assert.Contains("ROOT.m5.updates.txt is not a checkpoint of this scroll's history", forged.Err);
    }

    [Fact]
    public void Tampering_with_the_plan_makes_the_compliance_validator_fail_naming_it()
    {
        Fed("simulate", "--scenario", ScenarioPath("m5-baseline"), "--seed", "1", "--out", Out("a"));
        var path = Path.Combine(Out("a"), "mec", "M5", "federated_plan.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"consensus_passed\":true", "\"consensus_passed\":false", StringComparison.Ordinal));

        var verify = Fed("verify", "--phase", "M5", "--artifacts", Out("a"));
        Assert.Equal(1, verify.Exit);
        Assert.Contains("federated_plan.json: signature does not verify", verify.Err);
        Assert.Contains("consensus_passed is not true", verify.Err);
    }

    [Fact]
    public void Tampering_with_a_receipt_makes_the_compliance_validator_fail_naming_the_scroll()
    {
        Fed("simulate", "--scenario", ScenarioPath("m5-baseline"), "--seed", "1", "--out", Out("a"));
        var path = Path.Combine(Out("a"), "receipts", "m5.updates", "m5.updates.jsonl");
        var lines = File.ReadAllLines(path);
        lines[2] = lines[2].Replace("\"federated_epoch\":1", "\"federated_epoch\":2", StringComparison.Ordinal);
        File.WriteAllText(path, string.Join('\n', lines) + "\n");

        var verify = Fed("verify", "--phase", "M5", "--artifacts", Out("a"));
        Assert.Equal(1, verify.Exit);
        Assert.Contains("m5.updates.jsonl", verify.Err);
    }

    [Fact]
    public void An_unsigned_plan_fails_the_compliance_validator_and_one_that_is_not_JSON_is_unusable()
    {
        Fed("simulate", "--scenario", ScenarioPath("m5-baseline"), "--seed", "1", "--out", Out("a"));
        var path = Path.Combine(Out("a"), "mec", "M5", "federated_plan.json");
        var plan = Json(path);
        plan.Remove("signature");
        File.WriteAllText(path, plan.ToJsonString());
        var unsigned = Fed("verify", "--phase", "M5", "--artifacts", Out("a"));
        Assert.Equal(1, unsigned.Exit);
        Assert.Contains("federated_plan.json: not signed", unsigned.Err);

        File.WriteAllText(path, "{ not json");
        Assert.Equal(2, Fed("verify", "--phase", "M5", "--artifacts", Out("a")).Exit);
    }

    [Fact]
    public void The_compliance_validator_refuses_a_missing_directory_as_unusable_input()
    {
        Assert.Equal(2, Fed("verify", "--phase", "M5", "--artifacts", Out("nothing-here")).Exit);
        Assert.Equal(2, Fed("verify", "--phase", "M9", "--artifacts", Out("nothing-here")).Exit);
    }

    [Fact]
    public void A_seed_sweep_runs_every_seed_and_reports_none_violated()
    {
        var sweep = Fed("simulate", "--scenario", ScenarioPath("m5-partition"), "--seeds", "1..3", "--out", Out("sweep"));
        Assert.True(sweep.Exit == 0, sweep.Out + sweep.Err);
        Assert.Contains("3 seed(s), 0 violated an invariant", sweep.Out);
    }

    [Fact]
    public void A_scenario_with_an_unknown_member_or_impossible_validator_count_is_unusable_input()
    {
        File.WriteAllText(Out("bad.json"), """{"name":"x","federation":"m5","nodes":4,"validators":4,"epochs":1,"nodez":3}""");
        Assert.Equal(2, Fed("simulate", "--scenario", Out("bad.json"), "--out", Out("a")).Exit);
        File.WriteAllText(Out("bad.json"), """{"name":"x","federation":"m5","nodes":4,"validators":5,"epochs":1}""");
        var run = Fed("simulate", "--scenario", Out("bad.json"), "--out", Out("a"));
        Assert.Equal(2, run.Exit);
        Assert.Contains("3f + 1", run.Err);
    }

    [Fact]
    public void The_committed_baseline_artifacts_are_regenerated_byte_for_byte()
    {
        Assert.Equal(0, Fed("simulate", "--scenario", ScenarioPath("m5-baseline"), "--seed", "1", "--out", Out("a")).Exit);
        var committed = Path.Combine(RepositoryRoot, "artifacts");
        foreach (var file in Files(Out("a")))
        {
            var original = Path.Combine(committed, file);
            Assert.True(File.Exists(original), $"artifacts/{file} is not committed (run: fed simulate --scenario simulations/m5-baseline.json --seed 1)");
            Assert.True(File.ReadAllBytes(original).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(Out("a"), file))), $"artifacts/{file} differs from a fresh run of m5-baseline seed 1");
        }
    }

    [Fact]
    public void A_coordinator_crashing_mid_epoch_recovers_from_storage_and_loses_no_acknowledged_update()
    {
        var run = Fed("simulate", "--scenario", ScenarioPath("m5-crash"), "--seed", "2", "--out", Out("a"));
        Assert.True(run.Exit == 0, run.Out + run.Err);
        Assert.Contains("coordinator crashed", run.Out);
        var report = Json(Path.Combine(Out("a"), FederationSimulator.ReportFileName));
        Assert.Equal(2, report["faults"]!["coordinator_crashes"]!.AsArray().Count);
        Assert.Equal(0, Fed("verify", "--phase", "M5", "--artifacts", Out("a")).Exit);
    }

    [Fact]
    public void More_than_f_silent_validators_halt_the_federation_safely_and_the_compliance_validator_says_consensus_failed()
    {
        File.WriteAllText(Out("dead.json"), """
            {"name":"dead","federation":"m5","nodes":5,"validators":4,"epochs":2,
             "validator_faults":[{"validator":0,"behaviour":"silent"},{"validator":1,"behaviour":"silent"}]}
            """);
        var run = Fed("simulate", "--scenario", Out("dead.json"), "--seed", "1", "--out", Out("a"));
        Assert.True(run.Exit == 0, run.Out + run.Err); // safety holds; liveness is not owed beyond f faults
        Assert.Contains("liveness not required", run.Out);

        var plan = Json(Path.Combine(Out("a"), "mec", "M5", "federated_plan.json"));
        Assert.False(plan["consensus_passed"]!.GetValue<bool>());
        Assert.Equal("failed", plan["epochs"]![0]!["state"]!.GetValue<string>());
        var verify = Fed("verify", "--phase", "M5", "--artifacts", Out("a"));
        Assert.Equal(1, verify.Exit);
        Assert.Contains("consensus_passed is not true", verify.Err);
        Assert.Contains("plan epoch 1: not committed", verify.Err);
    }
}

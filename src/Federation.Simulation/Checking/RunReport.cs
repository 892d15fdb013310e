using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Hashing;
using Federation.Core.Membership;
using Federation.Storage.Ledger;

namespace Federation.Simulation.Checking;

/// <summary>
/// The artifacts' JSON built from a run's <see cref="RunRecord"/> and its sealed scrolls: the federated plan of SPEC A
/// (unsigned: <see cref="FederatedPlan"/> signs it) and the run's report (<c>sim-report.json</c>).
/// </summary>
public static class RunReport
{
    public const string ReportFormat = "fed-sim-report/v1";

    /// <summary>The plan: participating nodes, validators, every epoch with its decision, alignment proofs and commit certificate, quarantines, flags and the final checkpoints.</summary>
    public static async Task<JsonObject> PlanAsync(RunRecord record, RunLedgers ledgers)
    {
        var epochs = new JsonArray();
        foreach (var report in record.Epochs)
        {
            epochs.Add(EpochJson(report, ledgers));
        }

        var quarantines = new JsonArray();
        foreach (var node in record.Nodes.Where(n => n.Status == NodeStatus.Quarantined))
        {
            quarantines.Add(new JsonObject
            {
                ["node"] = node.Fingerprint.ToString(),
                ["epoch"] = node.QuarantinedAt,
                ["reason"] = node.StatusReason,
                ["evidence_receipt"] = node.QuarantineEvidence,
            });
        }

        var flags = new JsonArray(ledgers.ValidatorFlags(record).Select(f => (JsonNode?)new JsonObject { ["validator"] = f.Validator, ["evidence_receipt"] = f.Receipt }).ToArray());
        var checkpoints = new JsonArray();
        foreach (var scroll in RunLedgers.ScrollsOf(record.Federation))
        {
            var ledger = await ledgers.Directory.GetAsync(scroll);
            checkpoints.Add(new JsonObject
            {
                ["scroll"] = scroll,
                ["size"] = ledger.LatestCheckpoint?.Size ?? 0,
                ["root"] = ledger.LatestCheckpoint?.Root.ToString(),
                ["checkpoint"] = ledger.LatestCheckpointNote,
            });
        }

        var scenario = record.Scenario;
        return new JsonObject
        {
            ["format"] = FederatedPlan.Format,
            ["phase"] = "M5",
            ["federation_id"] = record.Federation,
            ["scenario"] = scenario.Name,
            ["seed"] = record.Seed,
            ["policy_hash"] = record.Policy.Hash().ToString(),
            ["governance_key"] = record.GovernanceKey.ToHex(),
            ["scroll_key"] = record.ScrollKey.ToHex(),
            ["scroll_origin_prefix"] = ledgers.Directory.Options.OriginPrefix,
            ["nodes"] = new JsonArray(record.Nodes.Select(n => (JsonNode?)new JsonObject
            {
                ["fingerprint"] = n.Fingerprint.ToString(),
                ["public_key"] = n.PublicKey.ToHex(),
                ["joined_epoch"] = n.LedgerBlockId is null ? null : scenario.JoinEpochOf(n.Index),
                ["ledger_block_id"] = n.LedgerBlockId,
                ["status"] = n.Status?.ToString().ToLowerInvariant(),
            }).ToArray()),
            ["validators"] = new JsonArray(record.Validators.Ids.Select(id => (JsonNode?)new JsonObject { ["id"] = id, ["public_key"] = record.Validators.KeyOf(id)!.ToHex() }).ToArray()),
            ["fault_tolerance"] = record.Validators.F,
            ["epochs"] = epochs,
            ["quarantines"] = quarantines,
            ["validator_flags"] = flags,
            ["consensus_passed"] = record.Epochs.Count(r => r.State == RunEpochState.Committed) == scenario.Epochs,
            ["checkpoints"] = checkpoints,
        };
    }

    /// <summary>The run's report: scenario, seed, faults injected, every epoch's outcome, submissions by outcome, virtual time and the invariants.</summary>
    public static JsonObject SimReport(RunRecord record, IReadOnlyList<InvariantResult> invariants) => new()
    {
        ["format"] = ReportFormat,
        ["scenario"] = record.Scenario.Name,
        ["seed"] = record.Seed,
        ["federation_id"] = record.Federation,
        ["faults"] = FaultsJson(record),
        ["epochs"] = new JsonArray(record.Epochs.Select(r => (JsonNode?)new JsonObject
        {
            ["epoch"] = r.Epoch,
            ["state"] = StateName(r.State),
            ["reason"] = r.Reason,
            ["view"] = r.View,
            ["included"] = r.Included,
            ["excluded"] = r.Excluded,
            ["quarantined"] = new JsonArray(r.Quarantined.Select(q => (JsonNode?)JsonValue.Create(q)).ToArray()),
        }).ToArray()),
        ["submissions"] = new JsonObject
        {
            ["total"] = record.Submissions.Count,
            ["acknowledged"] = record.Submissions.Count(a => a.Acknowledged),
            ["refused"] = new JsonObject(record.Submissions.Where(a => !a.Acknowledged).GroupBy(a => a.Code ?? "unknown").OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Count()))),
        },
        ["virtual_seconds"] = Math.Round(record.VirtualTime.TotalSeconds, 3),
        ["invariants"] = new JsonArray(invariants.Select(i => (JsonNode?)i.ToJson()).ToArray()),
    };

    public static string StateName(RunEpochState state) => state.ToString().ToLowerInvariant();

    /// <summary>One epoch of the plan, rebuilt from the sealed decision and its epoch_alignment receipts.</summary>
    private static JsonObject EpochJson(EpochRun report, RunLedgers ledgers)
    {
        var json = new JsonObject
        {
            ["epoch"] = report.Epoch,
            ["state"] = StateName(report.State),
            ["reason"] = report.Reason,
            ["view"] = report.View,
        };
        if (report.State != RunEpochState.Committed)
        {
            return json;
        }

        var decision = ledgers.GovernanceReceipt(report.CommitReceipt!);
        var proposal = decision.Body["proposal"]!.AsObject();
        var leaves = ledgers.Leaves(decision);
        var tree = RunLedgers.AlignmentTree(leaves);
        var proofs = new JsonArray();
        foreach (var leaf in leaves)
        {
            proofs.Add(new JsonObject
            {
                ["index"] = leaf.Index,
                ["seq"] = leaf.Seq,
                ["node"] = leaf.Node.ToString(),
                ["update_hash"] = leaf.UpdateHash.ToString(),
                ["leaf_hash"] = tree.LeafHash(leaf.Index).ToString(),
                ["proof"] = new JsonArray(tree.InclusionProof(leaf.Index, tree.Size).Select(p => (JsonNode?)JsonValue.Create(p.ToString())).ToArray()),
            });
        }

        json["digest"] = report.Digest!.Value.ToString();
        json["decision_receipt"] = report.CommitReceipt;
        json["base_state_hash"] = proposal["base_state_hash"]!.DeepClone();
        json["alignment_hash"] = Sha256Digest.Parse(proposal["alignment_hash"]!.GetValue<string>()).ToString();
        json["aggregate_hash"] = proposal["aggregate_hash"]!.DeepClone();
        json["new_state_hash"] = proposal["new_state_hash"]!.DeepClone();
        json["included"] = proposal["included"]!.DeepClone();
        json["excluded"] = proposal["excluded"]!.DeepClone();
        json["quarantined"] = new JsonArray(proposal["quarantined"]!.AsArray().Select(q =>
        {
            var entry = q!.DeepClone().AsObject();
            var hash = q["evidence_hash"]!.GetValue<string>();
            entry["evidence_receipt"] = ledgers.Governance.FirstOrDefault(r => r.Tags.Contains("evidence") && r.Body["evidence_hash"]?.GetValue<string>() == hash)?.Id;
            return (JsonNode?)entry;
        }).ToArray());
        json["aggregate"] = decision.Body["aggregate"]!.DeepClone();
        json["proposal_digest"] = Sha256Digest.Of(CanonicalJson.Write(proposal)).ToString();
        json["commit_certificate"] = decision.Body["commit_certificate"]!.DeepClone();
        json["alignment_proofs"] = proofs;
        json["validator_flags"] = new JsonArray(report.ValidatorEvidence.Select(e => (JsonNode?)JsonValue.Create(e)).ToArray());
        return json;
    }

    private static JsonObject FaultsJson(RunRecord record) => new()
    {
        ["byzantine_nodes"] = new JsonArray(record.Scenario.NodeFaultList.Select(f => (JsonNode?)new JsonObject
        {
            ["node"] = record.Nodes[f.Node].Fingerprint.ToString(),
            ["index"] = f.Node,
            ["kind"] = Snake(f.Kind.ToString()),
            ["epochs"] = new JsonArray(f.Epochs.Select(e => (JsonNode?)e).ToArray()),
        }).ToArray()),
        ["byzantine_validators"] = new JsonArray(record.Scenario.ValidatorFaultList.Select(f => (JsonNode?)new JsonObject
        {
            ["validator"] = RunRecord.ValidatorId(f.Validator),
            ["behaviour"] = Snake(f.Behaviour.ToString()),
            ["epochs"] = "all",
        }).ToArray()),
        ["network"] = new JsonArray(record.NetworkEvents.Select(e => (JsonNode?)new JsonObject
        {
            ["kind"] = e.Kind,
            ["node"] = record.Nodes[e.Node].Fingerprint.ToString(),
            ["epoch"] = e.Epoch,
            ["message"] = e.Message,
        }).ToArray()),
        ["coordinator_crashes"] = new JsonArray(record.Crashes.Select(c => (JsonNode?)new JsonObject { ["epoch"] = c.Epoch, ["after_submissions"] = c.AfterSubmissions }).ToArray()),
    };

    private static string Snake(string name) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
}

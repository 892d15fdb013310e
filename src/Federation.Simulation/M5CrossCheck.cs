using System.Globalization;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Scrolls;
using Federation.Core.Signing;

namespace Federation.Simulation;

/// <summary>
/// The plan and the governance log say what the receipts say (issue 20): every epoch decision, included and excluded set,
/// aggregate and commit certificate in the plan is the one its <c>epoch_committed</c> receipt sealed; every alignment
/// proof names the update receipt it aligns; every quarantine and validator flag cites evidence of that node or
/// validator; every node's status is what the governance scroll's receipts leave it in; every FederationAccept of the
/// membership scroll verifies with the governance key; and every entry of <c>META-GOVERNANCE-LOG.md</c> is, field by
/// field, the entry its receipt makes (<see cref="GovernanceLogEntries"/>, the one wording the coordinator writes).
/// Runs on receipts of scrolls that verified.
/// </summary>
internal static class M5CrossCheck
{
    private static readonly string[] EvidenceTypes = [EquivocationEvidence.Type, DivergenceEvidence.Type, LedgerDivergenceEvidence.Type];

    public static void Run(JsonObject plan, IReadOnlyDictionary<string, IReadOnlyList<Receipt>> scrolls, IReadOnlyList<GovernanceLogEntry> logEntries,
        Ed25519PublicKey governanceKey, int validatorCount, List<string> failures, List<string> checkedItems)
    {
        var federation = plan["federation_id"]!.GetValue<string>();
        var governance = federation + ".governance";
        var updates = federation + ".updates";
        var membership = federation + ".membership";
        foreach (var scroll in new[] { governance, updates, membership })
        {
            if (!scrolls.ContainsKey(scroll))
            {
                failures.Add($"plan: not cross-checked against scroll {scroll}: it is missing or does not verify");
                return;
            }
        }

        var check = new Checker(scrolls, failures);
        CheckEpochs(plan, check, governance, updates);
        CheckMembers(plan, check, governance, membership, federation, governanceKey);
        CheckValidatorFlags(plan, check, governance);
        CheckLog(logEntries, check, federation, validatorCount);
        checkedItems.Add($"plan cross-checked against the scrolls: epochs, alignment, quarantines, node statuses, validator flags; {logEntries.Count} governance log entries field by field");
    }

    private static void CheckEpochs(JsonObject plan, Checker check, string governance, string updates)
    {
        foreach (var node in plan["epochs"]!.AsArray())
        {
            var epoch = node!.AsObject();
            if (epoch["state"]!.GetValue<string>() != "committed")
            {
                continue;
            }

            var number = Integer(epoch["epoch"]);
            var where = $"plan epoch {number}";
            var decision = check.Find(epoch["decision_receipt"]!.GetValue<string>(), EpochReceipts.CommittedType, where);
            if (decision is null)
            {
                continue;
            }

            var body = decision.Body;
            check.Equal(Integer(body["epoch"]), number, where, "epoch", decision);
            check.Equal(body["digest"]!.GetValue<string>(), epoch["digest"]!.GetValue<string>(), where, "digest", decision);
            check.Equal(Integer(body["view"]), Integer(epoch["view"]), where, "view", decision);
            var sealedProposal = body["proposal"]!.AsObject();
            foreach (var member in new[] { "base_state_hash", "alignment_hash", "included", "excluded", "quarantined", "aggregate_hash", "new_state_hash" })
            {
                var stated = epoch[member];
                if (member == "quarantined")
                {
                    // The plan adds the evidence receipt to each entry; the sealed proposal has node, reason and evidence hash.
                    stated = new JsonArray(epoch[member]!.AsArray().Select(q => (JsonNode?)new JsonObject
                    {
                        ["node"] = q!["node"]!.DeepClone(),
                        ["reason"] = q["reason"]!.DeepClone(),
                        ["evidence_hash"] = q["evidence_hash"]!.DeepClone(),
                    }).ToArray());
                }

                check.SameJson(stated, sealedProposal[member], where, member, decision);
            }

            check.SameJson(epoch["commit_certificate"], body["commit_certificate"], where, "commit_certificate", decision);
            check.SameJson(epoch["aggregate"], body["aggregate"], where, "aggregate", decision);

            var aligned = new List<(long Index, long Seq, string Node, string UpdateHash)>();
            foreach (var id in body["alignment_receipts"]!.AsArray().Select(a => a!.GetValue<string>()))
            {
                if (check.Find(id, EpochReceipts.AlignmentType, where) is { } alignment)
                {
                    aligned.AddRange(alignment.Body["updates"]!.AsArray().Select(u => (Integer(u!["index"]), Integer(u["seq"]), u["node"]!.GetValue<string>(), u["update_hash"]!.GetValue<string>())));
                }
            }

            var proofs = epoch["alignment_proofs"]!.AsArray().Select(p => (Integer(p!["index"]), Integer(p["seq"]), p["node"]!.GetValue<string>(), p["update_hash"]!.GetValue<string>())).ToList();
            if (!proofs.SequenceEqual(aligned))
            {
                check.Fail($"{where}: its alignment proofs are not the updates its alignment receipts ({string.Join(", ", body["alignment_receipts"]!.AsArray())}) sealed");
            }

            foreach (var (_, seq, proofNode, updateHash) in proofs)
            {
                var update = check.Find(Receipt.FormatId(updates, seq), UpdateReceipts.AcceptedType, where);
                if (update is not null)
                {
                    check.Equal(update.Node, proofNode, where, $"node of aligned update seq {seq}", update);
                    check.Equal(update.Body["update_hash"]?.GetValue<string>(), updateHash, where, $"update_hash of aligned update seq {seq}", update);
                    check.Equal(Integer(update.Body["federated_epoch"]), number, where, $"federated_epoch of aligned update seq {seq}", update);
                }
            }

            foreach (var q in epoch["quarantined"]!.AsArray())
            {
                if (q!["evidence_receipt"]?.GetValue<string>() is { } id && check.Find(id, EvidenceTypes, where) is { } evidence)
                {
                    check.Equal(evidence.Node, q["node"]!.GetValue<string>(), where, "quarantined node", evidence);
                    check.Equal(evidence.Body["evidence_hash"]?.GetValue<string>(), q["evidence_hash"]!.GetValue<string>(), where, "evidence_hash", evidence);
                }
            }
        }
    }

    /// <summary>Node statuses as the governance receipts leave them, membership from the session receipts, accepts by the governance key.</summary>
    private static void CheckMembers(JsonObject plan, Checker check, string governance, string membership, string federation, Ed25519PublicKey governanceKey)
    {
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var session in check.Receipts(membership).Where(r => r.Type == MembershipReceipts.SessionRecordedType))
        {
            expected[session.Node!] = "active";
            try
            {
                var accept = SignedEnvelope.Parse(CanonicalJson.Write(session.Body["accept"]));
                var verdict = accept.Verify(Ed25519Verifier.Trusting(governanceKey));
                if (!verdict.IsValid)
                {
                    check.Fail($"{session.Id}: the FederationAccept does not verify with the governance key {governanceKey.Fingerprint.Short}: {verdict.Detail}");
                }

                if (accept.Payload["federation_id"]?.GetValue<string>() != federation || accept.Payload["node_fingerprint"]?.GetValue<string>() != session.Node)
                {
                    check.Fail($"{session.Id}: the FederationAccept is not for node {session.Node} of federation {federation}");
                }
            }
            catch (Exception ex) when (ex is FormatException or CanonicalJsonException or System.Text.Json.JsonException or InvalidOperationException)
            {
                check.Fail($"{session.Id}: no readable FederationAccept: {ex.Message}");
            }
        }

        var quarantinedBy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var receipt in check.Receipts(governance))
        {
            if (EvidenceTypes.Contains(receipt.Type) && receipt.Node is { } node)
            {
                expected[node] = "quarantined";
                quarantinedBy.TryAdd(node, receipt.Id);
            }
            else if (receipt.Type == ReviewVerdict.Type && receipt.Node is { } reviewed && receipt.Body["effect"]?.GetValue<string>() is { } effect)
            {
                expected[reviewed] = effect;
            }
            else if (receipt.Type == EvidenceReceipts.RevokedType && receipt.Node is { } revoked)
            {
                expected[revoked] = "revoked";
            }
        }

        var planned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in plan["nodes"]!.AsArray())
        {
            var node = entry!["fingerprint"]!.GetValue<string>();
            planned.Add(node);
            if (entry["ledger_block_id"] is null && !expected.ContainsKey(node))
            {
                continue; // registered, never joined: no session, no standing to compare
            }

            var status = entry["status"]?.GetValue<string>() ?? "pending";
            if (!expected.TryGetValue(node, out var sealedStatus))
            {
                check.Fail($"plan node {node}: no session_recorded receipt in {membership}");
                continue;
            }

            if (status != sealedStatus)
            {
                check.Fail($"plan node {node}: status is {status}, the receipts leave it {sealedStatus}" + (quarantinedBy.TryGetValue(node, out var by) ? $" (evidence {by})" : string.Empty));
            }

            if (entry["ledger_block_id"]?.GetValue<string>() is { } block && check.Find(block, MembershipReceipts.SessionRecordedType, $"plan node {node}") is { } session && session.Node != node)
            {
                check.Fail($"plan node {node}: its ledger_block_id {block} records node {session.Node}");
            }
        }

        foreach (var missing in expected.Keys.Where(n => !planned.Contains(n)))
        {
            check.Fail($"plan: node {missing} has a session in {membership} but is not in the plan's nodes");
        }

        var quarantines = plan["quarantines"]!.AsArray().Select(q => (q!["node"]!.GetValue<string>(), q["evidence_receipt"]!.GetValue<string>())).ToHashSet();
        foreach (var (node, receipt) in quarantines)
        {
            if (check.Find(receipt, EvidenceTypes, "plan quarantines") is { } evidence && evidence.Node != node)
            {
                check.Fail($"plan quarantines: {receipt} is evidence about node {evidence.Node}, not {node}");
            }
        }

        foreach (var (node, receipt) in quarantinedBy.Where(q => !quarantines.Any(p => p.Item1 == q.Key)))
        {
            check.Fail($"plan quarantines: node {node} is not listed, though {receipt} is evidence against it");
        }
    }

    private static void CheckValidatorFlags(JsonObject plan, Checker check, string governance)
    {
        var planned = plan["validator_flags"]!.AsArray().Select(f => (f!["validator"]!.GetValue<string>(), f["evidence_receipt"]!.GetValue<string>())).ToHashSet();
        var sealedFlags = check.Receipts(governance).Where(r => r.Type == VoteEquivocation.Type).Select(r => (r.Body["validator"]!.GetValue<string>(), r.Id)).ToHashSet();
        foreach (var (validator, receipt) in planned.Except(sealedFlags))
        {
            check.Fail($"plan validator_flags: {validator} flagged by {receipt}, which is not vote equivocation evidence against it");
        }

        foreach (var (validator, receipt) in sealedFlags.Except(planned))
        {
            check.Fail($"plan validator_flags: {receipt} is evidence against validator {validator}, but the plan does not flag it");
        }
    }

    /// <summary>Each entry against the entry its receipt makes; the "review" line of a quarantine reflects the node's standing when it was written.</summary>
    private static void CheckLog(IReadOnlyList<GovernanceLogEntry> entries, Checker check, string federation, int validatorCount)
    {
        const string Where = "META-GOVERNANCE-LOG.md";
        foreach (var entry in entries)
        {
            var label = $"{Where}: {entry.Action} {entry.Receipt}";
            if (entry.FederationId != federation)
            {
                check.Fail($"{label}: federation is {entry.FederationId}, the plan's is {federation}");
            }

            GovernanceLogEntry? made = null;
            try
            {
                made = entry.Action switch
                {
                    GovernanceLogEntries.Apply when check.Find(entry.Receipt, EpochReceipts.CommittedType, label) is { } decision => GovernanceLogEntries.EpochApplied(
                        federation, EpochProposal.FromJson(decision.Body["proposal"]!.AsObject()), Sha256Digest.Parse(decision.Body["digest"]!.GetValue<string>()), decision.Id,
                        decision.Body["commit_certificate"]!.AsArray().Count, Integer(decision.Body["view"])),
                    GovernanceLogEntries.Quarantine when check.Find(entry.Receipt, EvidenceTypes, label) is { } evidence => QuarantineEntryOf(entry, evidence, check, federation, label),
                    GovernanceLogEntries.ValidatorFlagged when check.Find(entry.Receipt, VoteEquivocation.Type, label) is { } flag =>
                        GovernanceLogEntries.ValidatorFlag(federation, flag.Body["validator"]!.GetValue<string>(), flag.Id, validatorCount),
                    GovernanceLogEntries.ReviewApproved or GovernanceLogEntries.ReviewRejected when ReviewEntryOf(entry, check, label) is { } review => review.Action == entry.Action
                        ? review
                        : throw new FormatException($"the action is {entry.Action} but its verdict receipt says {review.Action}"),
                    GovernanceLogEntries.NodeRevoked when check.Find(entry.Receipt, EvidenceReceipts.RevokedType, label) is { } revocation =>
                        GovernanceLogEntries.Revocation(federation, KeyFingerprint.Parse(revocation.Node!), revocation.Id, revocation.Body["reason"]!.GetValue<string>(), revocation.Body["revoked_by"]!.GetValue<string>()),
                    GovernanceLogEntries.Apply or GovernanceLogEntries.Quarantine or GovernanceLogEntries.ValidatorFlagged or GovernanceLogEntries.NodeRevoked
                        or GovernanceLogEntries.ReviewApproved or GovernanceLogEntries.ReviewRejected => null,
                    _ => throw new FormatException($"unknown action {entry.Action}"),
                };
            }
            catch (Exception ex) when (ex is FormatException or NullReferenceException or InvalidOperationException or KeyNotFoundException)
            {
                check.Fail($"{label}: {ex.Message}");
            }

            if (made is null)
            {
                continue;
            }

            if (GovernanceLogEntries.OneLine(made.Title) != entry.Title)
            {
                check.Fail($"{label}: the title is \"{entry.Title}\", its receipt makes \"{made.Title}\"");
            }

            var written = entry.Details.ToDictionary(d => d.Key, d => d.Value, StringComparer.Ordinal);
            foreach (var (key, value) in made.Details)
            {
                if (!written.Remove(key, out var actual))
                {
                    check.Fail($"{label}: the \"{key}\" line is missing (its receipt says {value})");
                }
                else if (key == "review" && entry.Action == GovernanceLogEntries.Quarantine)
                {
                    if (actual != GovernanceLogEntries.ReviewPending && !actual.StartsWith("already decided: the node is ", StringComparison.Ordinal))
                    {
                        check.Fail($"{label}: \"review\" is \"{actual}\", neither pending nor already decided");
                    }
                }
                else if (actual != GovernanceLogEntries.OneLine(value))
                {
                    check.Fail($"{label}: \"{key}\" is {actual}, its receipt says {value}");
                }
            }

            foreach (var extra in written.Keys)
            {
                check.Fail($"{label}: the \"{extra}\" line is not one its receipt makes");
            }
        }
    }

    private static GovernanceLogEntry QuarantineEntryOf(GovernanceLogEntry entry, Receipt evidence, Checker check, string federation, string label)
    {
        var node = KeyFingerprint.Parse(evidence.Node ?? throw new FormatException($"evidence {evidence.Id} names no node"));
        if (evidence.Type == LedgerDivergenceEvidence.Type)
        {
            return GovernanceLogEntries.LedgerDivergenceQuarantine(federation, node, evidence.Id, Sha256Digest.Parse(evidence.Body["evidence_hash"]!.GetValue<string>()),
                evidence.Body["scroll"]!.GetValue<string>(), Integer(evidence.Body["size"]));
        }

        var decidedIn = entry.Details.FirstOrDefault(d => d.Key == "decided in").Value ?? throw new FormatException("no \"decided in\" line names the epoch decision");
        var decision = check.Find(decidedIn, EpochReceipts.CommittedType, label) ?? throw new FormatException($"\"decided in\" {decidedIn} is not an epoch decision");
        var proposal = EpochProposal.FromJson(decision.Body["proposal"]!.AsObject());
        var quarantined = proposal.Quarantined.FirstOrDefault(q => q.Node == node)
            ?? throw new FormatException($"the decision {decidedIn} does not quarantine node {node}");
        return GovernanceLogEntries.EpochQuarantine(federation, quarantined, proposal.Epoch, evidence.Id, decision.Id, NodeStatus.Quarantined);
    }

    /// <summary>A review entry as its <c>review_verdict</c> receipt makes it (the reason is the signed verdict's).</summary>
    private static GovernanceLogEntry? ReviewEntryOf(GovernanceLogEntry entry, Checker check, string label)
    {
        if (check.Find(entry.Receipt, ReviewVerdict.Type, label) is not { } verdict)
        {
            return null;
        }

        var body = verdict.Body;
        return GovernanceLogEntries.ReviewDecided(entry.FederationId, verdict.Node ?? string.Empty, body["case"]!.GetValue<string>(), body["verdict"]!.GetValue<string>() == "approve",
            body["reviewer"]!.GetValue<string>(), body["evidence_type"]!.GetValue<string>(), body["signed_verdict"]!["reason"]!.GetValue<string>(), verdict.Id);
    }

    private static long Integer(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<double>(out var d) && d == Math.Floor(d) ? (long)d : throw new FormatException($"expected an integer, got {node?.ToJsonString() ?? "nothing"}");

    /// <summary>Finds receipts by id and words the failures.</summary>
    private sealed class Checker(IReadOnlyDictionary<string, IReadOnlyList<Receipt>> scrolls, List<string> failures)
    {
        public IReadOnlyList<Receipt> Receipts(string scroll) => scrolls.TryGetValue(scroll, out var receipts) ? receipts : [];

        public void Fail(string failure) => failures.Add(failure);

        public Receipt? Find(string id, string type, string where) => Find(id, [type], where);

        /// <summary>The receipt <paramref name="id"/> (<c>scroll:seq</c>) if it exists and is of one of <paramref name="types"/>; otherwise a failure and null.</summary>
        public Receipt? Find(string id, string[] types, string where)
        {
            var colon = id.LastIndexOf(':');
            if (colon <= 0 || !long.TryParse(id.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            {
                Fail($"{where}: \"{id}\" is not a receipt id (scroll:seq)");
                return null;
            }

            var receipts = Receipts(id[..colon]);
            if (seq >= receipts.Count)
            {
                Fail($"{where}: cites {id}, which is not in the scrolls");
                return null;
            }

            var receipt = receipts[(int)seq];
            if (!types.Contains(receipt.Type))
            {
                Fail($"{where}: cites {id}, a {receipt.Type} receipt, not {string.Join(" or ", types)}");
                return null;
            }

            return receipt;
        }

        public void Equal<T>(T sealedValue, T stated, string where, string member, Receipt receipt)
        {
            if (!EqualityComparer<T>.Default.Equals(sealedValue, stated))
            {
                Fail($"{where}: {member} is {stated}, its receipt {receipt.Id} says {sealedValue}");
            }
        }

        public void SameJson(JsonNode? stated, JsonNode? sealedValue, string where, string member, Receipt receipt)
        {
            if (!CanonicalJson.Write(stated).AsSpan().SequenceEqual(CanonicalJson.Write(sealedValue)))
            {
                Fail($"{where}: {member} is not what its receipt {receipt.Id} sealed");
            }
        }
    }
}

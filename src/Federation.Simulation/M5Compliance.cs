using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Checkpoints;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Storage.Files;
using Federation.Storage.Governance;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;

namespace Federation.Simulation;

/// <summary>The verdict of <see cref="M5Compliance.VerifyAsync"/>: every failure found, and what was checked.</summary>
public sealed record ComplianceReport(IReadOnlyList<string> Failures, IReadOnlyList<string> Checked)
{
    public bool Passed => Failures.Count == 0;

    /// <summary>What the reader must know about the verdict (e.g. which keys were taken from the folder itself).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>A directory that cannot be checked at all (missing, or a plan that is not JSON): exit 2, not a verdict.</summary>
public sealed class UnusableArtifactsException(string message) : IOException(message);

/// <summary>
/// The compliance validator's <c>--phase M5</c> mode (SPEC A), offline over an artifacts directory: the signed
/// plan, consensus, every commit certificate and alignment proof, the governance log, and the scrolls with
/// their checkpoints and anchors. Reports every failure, each naming what it concerns.
/// </summary>
public static class M5Compliance
{
    /// <summary>
    /// A plan holds every epoch's included set and alignment proofs (about 1.5 KB per node and epoch): 1 GiB holds a
    /// federation of 100,000 nodes over several epochs, and bounds what a hostile plan can make the validator read.
    /// </summary>
    public const long DefaultMaxPlanBytes = 1024L * 1024 * 1024;

    /// <param name="trust">The keys to trust, from outside <paramref name="directory"/>; null takes them from the plan (internal consistency only).</param>
    /// <param name="maxPlanBytes">A larger plan is unusable input (<see cref="UnusableArtifactsException"/>).</param>
    public static async Task<ComplianceReport> VerifyAsync(string directory, TrustRoots? trust = null, long maxPlanBytes = DefaultMaxPlanBytes)
    {
        if (!Directory.Exists(directory))
        {
            throw new UnusableArtifactsException($"artifacts directory {directory} does not exist");
        }

        var failures = new List<string>();
        var checkedItems = new List<string>();
        var planPath = Path.Combine(directory, FederatedPlan.RelativePath);
        if (!File.Exists(planPath))
        {
            return new ComplianceReport([$"{FederatedPlan.RelativePath}: missing"], checkedItems);
        }

        SignedEnvelope envelope;
        try
        {
            envelope = SignedEnvelope.Parse(ReadPlan(planPath, maxPlanBytes));
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or CanonicalJsonException)
        {
            if (IsJsonObject(planPath))
            {
                // A readable plan whose signature block is missing or malformed fails the "signed" check.
                return new ComplianceReport([$"{FederatedPlan.RelativePath}: not signed: {ex.Message}"], checkedItems);
            }

            throw new UnusableArtifactsException($"{FederatedPlan.RelativePath} is not a JSON object: {ex.Message}");
        }

        var plan = envelope.Payload;
        Ed25519PublicKey planKey;
        try
        {
            planKey = Ed25519PublicKey.FromHex(plan["plan_key"]!.GetValue<string>());
        }
        catch (Exception ex) when (ex is FormatException or NullReferenceException or InvalidOperationException)
        {
            return new ComplianceReport([$"{FederatedPlan.RelativePath}: no usable plan_key: {ex.Message}"], checkedItems);
        }

        var keyFile = Path.Combine(directory, FederationSimulator.KeysDirectoryName, "plan.pub");
        if (File.Exists(keyFile) && KeyPem.ImportPublicKey(File.ReadAllText(keyFile)).ToHex() != planKey.ToHex())
        {
            failures.Add($"{FederatedPlan.RelativePath}: plan_key is not the key in keys/plan.pub");
        }

        var notes = new List<string>();
        Keys keys;
        try
        {
            keys = ResolveKeys(plan, planKey, trust, failures, notes);
        }
        catch (Exception ex) when (ex is FormatException or NullReferenceException or InvalidOperationException)
        {
            return new ComplianceReport([$"{FederatedPlan.RelativePath}: keys: {ex.Message}"], checkedItems);
        }

        var signature = envelope.Verify(Ed25519Verifier.Trusting(keys.Plan));
        Check(failures, signature.IsValid, $"{FederatedPlan.RelativePath}: signature does not verify: {signature.Detail}");
        checkedItems.Add("plan signature");
        Check(failures, plan["consensus_passed"]?.GetValueKind() == System.Text.Json.JsonValueKind.True, $"{FederatedPlan.RelativePath}: consensus_passed is not true");

        try
        {
            CheckEpochs(plan, keys.Validators, failures, checkedItems, out var applies, out var quarantines);
            CheckGovernanceLog(directory, applies, quarantines, failures, checkedItems);
            var receipts = await CheckScrollsAsync(directory, plan, keys.Scroll, failures, checkedItems);
            var problems = new List<string>();
            var entries = new GovernanceLog(Path.Combine(directory, GovernanceLog.FileName)).ReadEntries(problems);
            failures.AddRange(problems);
            M5CrossCheck.Run(plan, receipts, entries, keys.Governance, keys.Validators.N, failures, checkedItems);
        }
        catch (Exception ex) when (ex is NullReferenceException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            failures.Add($"{FederatedPlan.RelativePath}: malformed ({ex.GetType().Name}: {ex.Message})");
        }

        return new ComplianceReport(failures, checkedItems) { Notes = notes };
    }

    /// <summary>The keys a plan names (for pinning a run checked compliant: <c>fed verify --write-trust</c>).</summary>
    public static TrustRoots TrustOf(string directory)
    {
        var plan = SignedEnvelope.Parse(File.ReadAllBytes(Path.Combine(directory, FederatedPlan.RelativePath))).Payload;
        return new TrustRoots(
            Ed25519PublicKey.FromHex(plan["governance_key"]!.GetValue<string>()),
            Ed25519PublicKey.FromHex(plan["plan_key"]!.GetValue<string>()),
            Ed25519PublicKey.FromHex(plan["scroll_key"]!.GetValue<string>()),
            plan["validators"]!.AsArray().ToDictionary(v => v!["id"]!.GetValue<string>(), v => Ed25519PublicKey.FromHex(v!["public_key"]!.GetValue<string>()), StringComparer.Ordinal));
    }

    private sealed record Keys(Ed25519PublicKey Plan, Ed25519PublicKey Scroll, Ed25519PublicKey Governance, ValidatorSet Validators);

    /// <summary>
    /// The keys the artifacts are checked against: the trusted ones when given (a key in the plan that is not the trusted
    /// one is a failure, and the trusted one is what signatures must verify with), else the plan's own, said in a note.
    /// </summary>
    private static Keys ResolveKeys(JsonObject plan, Ed25519PublicKey planKey, TrustRoots? trust, List<string> failures, List<string> notes)
    {
        var scrollKey = Ed25519PublicKey.FromHex(plan["scroll_key"]!.GetValue<string>());
        var governanceKey = Ed25519PublicKey.FromHex(plan["governance_key"]!.GetValue<string>());
        var validators = plan["validators"]!.AsArray().Select(v => (Id: v!["id"]!.GetValue<string>(), Key: Ed25519PublicKey.FromHex(v["public_key"]!.GetValue<string>()))).ToList();
        if (trust is null)
        {
            notes.Add($"keys taken from the folder checked: plan {planKey.Fingerprint.Short} (plan_key), scroll {scrollKey.Fingerprint.Short} (scroll_key), " +
                $"governance {governanceKey.Fingerprint.Short} (governance_key), {validators.Count} validators (validators)");
            notes.Add("so this shows the artifacts agree with themselves, not who signed them: pass --trust FILE with the keys you trust (docs/formats/trust-file.md)");
            return new Keys(planKey, scrollKey, governanceKey, new ValidatorSet(validators));
        }

        void Same(Ed25519PublicKey stated, Ed25519PublicKey trusted, string member)
        {
            if (stated.ToHex() != trusted.ToHex())
            {
                failures.Add($"{FederatedPlan.RelativePath}: {member} {stated.Fingerprint.Short} is not the trusted key {trusted.Fingerprint.Short}");
            }
        }

        if (trust.Plan is null)
        {
            failures.Add("the trust file names no plan_key (a trust file for nodes): the plan's signer cannot be checked");
        }
        else
        {
            Same(planKey, trust.Plan, "plan_key");
        }

        Same(scrollKey, trust.Scroll, "scroll_key");
        Same(governanceKey, trust.Governance, "governance_key");
        foreach (var (id, key) in validators)
        {
            if (!trust.Validators.TryGetValue(id, out var trusted))
            {
                failures.Add($"{FederatedPlan.RelativePath}: validator {id} is not a trusted validator (trusted: {string.Join(", ", trust.Validators.Keys.Order(StringComparer.Ordinal))})");
            }
            else
            {
                Same(key, trusted, $"validator {id}'s public_key");
            }
        }

        foreach (var id in trust.Validators.Keys.Where(id => validators.All(v => v.Id != id)))
        {
            failures.Add($"{FederatedPlan.RelativePath}: the trusted validator {id} is not in the plan's validator set");
        }

        notes.Add("keys from the trust file: every signature must verify with them");
        return new Keys(trust.Plan ?? planKey, trust.Scroll, trust.Governance, new ValidatorSet([.. trust.Validators.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => (v.Key, v.Value))]));
    }

    private static byte[] ReadPlan(string path, long maxBytes)
    {
        try
        {
            return BoundedFile.ReadAllBytes(path, maxBytes, "--max-plan-bytes");
        }
        catch (IOException ex) when (ex is not FileNotFoundException)
        {
            throw new UnusableArtifactsException(ex.Message);
        }
    }

    private static bool IsJsonObject(string path)
    {
        try
        {
            return CanonicalJson.Parse(ReadPlan(path, DefaultMaxPlanBytes)) is JsonObject;
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or CanonicalJsonException)
        {
            return false;
        }
    }

    private static void Check(List<string> failures, bool condition, string failure)
    {
        if (!condition)
        {
            failures.Add(failure);
        }
    }

    private static void CheckEpochs(JsonObject plan, ValidatorSet validators, List<string> failures, List<string> checkedItems, out List<string> applies, out List<string> quarantines)
    {
        applies = [];
        quarantines = plan["quarantines"]!.AsArray().Select(q => q!["evidence_receipt"]!.GetValue<string>()).ToList();
        var epochs = plan["epochs"]!.AsArray();
        Check(failures, epochs.Count > 0, "plan: no epochs");
        long proofs = 0;
        foreach (var node in epochs)
        {
            var epoch = node!.AsObject();
            var number = (long)epoch["epoch"]!.GetValue<double>();
            var where = $"plan epoch {number}";
            if (epoch["state"]!.GetValue<string>() != "committed")
            {
                failures.Add($"{where}: not committed ({epoch["reason"]})");
                continue;
            }

            applies.Add(epoch["decision_receipt"]!.GetValue<string>());
            var digest = Sha256Digest.Parse(epoch["digest"]!.GetValue<string>());

            // The digest the validators signed is the proposal's: rebuild it from the plan's own fields.
            var proposal = new JsonObject
            {
                ["epoch"] = number,
                ["base_state_hash"] = epoch["base_state_hash"]!.DeepClone(),
                ["alignment_hash"] = epoch["alignment_hash"]!.DeepClone(),
                ["included"] = epoch["included"]!.DeepClone(),
                ["excluded"] = epoch["excluded"]!.DeepClone(),
                ["quarantined"] = new JsonArray(epoch["quarantined"]!.AsArray().Select(q => (JsonNode?)new JsonObject
                {
                    ["node"] = q!["node"]!.DeepClone(),
                    ["reason"] = q["reason"]!.DeepClone(),
                    ["evidence_hash"] = q["evidence_hash"]!.DeepClone(),
                }).ToArray()),
                ["aggregate_hash"] = epoch["aggregate_hash"]!.DeepClone(),
                ["new_state_hash"] = epoch["new_state_hash"]!.DeepClone(),
            };
            Check(failures, Sha256Digest.Of(CanonicalJson.Write(proposal)) == digest, $"{where}: the stated alignment, aggregate and state hashes do not hash to the certified digest {digest}");

            var certificate = epoch["commit_certificate"]!.AsArray().Select(v => SignedEnvelope.Parse(v!.ToJsonString())).ToList();
            foreach (var problem in CommitCertificate.Verify(certificate, validators, number, digest))
            {
                failures.Add($"{where}: commit certificate: {problem}");
            }

            var alignmentHash = Sha256Digest.Parse(epoch["alignment_hash"]!.GetValue<string>());
            var aligned = epoch["alignment_proofs"]!.AsArray();
            Check(failures, aligned.Count == epoch["included"]!.AsArray().Count, $"{where}: {aligned.Count} alignment proofs for {epoch["included"]!.AsArray().Count} included updates");
            foreach (var p in aligned)
            {
                var update = new AlignedUpdate(
                    (int)p!["index"]!.GetValue<double>(),
                    (long)p["seq"]!.GetValue<double>(),
                    KeyFingerprint.Parse(p["node"]!.GetValue<string>()),
                    Sha256Digest.Parse(p["update_hash"]!.GetValue<string>()),
                    Sha256Digest.Parse(p["leaf_hash"]!.GetValue<string>()),
                    p["proof"]!.AsArray().Select(h => Sha256Digest.Parse(h!.GetValue<string>())).ToList());
                var check = AlignmentResult.VerifyProof(alignmentHash, aligned.Count, update);
                Check(failures, check.IsValid, $"{where}: alignment proof of update {update.Index} (seq {update.Seq}, node {update.Node.Short}) does not verify: {check.Error}");
                proofs++;
            }

            foreach (var q in epoch["quarantined"]!.AsArray())
            {
                if (q!["evidence_receipt"]?.GetValue<string>() is { } receipt && !quarantines.Contains(receipt))
                {
                    quarantines.Add(receipt);
                }
            }
        }

        checkedItems.Add($"{epochs.Count} epoch(s): certified digests, commit certificates, {proofs} alignment proof(s)");
    }

    private static void CheckGovernanceLog(string directory, List<string> applies, List<string> quarantines, List<string> failures, List<string> checkedItems)
    {
        var path = Path.Combine(directory, GovernanceLog.FileName);
        if (!File.Exists(path))
        {
            failures.Add($"{GovernanceLog.FileName}: missing");
            return;
        }

        var entries = new GovernanceLog(path).Entries();
        foreach (var receipt in applies)
        {
            Check(failures, entries.Contains((GovernanceLog.Apply, receipt)), $"{GovernanceLog.FileName}: no {GovernanceLog.Apply} entry for decision {receipt}");
        }

        foreach (var receipt in quarantines)
        {
            Check(failures, entries.Contains((GovernanceLog.Quarantine, receipt)), $"{GovernanceLog.FileName}: no {GovernanceLog.Quarantine} entry for evidence {receipt}");
        }

        checkedItems.Add($"governance log: {applies.Count} {GovernanceLog.Apply}, {quarantines.Count} {GovernanceLog.Quarantine}");
    }

    /// <summary>Verifies every scroll the plan names; returns the receipts of those that verified, for the cross-check.</summary>
    private static async Task<IReadOnlyDictionary<string, IReadOnlyList<Receipt>>> CheckScrollsAsync(string directory, JsonObject plan, Ed25519PublicKey scrollKey, List<string> failures, List<string> checkedItems)
    {
        var verified = new Dictionary<string, IReadOnlyList<Receipt>>(StringComparer.Ordinal);
        var options = new ScrollLedgerOptions { OriginPrefix = plan["scroll_origin_prefix"]!.GetValue<string>() };
        var anchors = new AnchorFile(Path.Combine(directory, "merkle", "meta_M5.merk"));
        Check(failures, File.Exists(anchors.Path), "merkle/meta_M5.merk: missing");
        // Checking never changes what it checks: the store opens read-only (no lock, no repair, no ROOT rewrite).
        await using var store = new FileScrollStore(new ScrollStoreOptions { DataDirectory = directory, ReadOnly = true });
        var scrolls = plan["checkpoints"]!.AsArray();
        foreach (var entry in scrolls)
        {
            var scroll = entry!["scroll"]!.GetValue<string>();
            var size = (long)entry["size"]!.GetValue<double>();
            var receipts = Path.Combine("receipts", scroll, scroll + ".jsonl");
            if (!File.Exists(Path.Combine(directory, receipts)))
            {
                failures.Add($"{receipts}: missing");
                continue;
            }

            var key = NoteVerifierKey.For(options.OriginOf(scroll), scrollKey);
            var ledger = await ScrollLedger.OpenAsync(store, scroll, null, [key], TimeProvider.System, options);
            await using (ledger)
            {
                var report = await ScrollMaintenance.VerifyAsync(ledger, scroll == AnchorCycle.AnchorScroll || !File.Exists(anchors.Path) ? null : anchors);
                failures.AddRange(report.Failures.Select(f => $"{receipts}: {f}"));
                if (report.IsValid)
                {
                    var lines = new List<Receipt>((int)ledger.Size);
                    await foreach (var (_, line) in ledger.ReadAsync(0, ledger.Size))
                    {
                        lines.Add(Receipt.Parse(line));
                    }

                    verified[scroll] = lines;
                }

                Check(failures, ledger.Size == size, $"{receipts}: holds {ledger.Size} receipts, the plan's final checkpoint {size}");
                if (entry["checkpoint"]?.GetValue<string>() is { } note)
                {
                    var root = Path.Combine(directory, "ROOT." + scroll + ".txt");
                    Check(failures, File.Exists(root) && File.ReadAllText(root) == note, $"ROOT.{scroll}.txt: is not the plan's final checkpoint of {scroll}");
                    Check(failures, ledger.LatestCheckpointNote == note, $"{receipts}: the latest stored checkpoint is not the plan's");
                    try
                    {
                        Checkpoint.Open(note, [key]);
                    }
                    catch (Exception ex) when (ex is FormatException or NoteVerificationException)
                    {
                        failures.Add($"plan checkpoint of {scroll}: does not verify: {ex.Message}");
                    }
                }
            }
        }

        checkedItems.Add($"{scrolls.Count} scroll(s): receipts re-hashed, checkpoints and anchors verified");
        return verified;
    }
}

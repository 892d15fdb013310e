using System.Text.Json;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Signing;
using Federation.Grains;
using Federation.Grains.Services;
using Federation.Storage.Governance;
using Federation.Storage.Keys;
using Microsoft.Extensions.Configuration;

namespace Federation.Cli.Tests;

/// <summary>
/// <c>fed review</c> and <c>fed advisory</c> end to end: a real coordinator (the same <see cref="CoordinatorHost"/> bootstrap)
/// runs over a temp data directory — five nodes join, one equivocates and is quarantined, one drifts and gets an
/// advisory, epoch 1 commits — and stops; then the commands act on that state in-process.
/// </summary>
public sealed class ReviewCommandTests : IDisposable
{
    private const string Fed = "fed1";
    private const int Dimension = 4;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Data => Path.Combine(_dir.Path, "data");

    private string Settings => _dir.File("appsettings.json");

    private string Key(string name) => Path.Combine(_dir.Path, "keys", name + ".key");

    private FedRunner.Result Fed_(params string[] args) => FedRunner.InProcess([.. args, "--federation", Fed, "--data-dir", Data, "--settings", Settings]);

    private static byte[] Sign<T>(T payload, Ed25519PrivateKey key) => SignedEnvelope.Sign(payload, new Ed25519Signer(key)).ToCanonicalJson();

    /// <summary>Prepares the data directory; returns the quarantined node's case id and the drifting node.</summary>
    private async Task<(string Case, KeyFingerprint Drifting)> PrepareAsync()
    {
        WriteKeysAndSettings();
        return await RunCoordinatorAsync();
    }

    private void WriteKeysAndSettings()
    {
        foreach (var name in new[] { "governance", "reviewer", "stranger", "v0", "v1", "v2", "v3" })
        {
            using var generated = Ed25519PrivateKey.Generate();
            KeyFiles.WriteKeyPair(Key(name), generated);
        }

        using (var scroll = Ed25519PrivateKey.Generate())
        {
            KeyFiles.WriteKeyPair(Path.Combine(Data, "keys", "scroll.key"), scroll);
        }

        File.WriteAllText(Settings, $$"""
            {
              "Federation": { "DataDirectory": "data" },
              "Federations": [
                { "Id": "{{Fed}}", "Aggregation": "vector", "VectorDimension": {{Dimension}}, "RequiredCapabilities": ["ingest.v1"], "MaxPayloadBytes": 8192,
                  "GovernanceKeyFile": "keys/governance.key", "ReviewerKeys": ["keys/reviewer.key.pub"],
                  "Validators": [ { "Id": "v0", "KeyFile": "keys/v0.key" }, { "Id": "v1", "KeyFile": "keys/v1.key" },
                                  { "Id": "v2", "KeyFile": "keys/v2.key" }, { "Id": "v3", "KeyFile": "keys/v3.key" } ] }
              ]
            }
            """);
    }

    private async Task<(string Case, KeyFingerprint Drifting)> RunCoordinatorAsync()
    {
        // The coordinator as it runs: validators, federations and keys all from the settings file.
        var configuration = new ConfigurationBuilder().AddJsonFile(Settings).Build();
        await using var coordinator = await CoordinatorHost.StartAsync(configuration, _dir.Path, Data);
        var grains = coordinator.Grains;
        var gateway = new IngestGateway(grains, (FederationDirectory)coordinator.Host.Services.GetService(typeof(FederationDirectory))!);
        var federation = grains.GetGrain<IFederationGrain>(Fed);
        var nodes = new List<(Ed25519PrivateKey Key, string Block)>();
        for (var i = 0; i < 5; i++)
        {
            var key = Ed25519PrivateKey.Generate();
            await federation.RegisterNodeAsync(new NodeRegistration(key.Fingerprint, TrustLevel.Federated, SyncPolicy.Bidirectional, ["ingest.v1", "delta.vector.v1"]));
            var reply = await federation.HelloAsync(Sign(FederationHello.Create(Fed, key.Fingerprint, "1.0", ["ingest.v1", "delta.vector.v1"], "n"), key));
            var accept = SignedEnvelope.Parse(reply.Accept!);
            var session = await federation.CompleteSessionAsync(Sign(SessionAck.Create(Fed, key.Fingerprint, accept.PayloadAs<FederationAccept>().SessionId, Sha256Digest.Of(accept.SignedBytes)), key));
            Assert.True(session.Active, session.Message);
            nodes.Add((key, session.LedgerBlockId!));
        }

        var state = (await federation.GetEpochAsync()).OpenStateHash;
        async Task<UpdateAck> SubmitAsync(int node, double seed)
        {
            var (payload, hash) = UpdateDelta.Vector(Enumerable.Range(0, Dimension).Select(i => seed + i * 0.01).ToArray()).Encode();
            return await gateway.SubmitAsync(Fed, Sign(MetaUpdate.Create(Fed, 1, nodes[node].Key.Fingerprint, hash, nodes[node].Block, state, payload), nodes[node].Key));
        }

        for (var i = 0; i < 5; i++)
        {
            // Node 4 is 0.3 off in every coordinate: flagged (advisory), not quarantined.
            Assert.True((await SubmitAsync(i, i == 4 ? 1.3 : 1 + i * 0.001)).Acknowledged);
        }

        var equivocation = await SubmitAsync(0, 7);
        Assert.Equal("equivocation", equivocation.Code);
        var report = await grains.GetGrain<IEpochGrain>(Fed).RunAsync();
        Assert.True(report.State == EpochState.Committed, report.Reason);
        var drifting = nodes[4].Key.Fingerprint;
        foreach (var (key, _) in nodes)
        {
            key.Dispose();
        }

        return (equivocation.EvidenceReceipt!, drifting);
    }

    [Fact]
    public async Task A_reviewer_lists_shows_and_approves_a_case_and_other_keys_and_second_verdicts_are_refused()
    {
        var (caseId, _) = await PrepareAsync();

        var list = Fed_("review", "list");
        Assert.True(list.ExitCode == 0, list.Err);
        Assert.Contains($"{caseId}\t", list.Out);
        Assert.Contains("equivocation_evidence\tpending", list.Out);

        var show = Fed_("review", "show", caseId);
        Assert.True(show.ExitCode == 0, show.Err);
        Assert.Contains($"evidence {caseId} (equivocation_evidence", show.Out);
        Assert.Contains("signed commit votes", show.Out);
        Assert.Contains("history:", show.Out);

        var stranger = Fed_("review", "approve", caseId, "--key", Key("stranger"), "--reason", "looks fine");
        Assert.Equal(1, stranger.ExitCode);
        Assert.Contains("not_a_reviewer", stranger.Err);

        var approved = Fed_("review", "approve", caseId, "--key", Key("reviewer"), "--reason", "a restarted node resent with a new payload; operator confirmed");
        Assert.True(approved.ExitCode == 0, approved.Err);
        Assert.Contains("is active", approved.Out);

        var again = Fed_("review", "reject", caseId, "--key", Key("reviewer"), "--reason", "changed my mind");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("case_decided", again.Err);
        Assert.Single(again.Err.Trim().Split('\n'));

        Assert.Contains("\tapproved by ", Fed_("review", "list").Out);
        var decided = JsonDocument.Parse(Fed_("review", "list", "--json").Out).RootElement.EnumerateArray().Single();
        Assert.Equal("approve", decided.GetProperty("verdict").GetString());
        Assert.Equal("active", decided.GetProperty("node_status").GetString());
        Assert.Contains("REVIEW_APPROVED", File.ReadAllText(Path.Combine(Data, GovernanceLog.FileName)));

        // The verdict receipt is in the governance scroll, whose verification passes.
        var query = FedRunner.InProcess("scroll", "query", "--scroll", Fed + ".governance", "--type", "review_verdict", "--json", "--data-dir", Data);
        Assert.True(query.ExitCode == 0, query.Err);
        Assert.Contains("signed_verdict", query.Out);
        Assert.Equal(0, FedRunner.InProcess("scroll", "verify", "--scroll", Fed + ".governance", "--data-dir", Data).ExitCode);
    }

    [Fact]
    public async Task Unusable_input_exits_2_and_a_refused_verdict_exits_1_each_with_one_line()
    {
        var (caseId, _) = await PrepareAsync();

        var unknownCase = Fed_("review", "show", Fed + ".governance:999");
        Assert.Equal(2, unknownCase.ExitCode);
        Assert.Contains($"its cases are {caseId}", unknownCase.Err);
        Assert.Equal(2, Fed_("review", "approve", Fed + ".governance:999", "--key", Key("reviewer"), "--reason", "x").ExitCode);
        var missingKey = Fed_("review", "reject", caseId, "--key", Key("missing"), "--reason", "x");
        Assert.Equal(2, missingKey.ExitCode);
        Assert.Single(missingKey.Err.Trim().Split('\n'));
        var unknownFederation = FedRunner.InProcess("review", "list", "--federation", "fed9", "--data-dir", Data, "--settings", Settings);
        Assert.Equal(2, unknownFederation.ExitCode);
        Assert.Contains("fed9", unknownFederation.Err);
        Assert.Contains("its federations are fed1", unknownFederation.Err);
        Assert.Equal(2, Fed_("advisory", "accept", "adv-1-000000000000").ExitCode);

        // As a real process: a refused verdict is exit 1 and one line, never a stack trace.
        var refused = FedRunner.Process(null, "review", "approve", caseId, "--key", Key("stranger"), "--reason", "x", "--federation", Fed, "--data-dir", Data, "--settings", Settings);
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("fed: verdict refused (not_a_reviewer)", refused.Err);
        Assert.Single(refused.Err.Trim().Split('\n'));

        // Nothing was decided by any of that.
        Assert.Contains("pending", Fed_("review", "list").Out);
    }

    [Fact]
    public async Task A_drift_advisory_is_listed_and_accepting_it_is_final()
    {
        var (_, drifting) = await PrepareAsync();

        var listed = JsonDocument.Parse(Fed_("advisory", "list", "--json").Out).RootElement.EnumerateArray().Single();
        Assert.Equal("BASELINE_DRIFT", listed.GetProperty("drift_type").GetString());
        Assert.Equal(drifting.ToString(), listed.GetProperty("source_env").GetString());
        Assert.Equal("published", listed.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(listed.GetProperty("recommendation").GetString()));
        var id = listed.GetProperty("advisory_id").GetString()!;

        var accepted = Fed_("advisory", "accept", id, "--note", "node operator recalibrates");
        Assert.True(accepted.ExitCode == 0, accepted.Err);
        var declined = Fed_("advisory", "decline", id);
        Assert.Equal(1, declined.ExitCode);
        Assert.Contains("already accepted", declined.Err);

        var after = JsonDocument.Parse(Fed_("advisory", "list", "--json").Out).RootElement.EnumerateArray().Single();
        Assert.Equal("accepted", after.GetProperty("status").GetString());
        Assert.Equal(2, after.GetProperty("receipts").GetArrayLength());
        Assert.Contains("accepted", Fed_("advisory", "list").Out);
    }

    [Fact]
    public async Task Every_reading_command_needs_no_private_key_and_leaves_the_data_directory_byte_for_byte_as_it_was()
    {
        var (caseId, _) = await PrepareAsync();
        Assert.Equal(0, FedRunner.InProcess("scroll", "anchor", "--scroll", Fed + ".governance", "--data-dir", Data).ExitCode);

        // Reading needs no private key: only the public halves stay.
        foreach (var secret in Directory.GetFiles(_dir.Path, "*.key", SearchOption.AllDirectories))
        {
            File.Delete(secret);
        }

        var before = TreeSnapshot.Of(_dir.Path);
        var pub = Path.Combine(Data, "keys", "scroll.key.pub");
        var scrollCommands = new[]
        {
            new[] { "verify" }, ["root"], ["query"], ["query", "--json"], ["consistency", "--from", "1"], ["prove", "--index", "0"],
        };
        foreach (var scroll in new[] { Fed + ".governance", Fed + ".updates", "anchors" })
        {
            foreach (var args in scrollCommands)
            {
                var result = FedRunner.InProcess(["scroll", .. args, "--scroll", scroll, "--data-dir", Data, "--pub", pub]);
                Assert.True(result.ExitCode == 0, $"{scroll} {args[0]}: {result.ExitCode} {result.Err}");
            }
        }

        Assert.Equal(0, FedRunner.InProcess("scroll", "anchor-status", "--data-dir", Data).ExitCode);
        Assert.Equal(0, Fed_("review", "list").ExitCode);
        Assert.Equal(0, Fed_("review", "list", "--json").ExitCode);
        Assert.Equal(0, Fed_("review", "show", caseId).ExitCode);
        Assert.Equal(0, Fed_("advisory", "list").ExitCode);
        Assert.Equal(0, Fed_("advisory", "list", "--json").ExitCode);
        using var elsewhere = new TempDirectory();
        var bundle = elsewhere.File("bundle.json");
        File.WriteAllText(bundle, FedRunner.InProcess("scroll", "prove", "--index", "0", "--scroll", Fed + ".governance", "--data-dir", Data, "--pub", pub).Out);
        Assert.Equal(0, FedRunner.InProcess("verify-bundle", bundle, "--pub", pub).ExitCode);

        Assert.Empty(TreeSnapshot.Of(_dir.Path).DifferencesFrom(before));
    }

    [Fact]
    public void Reading_a_data_directory_no_coordinator_has_run_on_creates_nothing()
    {
        WriteKeysAndSettings();
        var before = TreeSnapshot.Of(_dir.Path);
        var list = Fed_("review", "list");
        var advisories = Fed_("advisory", "list");
        Assert.Empty(TreeSnapshot.Of(_dir.Path).DifferencesFrom(before));
        Assert.NotEqual(0, list.ExitCode);
        Assert.True(list.ExitCode != ExitCodes.InternalError, list.Err);
        Assert.True(advisories.ExitCode != ExitCodes.InternalError, advisories.Err);
    }
}

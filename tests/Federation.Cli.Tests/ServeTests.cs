using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Protocol;
using Federation.Core.Signing;
using Federation.Grains.Services;
using Federation.Storage.Keys;
using Federation.Testing;

namespace Federation.Cli.Tests;

/// <summary>
/// <c>fed serve</c> as users run it: a real process (the Orleans silo and Kestrel) over a temporary data directory, and a
/// node speaking the protocol to it over real HTTP — the handshake, a signed update acknowledged once durable, refusals
/// as problem+json with the scrolls' codes — then SIGTERM, a graceful exit, and a second process that still knows the
/// update.
/// </summary>
[Collection(RealProcesses.Name)]
public sealed partial class ServeTests : IDisposable
{
    private const string Fed = "fed1";
    private readonly TempDirectory _dir = new();
    private readonly Ed25519PrivateKey _node = Ed25519PrivateKey.Generate();
    private readonly Ed25519PrivateKey _stranger = Ed25519PrivateKey.Generate();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        _http.Dispose();
        _node.Dispose();
        _stranger.Dispose();
        _dir.Dispose();
    }

    private string Key(string name) => Path.Combine(_dir.Path, "keys", name + ".key");

    private string Settings => _dir.File("appsettings.json");

    /// <param name="settings">More top-level settings members (JSON text ending in a comma), e.g. rate limits.</param>
    private void Prepare(string settings = "")
    {
        foreach (var name in new[] { "governance", "reviewer", "v0", "v1", "v2", "v3" })
        {
            using var generated = Ed25519PrivateKey.Generate();
            KeyFiles.WriteKeyPair(Key(name), generated);
        }

        using (var scroll = Ed25519PrivateKey.Generate())
        {
            KeyFiles.WriteKeyPair(Path.Combine(_dir.Path, "data", "keys", "scroll.key"), scroll);
        }

        File.WriteAllText(Settings, $$"""
            {
              "Federation": { "DataDirectory": "data" },
              "Epochs": { "Grace": "00:00:01", "CheckInterval": "00:00:00.200" },
              {{settings}}
              "Federations": [
                { "Id": "{{Fed}}", "Aggregation": "vector", "VectorDimension": 4, "RequiredCapabilities": ["ingest.v1"],
                  "GovernanceKeyFile": "keys/governance.key", "ReviewerKeys": ["keys/reviewer.key.pub"],
                  "Nodes": [ { "Fingerprint": "{{_node.Fingerprint}}", "Capabilities": ["ingest.v1", "delta.vector.v1"] } ],
                  "Validators": [ { "Id": "v0", "KeyFile": "keys/v0.key" }, { "Id": "v1", "KeyFile": "keys/v1.key" },
                                  { "Id": "v2", "KeyFile": "keys/v2.key" }, { "Id": "v3", "KeyFile": "keys/v3.key" } ] },
                { "Id": "fed2", "Aggregation": "vector", "VectorDimension": 4, "RequiredCapabilities": ["ingest.v1"],
                  "GovernanceKeyFile": "keys/governance.key",
                  "Validators": [ { "Id": "v0", "KeyFile": "keys/v0.key" }, { "Id": "v1", "KeyFile": "keys/v1.key" },
                                  { "Id": "v2", "KeyFile": "keys/v2.key" }, { "Id": "v3", "KeyFile": "keys/v3.key" } ] }
              ]
            }
            """);
    }

    private static byte[] Sign<T>(T payload, Ed25519PrivateKey key) => SignedEnvelope.Sign(payload, new Ed25519Signer(key)).ToCanonicalJson();

    /// <param name="expectContinue">Ask before sending the body (a server refusing it by its length then answers without reading it).</param>
    private async Task<(HttpStatusCode Status, string Body)> GetTextAsync(ServeProcess server, string path)
    {
        using var response = await _http.GetAsync(new Uri(server.Root, path));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<(HttpStatusCode Status, string? ContentType, JsonNode? Json, byte[] Body)> PostAsync(ServeProcess server, string path, byte[] body, bool expectContinue = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Root, path)) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.ExpectContinue = expectContinue;
        using var response = await _http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var json = bytes.Length > 0 && bytes[0] == (byte)'{' ? JsonNode.Parse(bytes) : null;
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, json, bytes);
    }

    private async Task<JsonNode> GetJsonAsync(ServeProcess server, string path)
    {
        using var response = await _http.GetAsync(new Uri(server.Root, path));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private byte[] Update(string block, Sha256Digest state, double seed)
    {
        var (payload, hash) = UpdateDelta.Vector([seed, seed + 0.01, seed + 0.02, seed + 0.03]).Encode();
        return Sign(MetaUpdate.Create(Fed, 1, _node.Fingerprint, hash, block, state, payload), _node);
    }

    [Fact]
    public async Task A_node_joins_and_submits_over_http_refusals_are_problem_json_and_a_restart_keeps_what_was_acknowledged()
    {
        Prepare();
        byte[] accepted;
        string receiptId;
        string block;
        Sha256Digest state;
        await using (var server = await ServeProcess.StartAsync(Settings, _http))
        {
            // The handshake: the governance-signed accept, then the session ack whose receipt id the node cites.
            var hello = await PostAsync(server, $"v1/federations/{Fed}/hello", Sign(FederationHello.Create(Fed, _node.Fingerprint, "1.0", ["ingest.v1", "delta.vector.v1"], "n1"), _node));
            Assert.Equal(HttpStatusCode.OK, hello.Status);
            var accept = SignedEnvelope.Parse(hello.Body);
            Assert.True(accept.Verify(Ed25519Verifier.Trusting(KeyFiles.ReadPublicKey(Key("governance") + ".pub"))).IsValid);
            var session = await PostAsync(server, $"v1/federations/{Fed}/session",
                Sign(SessionAck.Create(Fed, _node.Fingerprint, accept.PayloadAs<FederationAccept>().SessionId, Sha256Digest.Of(accept.SignedBytes)), _node));
            Assert.Equal(HttpStatusCode.OK, session.Status);
            block = session.Json!["ledger_block_id"]!.GetValue<string>();
            Assert.StartsWith($"{Fed}.membership:", block);

            // The OpenAPI document the app serves lists every route.
            var openApi = await GetJsonAsync(server, "openapi/v1.json");
            var paths = openApi["paths"]!.AsObject().Select(p => p.Key).ToList();
            foreach (var route in new[] { "/healthz", "/v1/federations/{federation}/hello", "/v1/federations/{federation}/session", "/v1/federations/{federation}/updates",
                "/v1/federations/{federation}/nodes/{node}/heartbeat", "/v1/federations/{federation}/epoch", "/v1/federations/{federation}/epochs/{epoch}" })
            {
                Assert.Contains(route, paths);
            }

            var epoch = await GetJsonAsync(server, $"v1/federations/{Fed}/epoch");
            Assert.Equal(1, epoch["open_epoch"]!.GetValue<long>());
            state = Sha256Digest.Parse(epoch["open_state_hash"]!.GetValue<string>());

            accepted = Update(block, state, 1.0);
            var ack = await PostAsync(server, $"v1/federations/{Fed}/updates", accepted);
            Assert.Equal(HttpStatusCode.OK, ack.Status);
            Assert.Equal("accepted", ack.Json!["disposition"]!.GetValue<string>());
            Assert.Equal(0, ack.Json["seq"]!.GetValue<long>());
            receiptId = ack.Json["receipt_id"]!.GetValue<string>();
            Assert.Equal($"{Fed}.updates:0", receiptId);

            // Refusals: problem+json, the scrolls' code, and nothing accepted before is changed.
            var forged = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Update(block, state, 2.0)).Replace("\"federated_epoch\":1", "\"federated_epoch\":2", StringComparison.Ordinal));
            var refused = await PostAsync(server, $"v1/federations/{Fed}/updates", forged);
            Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
            Assert.Equal("application/problem+json", refused.ContentType);
            Assert.Equal("bad_signature", refused.Json!["code"]!.GetValue<string>());

            var stranger = await PostAsync(server, $"v1/federations/{Fed}/hello", Sign(FederationHello.Create(Fed, _stranger.Fingerprint, "1.0", ["ingest.v1"], "n2"), _stranger));
            Assert.Equal(HttpStatusCode.Forbidden, stranger.Status);
            Assert.Equal("unknown_node", stranger.Json!["code"]!.GetValue<string>());

            var otherFederation = await PostAsync(server, "v1/federations/fed9/updates", accepted);
            Assert.Equal(HttpStatusCode.NotFound, otherFederation.Status);
            Assert.Equal("unknown_federation", otherFederation.Json!["code"]!.GetValue<string>());

            var oversized = await PostAsync(server, $"v1/federations/{Fed}/updates", new byte[2 * 1024 * 1024], expectContinue: true);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, oversized.Status);
            Assert.Equal("oversized_message", oversized.Json!["code"]!.GetValue<string>());

            // Another content type is refused unread, whatever the body.
            using (var text = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Root, $"v1/federations/{Fed}/updates")) { Content = new ByteArrayContent(accepted) })
            {
                text.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/plain");
                using var wrongType = await _http.SendAsync(text);
                Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
                Assert.Contains("\"unsupported_media_type\"", await wrongType.Content.ReadAsStringAsync());
            }

            var malformed = await PostAsync(server, $"v1/federations/{Fed}/updates", "{not json"u8.ToArray());
            Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
            Assert.Equal("malformed_message", malformed.Json!["code"]!.GetValue<string>());

            // A heartbeat ahead of the coordinator's scroll cannot be judged yet: "ahead", nothing punished.
            var heartbeat = await PostAsync(server, $"v1/federations/{Fed}/nodes/{_node.Fingerprint}/heartbeat",
                Sign(Heartbeat.Create(Fed, _node.Fingerprint, $"{Fed}.updates", 1000, Sha256Digest.Of("head"u8), 1), _node));
            Assert.Equal(HttpStatusCode.OK, heartbeat.Status);
            Assert.Equal("ahead", heartbeat.Json!["verdict"]!.GetValue<string>());

            // Epochs run on their own: the one active node has submitted (a quorum), so after the grace epoch 1 closes,
            // the validators vote and epoch 2 opens on the committed state — nothing here drives it.
            var waited = Stopwatch.StartNew();
            JsonNode current;
            while ((current = await GetJsonAsync(server, $"v1/federations/{Fed}/epoch"))["open_epoch"]!.GetValue<long>() < 2 && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(200);
            }

            Assert.Equal(2, current["open_epoch"]!.GetValue<long>());
            Assert.NotEqual(state.ToString(), current["open_state_hash"]!.GetValue<string>());

            // The committed epoch as a node loads it: the decision and its commit receipt, with the aggregate and the
            // signed commit votes of 2f + 1 = 3 of the 4 validators, each a signed envelope the node can check.
            var committed = await GetJsonAsync(server, $"v1/federations/{Fed}/epochs/1");
            Assert.Equal("committed", committed["state"]!.GetValue<string>());
            Assert.Equal(1, committed["included"]!.GetValue<int>());
            var commitReceipt = committed["commit_receipt"]!;
            Assert.Equal("epoch_committed", commitReceipt["type"]!.GetValue<string>());
            Assert.Equal(committed["commit_receipt_id"]!.GetValue<string>(), $"{commitReceipt["scroll"]!.GetValue<string>()}:{commitReceipt["seq"]!.GetValue<long>()}");
            Assert.NotNull(commitReceipt["body"]!["aggregate"]);
            var votes = commitReceipt["body"]!["commit_certificate"]!.AsArray();
            Assert.True(votes.Count >= 3, $"{votes.Count} commit votes");
            Assert.All(votes, vote => SignedEnvelope.Parse(Encoding.UTF8.GetBytes(vote!.ToJsonString())));
            using (var unknown = await _http.GetAsync(new Uri(server.Root, $"v1/federations/{Fed}/epochs/7")))
            {
                Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
                Assert.Contains("\"unknown_epoch\"", await unknown.Content.ReadAsStringAsync());
            }

            // The node checks its receipt offline: the inclusion bundle from the service, verified by `fed verify-bundle`
            // with the scroll's public key, against the checkpoint the service serves. Reading creates nothing.
            var scrollsBefore = Directory.GetDirectories(Path.Combine(_dir.Path, "data", "receipts")).Length;
            var checkpoint = await GetTextAsync(server, $"v1/federations/{Fed}/scrolls/{Fed}.updates/checkpoint");
            Assert.Equal(HttpStatusCode.OK, checkpoint.Status);
            Assert.StartsWith($"federation-orleans/{Fed}.updates\n", checkpoint.Body);
            var bundle = await GetTextAsync(server, $"v1/federations/{Fed}/receipts/{receiptId}/bundle");
            Assert.Equal(HttpStatusCode.OK, bundle.Status);
            File.WriteAllText(_dir.File("bundle.json"), bundle.Body);
            var verified = FedRunner.InProcess("verify-bundle", _dir.File("bundle.json"), "--pub", Path.Combine(_dir.Path, "data", "keys", "scroll.key.pub"));
            Assert.True(verified.ExitCode == 0, verified.Err);
            foreach (var (path, code) in new[]
            {
                ($"v1/federations/{Fed}/scrolls/{Fed}.nothing/checkpoint", "unknown_scroll"),
                ($"v1/federations/{Fed}/scrolls/fed2.updates/checkpoint", "unknown_scroll"),
                ($"v1/federations/fed9/scrolls/fed9.updates/checkpoint", "unknown_federation"),
                ($"v1/federations/{Fed}/receipts/{Fed}.updates:999/bundle", "unknown_receipt"),
                ($"v1/federations/{Fed}/receipts/fed2.updates:0/bundle", "unknown_scroll"),
            })
            {
                var missing = await GetTextAsync(server, path);
                Assert.True(missing.Status == HttpStatusCode.NotFound && missing.Body.Contains($"\"{code}\"", StringComparison.Ordinal), $"{path}: {missing.Status} {missing.Body}");
            }

            Assert.Equal(HttpStatusCode.BadRequest, (await GetTextAsync(server, $"v1/federations/{Fed}/receipts/nonsense/bundle")).Status);
            Assert.Equal(scrollsBefore, Directory.GetDirectories(Path.Combine(_dir.Path, "data", "receipts")).Length);

            Assert.Equal(0, await server.StopAsync());
            Assert.Contains("stopped", server.Output);
        }

        // A second process over the same data directory: the acknowledged update is still there (a duplicate now).
        var reviewerToken = Token(Fed, "reviewer");
        var auditorToken = Token(Fed, "auditor");
        await using (var again = await ServeProcess.StartAsync(Settings, _http))
        {
            var duplicate = await PostAsync(again, $"v1/federations/{Fed}/updates", accepted);
            Assert.Equal(HttpStatusCode.OK, duplicate.Status);
            Assert.Equal("duplicate", duplicate.Json!["disposition"]!.GetValue<string>());
            Assert.Equal(receiptId, duplicate.Json["receipt_id"]!.GetValue<string>());

            // Anyone can fetch a node's sealed update and replay it: replays are answered duplicate and do not spend the
            // node's own budget (a burst of 100 by default), so 150 of them leave it none the poorer.
            for (var i = 0; i < 150; i++)
            {
                var replay = await PostAsync(again, $"v1/federations/{Fed}/updates", accepted);
                Assert.True(replay.Status == HttpStatusCode.OK, $"replay {i}: {replay.Status}");
            }

            // Another update of the same node for the same epoch: equivocation, sealed as evidence; the node is then quarantined.
            var equivocation = await PostAsync(again, $"v1/federations/{Fed}/updates", Update(block, state, 5.0));
            Assert.Equal(HttpStatusCode.Conflict, equivocation.Status);
            Assert.Equal("equivocation", equivocation.Json!["code"]!.GetValue<string>());
            Assert.StartsWith($"{Fed}.governance:", equivocation.Json["evidence_receipt"]!.GetValue<string>());
            var quarantined = await PostAsync(again, $"v1/federations/{Fed}/updates", accepted);
            Assert.Equal(HttpStatusCode.Forbidden, quarantined.Status);
            Assert.Equal("quarantined_node", quarantined.Json!["code"]!.GetValue<string>());

            // A reviewer judges the case over HTTP: the case, its evidence, then a verdict signed by a reviewer key.
            var caseId = equivocation.Json["evidence_receipt"]!.GetValue<string>();
            var cases = await SendAsync(again, HttpMethod.Get, $"v1/federations/{Fed}/reviews", auditorToken);
            Assert.Equal(HttpStatusCode.OK, cases.Status);
            var pending = cases.Json!["cases"]!.AsArray().Single()!;
            Assert.Equal(caseId, pending["case"]!.GetValue<string>());
            Assert.Equal("quarantined", pending["node_status"]!.GetValue<string>());
            var detail = await SendAsync(again, HttpMethod.Get, $"v1/federations/{Fed}/reviews/{caseId}", reviewerToken);
            Assert.Equal(HttpStatusCode.OK, detail.Status);
            Assert.Equal("equivocation_evidence", detail.Json!["evidence"]!["type"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(again, HttpMethod.Get, $"v1/federations/{Fed}/reviews/{Fed}.governance:999", reviewerToken)).Status);

            using var reviewer = KeyFiles.ReadPrivateKey(Key("reviewer"));
            string Verdict(string forCase, Ed25519PrivateKey signer) => Encoding.UTF8.GetString(Core.Governance.ReviewVerdict.Sign(
                new Core.Governance.ReviewVerdict(Fed, forCase, _node.Fingerprint, Core.Governance.VerdictKind.Approve, "a restarted node resent a new payload", signer.Fingerprint, forCase), signer).ToCanonicalJson());
            var verdictPath = $"v1/federations/{Fed}/reviews/{caseId}/verdict";
            Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(again, HttpMethod.Post, verdictPath, auditorToken, Verdict(caseId, reviewer))).Status);
            var stranger = await SendAsync(again, HttpMethod.Post, verdictPath, reviewerToken, Verdict(caseId, _stranger));
            Assert.Equal(HttpStatusCode.Forbidden, stranger.Status);
            Assert.Equal("not_a_reviewer", stranger.Json!["code"]!.GetValue<string>());
            var mismatch = await SendAsync(again, HttpMethod.Post, verdictPath, reviewerToken, Verdict($"{Fed}.governance:999", reviewer));
            Assert.Equal("case_mismatch", mismatch.Json!["code"]!.GetValue<string>());
            var malformedVerdict = await SendAsync(again, HttpMethod.Post, verdictPath, reviewerToken, "{not json");
            Assert.Equal(HttpStatusCode.BadRequest, malformedVerdict.Status);

            var approved = await SendAsync(again, HttpMethod.Post, verdictPath, reviewerToken, Verdict(caseId, reviewer));
            Assert.Equal(HttpStatusCode.OK, approved.Status);
            Assert.StartsWith($"{Fed}.governance:", approved.Json!["receipt_id"]!.GetValue<string>());
            var decided = (await SendAsync(again, HttpMethod.Get, $"v1/federations/{Fed}/reviews", auditorToken)).Json!["cases"]!.AsArray().Single()!;
            Assert.Equal("approve", decided["verdict"]!.GetValue<string>());
            Assert.Equal("active", decided["node_status"]!.GetValue<string>());
            var again2 = await SendAsync(again, HttpMethod.Post, verdictPath, reviewerToken, Verdict(caseId, reviewer));
            Assert.Equal(HttpStatusCode.Conflict, again2.Status);
            Assert.Equal("case_decided", again2.Json!["code"]!.GetValue<string>());
        }
    }

    private string Token(string federation, string role)
    {
        var created = FedRunner.InProcess("token", "create", "--federation", federation, "--role", role, "--label", "test " + role, "--settings", Settings);
        Assert.True(created.ExitCode == 0, created.Err);
        Assert.Contains("not shown again", created.Err);
        return created.Out.Trim();
    }

    private async Task<(HttpStatusCode Status, JsonNode? Json, HttpResponseMessage Response)> SendAsync(ServeProcess server, HttpMethod method, string path, string? token, string? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(server.Root, path));
        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text) : null, response);
    }

    [Fact]
    public async Task Operators_register_list_and_revoke_nodes_with_tokens_of_their_role_and_no_other_token_gets_in()
    {
        Prepare("""  "Anchors": { "Interval": "00:00:01" },""");
        var operatorToken = Token(Fed, "operator");
        var auditorToken = Token(Fed, "auditor");
        var otherFederationToken = Token("fed2", "operator");
        Assert.StartsWith("fed_", operatorToken);
        var badRole = FedRunner.InProcess("token", "create", "--federation", Fed, "--role", "admin", "--settings", Settings);
        Assert.Equal(ExitCodes.UnusableInput, badRole.ExitCode);
        Assert.Contains("--role must be operator, reviewer or auditor", badRole.Err);

        await using (var server = await ServeProcess.StartAsync(Settings, _http))
        {
            var anonymous = await SendAsync(server, HttpMethod.Get, $"v1/federations/{Fed}/nodes", null);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.Status);
            Assert.Equal("unauthorized", anonymous.Json!["code"]!.GetValue<string>());
            Assert.Equal("Bearer", anonymous.Response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(server, HttpMethod.Get, $"v1/federations/{Fed}/nodes", "fed_not-a-token")).Status);

            // Another federation's token is told what a request for data that does not exist is told.
            var foreign = await SendAsync(server, HttpMethod.Get, $"v1/federations/{Fed}/nodes", otherFederationToken);
            Assert.Equal(HttpStatusCode.NotFound, foreign.Status);
            Assert.Equal("unknown_federation", foreign.Json!["code"]!.GetValue<string>());

            var registration = $$"""{"nodes": [{"fingerprint": "{{_stranger.Fingerprint}}", "trust_level": "federated", "capabilities": ["ingest.v1", "delta.vector.v1"]}]}""";
            var auditorRegisters = await SendAsync(server, HttpMethod.Post, $"v1/federations/{Fed}/nodes", auditorToken, registration);
            Assert.Equal(HttpStatusCode.Forbidden, auditorRegisters.Status);
            Assert.Equal("forbidden_role", auditorRegisters.Json!["code"]!.GetValue<string>());
            var malformed = await SendAsync(server, HttpMethod.Post, $"v1/federations/{Fed}/nodes", operatorToken, """{"nodes": [{"fingerprint": "ed25519:zz", "capabilities": []}]}""");
            Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
            Assert.Equal("malformed_registration", malformed.Json!["code"]!.GetValue<string>());
            var registered = await SendAsync(server, HttpMethod.Post, $"v1/federations/{Fed}/nodes", operatorToken, registration);
            Assert.Equal(HttpStatusCode.OK, registered.Status);
            Assert.Equal(1, registered.Json!["registered"]!.GetValue<int>());

            // The newly registered node joins and submits.
            var hello = await PostAsync(server, $"v1/federations/{Fed}/hello", Sign(FederationHello.Create(Fed, _stranger.Fingerprint, "1.0", ["ingest.v1", "delta.vector.v1"], "s1"), _stranger));
            Assert.Equal(HttpStatusCode.OK, hello.Status);
            var accept = SignedEnvelope.Parse(hello.Body);
            var session = await PostAsync(server, $"v1/federations/{Fed}/session",
                Sign(SessionAck.Create(Fed, _stranger.Fingerprint, accept.PayloadAs<FederationAccept>().SessionId, Sha256Digest.Of(accept.SignedBytes)), _stranger));
            var block = session.Json!["ledger_block_id"]!.GetValue<string>();
            var state = Sha256Digest.Parse((await GetJsonAsync(server, $"v1/federations/{Fed}/epoch"))["open_state_hash"]!.GetValue<string>());
            byte[] StrangerUpdate(double seed)
            {
                var (payload, hash) = UpdateDelta.Vector([seed, seed, seed, seed]).Encode();
                return Sign(MetaUpdate.Create(Fed, 1, _stranger.Fingerprint, hash, block, state, payload), _stranger);
            }

            Assert.Equal(HttpStatusCode.OK, (await PostAsync(server, $"v1/federations/{Fed}/updates", StrangerUpdate(1))).Status);

            var listed = await SendAsync(server, HttpMethod.Get, $"v1/federations/{Fed}/nodes", auditorToken);
            Assert.Equal(HttpStatusCode.OK, listed.Status);
            var nodes = listed.Json!["nodes"]!.AsArray();
            Assert.Equal(2, nodes.Count);
            var stranger = nodes.Single(n => n!["fingerprint"]!.GetValue<string>() == _stranger.Fingerprint.ToString())!;
            Assert.Equal("active", stranger["status"]!.GetValue<string>());
            Assert.Equal(1, stranger["last_epoch"]!.GetValue<long>());
            Assert.NotNull(stranger["last_seen"]);
            Assert.Equal("pending", nodes.Single(n => n!["fingerprint"]!.GetValue<string>() == _node.Fingerprint.ToString())!["status"]!.GetValue<string>());

            // Revoked: the node's very next request is refused.
            Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(server, HttpMethod.Post, $"v1/federations/{Fed}/nodes/{_stranger.Fingerprint}/revoke", auditorToken, """{"reason": "x"}""")).Status);
            var revoked = await SendAsync(server, HttpMethod.Post, $"v1/federations/{Fed}/nodes/{_stranger.Fingerprint}/revoke", operatorToken, """{"reason": "key leaked"}""");
            Assert.Equal(HttpStatusCode.OK, revoked.Status);
            var revocation = revoked.Json!["receipt_id"]!.GetValue<string>();
            Assert.StartsWith($"{Fed}.governance:", revocation);

            // The revocation is sealed (readable beside the running coordinator: reading takes no lock) and logged.
            var sealedRevocation = FedRunner.InProcess("scroll", "query", "--scroll", $"{Fed}.governance", "--type", "node_revoked", "--json", "--data-dir", Path.Combine(_dir.Path, "data"));
            Assert.True(sealedRevocation.ExitCode == 0, sealedRevocation.Err);
            var line = JsonNode.Parse(sealedRevocation.Out.Trim())!;
            Assert.Equal(_stranger.Fingerprint.ToString(), line["node"]!.GetValue<string>());
            Assert.Equal("key leaked", line["body"]!["reason"]!.GetValue<string>());
            Assert.Equal("active", line["body"]!["previous_status"]!.GetValue<string>());
            Assert.StartsWith("operator token ", line["body"]!["revoked_by"]!.GetValue<string>());
            var log = File.ReadAllText(Path.Combine(_dir.Path, "data", "META-GOVERNANCE-LOG.md"));
            Assert.Contains($"## NODE_REVOKED — {Fed} — node {_stranger.Fingerprint}\n- receipt: `{revocation}`\n- reason: key leaked\n", log);
            var refused = await PostAsync(server, $"v1/federations/{Fed}/updates", StrangerUpdate(1));
            Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
            Assert.Equal("revoked_node", refused.Json!["code"]!.GetValue<string>());
            Assert.Contains("key leaked", refused.Json["detail"]!.GetValue<string>());
            var unknown = await SendAsync(server, HttpMethod.Post, $"v1/federations/{Fed}/nodes/{Ed25519PrivateKey.FromSeed(new byte[32]).Fingerprint}/revoke", operatorToken, """{"reason": "x"}""");
            Assert.Equal(HttpStatusCode.NotFound, unknown.Status);

            // Anchor cycles run on their own (every second here): the status shows them, with each scroll's anchored size.
            var waited = Stopwatch.StartNew();
            JsonNode anchorStatus;
            while ((anchorStatus = (await SendAsync(server, HttpMethod.Get, $"v1/federations/{Fed}/anchor-status", auditorToken)).Json!)["scrolls"]!.AsArray()
                       .All(s => s!["scroll"]!.GetValue<string>() != $"{Fed}.governance" || s["size"]!.GetValue<long>() == 0) && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(200);
            }

            Assert.True(anchorStatus["cycles"]!.GetValue<long>() >= 1, anchorStatus.ToJsonString());
            var governanceAnchor = anchorStatus["scrolls"]!.AsArray().Single(s => s!["scroll"]!.GetValue<string>() == $"{Fed}.governance")!;
            Assert.Equal("success", governanceAnchor["outcome"]!.GetValue<string>());
            Assert.StartsWith("anchors:", governanceAnchor["receipt_id"]!.GetValue<string>());

            // An operator anchors now; an auditor may not; the anchors verify offline, beside the running coordinator.
            Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(server, HttpMethod.Post, $"v1/federations/{Fed}/anchor-now", auditorToken, "{}")).Status);
            var now = await SendAsync(server, HttpMethod.Post, $"v1/federations/{Fed}/anchor-now", operatorToken, "{}");
            Assert.Equal(HttpStatusCode.OK, now.Status);
            Assert.Contains(now.Json!["scrolls"]!.AsArray(), s => s!["scroll"]!.GetValue<string>() == $"{Fed}.updates" && s["outcome"]!.GetValue<string>() == "success");
            var data = Path.Combine(_dir.Path, "data");
            Assert.Contains($"\"{Fed}.updates\"", File.ReadAllText(Path.Combine(data, "merkle", "meta_M5.merk")));
            var verify = FedRunner.InProcess("scroll", "verify", "--scroll", $"{Fed}.updates", "--data-dir", data);
            Assert.True(verify.ExitCode == 0, verify.Out + verify.Err);
            Assert.Matches("[1-9][0-9]* anchor\\(s\\)", verify.Out);
        }

        // The tokens are listed by id and role, never shown again.
        var list = FedRunner.InProcess("token", "list", "--federation", Fed, "--settings", Settings);
        Assert.Equal(0, list.ExitCode);
        Assert.Equal(2, list.Out.Trim().Split('\n').Length);
        Assert.Contains("operator", list.Out);
        Assert.DoesNotContain(operatorToken, list.Out);
        Assert.DoesNotContain(operatorToken, string.Concat(Directory.GetFiles(_dir.Path, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".key", StringComparison.Ordinal)).Select(File.ReadAllText)));
    }

    [Fact]
    public async Task Over_its_rate_a_client_is_answered_429_with_retry_after_and_served_again_after_it()
    {
        Prepare(""" "Service": { "RateLimits": { "NodeRequestsPerSecond": 1, "NodeBurst": 3, "TokenRequestsPerSecond": 1, "TokenBurst": 2 } }, """);
        await using var server = await ServeProcess.StartAsync(Settings, _http);
        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 6; i++)
        {
            answers.Add(await _http.GetAsync(new Uri(server.Root, $"v1/federations/{Fed}/epoch")));
        }

        Assert.Equal(HttpStatusCode.OK, answers[0].StatusCode);
        var limited = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        Assert.True(answers.Count(a => a.StatusCode == HttpStatusCode.OK) <= 4, "at most the burst and one refill get through");
        var retryAfter = limited[0].Headers.RetryAfter!.Delta!.Value;
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        var problem = JsonNode.Parse(await limited[0].Content.ReadAsStringAsync())!;
        Assert.Equal("rate_limited", problem["code"]!.GetValue<string>());
        Assert.Equal("application/problem+json", limited[0].Content.Headers.ContentType!.MediaType);

        await Task.Delay(retryAfter + TimeSpan.FromMilliseconds(200));
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(new Uri(server.Root, $"v1/federations/{Fed}/epoch"))).StatusCode);

        // Operator routes: a bucket per token, apart from the nodes' (a burst of 2 here).
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await SendAsync(server, HttpMethod.Get, $"v1/federations/{Fed}/nodes", "fed_some-token")).Status);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, statuses[0]);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    public async Task A_node_over_its_own_rate_gets_429_and_forged_messages_in_its_name_do_not_spend_its_budget()
    {
        Prepare(""" "Service": { "RateLimits": { "NodeRequestsPerSecond": 1000, "NodeBurst": 1000, "PerNodeRequestsPerSecond": 1, "PerNodeBurst": 3 } }, """);
        await using var server = await ServeProcess.StartAsync(Settings, _http);
        var signed = Update($"{Fed}.membership:0", Sha256Digest.Of("state"u8), 1.0);
        var forged = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(signed).Replace("\"federated_epoch\":1", "\"federated_epoch\":2", StringComparison.Ordinal));

        // Forged in the node's name: refused for the signature, and the node's bucket is untouched.
        for (var i = 0; i < 10; i++)
        {
            var refused = await PostAsync(server, $"v1/federations/{Fed}/updates", forged);
            Assert.Equal("bad_signature", refused.Json!["code"]!.GetValue<string>());
        }

        // Signed by the node: its whole burst of 3 is served (had the forgeries spent it, at most the refills of the
        // seconds since would be; the node has not joined, so each is answered pending_node)...
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("pending_node", (await PostAsync(server, $"v1/federations/{Fed}/updates", signed)).Json!["code"]!.GetValue<string>());
        }

        // ...and then it is over (one a second refills it): of ten at once, some are answered 429 rate_limited with
        // Retry-After, nothing of them decided.
        var burst = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => _http.PostAsync(new Uri(server.Root, $"v1/federations/{Fed}/updates"), new ByteArrayContent(signed) { Headers = { ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") } })));
        var limited = burst.FirstOrDefault(a => a.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.NotNull(limited);
        Assert.Equal(TimeSpan.FromSeconds(1), limited.Headers.RetryAfter!.Delta);
        Assert.Equal("rate_limited", JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["code"]!.GetValue<string>());
        foreach (var answer in burst)
        {
            Assert.True(answer.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.Forbidden, answer.StatusCode.ToString());
            answer.Dispose();
        }

        await Task.Delay(TimeSpan.FromMilliseconds(1200));
        Assert.Equal("pending_node", (await PostAsync(server, $"v1/federations/{Fed}/updates", signed)).Json!["code"]!.GetValue<string>());
    }
}

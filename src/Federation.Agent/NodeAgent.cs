using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Checkpoints;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;

namespace Federation.Agent;

/// <summary>Faults an agent can be started with, to see the coordinator catch them (tests, demos).</summary>
[Flags]
public enum AgentFault
{
    None = 0,

    /// <summary>Signs a second, different update for every epoch and sends it too.</summary>
    Equivocate = 1,

    /// <summary>Heartbeats a ledger head whose root is not the scroll's.</summary>
    LieHead = 2,

    /// <summary>Sends deltas far from every honest node's (an offset of 100 on every value).</summary>
    Divergent = 4,

    /// <summary>Sends a burst of heartbeats every epoch, over any sane rate.</summary>
    Flood = 8,
}

/// <param name="Coordinators">Where the federation is served; the agent fails over between them.</param>
/// <param name="Poll">How often the agent asks for the open epoch.</param>
/// <param name="OfflineCycle">While no coordinator answers, a local cycle runs this often and its update is cached.</param>
/// <param name="StopAfterEpochs">Exit 0 once this many epochs have committed since the agent joined (null: run until stopped).</param>
public sealed record AgentOptions(
    IReadOnlyList<Uri> Coordinators,
    string Federation,
    TrustRoots Trust,
    string CacheDirectory,
    ILocalCycle Cycle,
    TimeSpan Poll,
    TimeSpan OfflineCycle,
    AgentFault Faults = AgentFault.None,
    long? StopAfterEpochs = null,
    IReadOnlyList<string>? Capabilities = null);

/// <summary>A coordinator answered 5xx: the agent tries again next round.</summary>
public sealed class CoordinatorTroubleException(string message) : Exception(message);

/// <summary>A refusal the agent cannot go on after (revoked, unknown key, a state whose certificate does not verify).</summary>
public sealed class AgentStoppedException(string message) : Exception(message);

/// <summary>
/// <c>fed node run</c>: a node that federates with a coordinator over HTTP (docs/formats/http-api.md, protocol.md). It
/// joins through the signed handshake (checking the accept's governance signature and the policy it names), then every
/// epoch loads the committed global state (checking the epoch's commit certificate against the trusted validator keys),
/// runs its local cycle, signs and submits its update, heartbeats the updates scroll's head as its signed checkpoint
/// states it, and checks each acknowledged receipt's inclusion against a signed checkpoint. While no coordinator
/// answers it goes on with local cycles, caching each signed update, and sends them again in epoch order once one answers
/// (the coordinator seals late ones as late, refuses those built on a state that was superseded).
/// </summary>
public sealed class NodeAgent : IDisposable
{
    /// <summary>The capabilities the built-in agent offers (every delta kind the product knows).</summary>
    public static readonly IReadOnlyList<string> DefaultCapabilities = ["ingest.v1", "delta.vector.v1", "delta.canon.v1"];

    private readonly AgentOptions _options;
    private readonly Ed25519PrivateKey _key;
    private readonly Ed25519Signer _signer;
    private readonly Action<string> _say;
    private readonly CoordinatorClient _client;
    private readonly AgentCache _cache;
    private readonly ValidatorSet _validators;
    private readonly string _updates;
    private FederationPolicy? _policy;
    private DateTimeOffset _lastOfflineCycle = DateTimeOffset.MinValue;
    private long _offlineEpoch;
    private long _committedSinceStart;
    private long _lastHeartbeatEpoch = -1;
    private string? _lastRefusal;

    public NodeAgent(AgentOptions options, Ed25519PrivateKey key, Action<string> say)
    {
        _options = options;
        _key = key;
        _signer = new Ed25519Signer(key);
        _say = say;
        _client = new CoordinatorClient(options.Coordinators, say, TimeSpan.FromSeconds(10));
        _cache = AgentCache.Open(options.CacheDirectory, options.Federation, key.Fingerprint);
        _validators = new ValidatorSet([.. options.Trust.Validators.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => (v.Key, v.Value))]);
        _updates = FederationScrolls.Updates(options.Federation);
    }

    public KeyFingerprint Node => _key.Fingerprint;

    /// <summary>429 answers waited out (the Retry-After of each).</summary>
    public long RateLimited => _client.RateLimited;

    public IReadOnlyList<AckedUpdate> Acknowledged => _cache.Acked;

    private string Fed => $"v1/federations/{Uri.EscapeDataString(_options.Federation)}/";

    /// <summary>Runs until <paramref name="ct"/> is cancelled or <see cref="AgentOptions.StopAfterEpochs"/> epochs have committed.</summary>
    /// <exception cref="AgentStoppedException">The federation refused the node for good, or served what does not verify.</exception>
    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (await StepAsync(ct))
                {
                    return;
                }
            }
            catch (CoordinatorUnavailableException)
            {
                await OfflineCycleAsync(ct);
            }
            catch (CycleException ex)
            {
                Say($"local cycle failed, epoch skipped: {ex.Message}");
            }
            catch (CoordinatorTroubleException ex)
            {
                SayOnce($"the coordinator answered an error; trying again: {ex.Message}");
            }

            try
            {
                await Task.Delay(_options.Poll, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One round with a coordinator answering; true once the agent is done.</summary>
    private async Task<bool> StepAsync(CancellationToken ct)
    {
        if (_cache.LedgerBlockId is null || _policy is null)
        {
            await JoinAsync(ct);
        }

        await SendPendingAsync(ct);
        var epoch = await ExpectAsync(await _client.GetAsync(Fed + "epoch", ct), "the open epoch");
        var open = epoch["open_epoch"]!.GetValue<long>();
        var closing = epoch["closing_epoch"]?.GetValue<long>();
        var stateHash = Sha256Digest.Parse(epoch["open_state_hash"]!.GetValue<string>());
        _offlineEpoch = Math.Max(_offlineEpoch, open);
        await LoadStateAsync(open, stateHash, ct);
        if (_options.StopAfterEpochs is { } stop && _committedSinceStart >= stop)
        {
            // Done once every acknowledged receipt has been checked against a signed checkpoint (the scroll seals within a second).
            await CheckInclusionAsync(ct);
            return _cache.Acked.All(a => a.Included);
        }

        if (closing != open && open > _cache.LastSubmittedEpoch && _cache.PendingFor(open) is null)
        {
            var delta = await _options.Cycle.RunAsync(new CycleInput(_policy!, Node, open, stateHash, _cache.Aggregate), ct);
            var signed = SignUpdate(open, stateHash, delta);
            _cache.AddPending(open, signed);
            await SubmitAsync(open, signed, ct);
            if (_options.Faults.HasFlag(AgentFault.Equivocate))
            {
                var other = SignUpdate(open, stateHash, Core.Ingest.UpdateDelta.Vector([.. (delta.Values ?? [0.0]).Select(v => v + 0.5)]));
                var reply = await _client.PostAsync(Fed + "updates", other, ct);
                Say($"fault equivocate: a second update for epoch {open}: {reply}");
            }
        }

        if (_lastHeartbeatEpoch != open)
        {
            await HeartbeatAsync(ct);
            _lastHeartbeatEpoch = open;
        }

        await CheckInclusionAsync(ct);
        return false;
    }

    private async Task JoinAsync(CancellationToken ct)
    {
        var hello = Sign(FederationHello.Create(_options.Federation, Node, "fed-node/1", _options.Capabilities ?? DefaultCapabilities, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))));
        var reply = await _client.PostAsync(Fed + "hello", hello, ct);
        if (!reply.Ok)
        {
            Refused("hello", reply);
        }

        SignedEnvelope accept;
        FederationAccept payload;
        try
        {
            accept = SignedEnvelope.Parse(reply.Body);
            payload = accept.PayloadAs<FederationAccept>();
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            throw new AgentStoppedException($"{reply.Coordinator}: the answer to hello is not a signed FederationAccept: {ex.Message}");
        }

        var signature = accept.Verify(Ed25519Verifier.Trusting(_options.Trust.Governance));
        if (!signature.IsValid)
        {
            throw new AgentStoppedException($"{reply.Coordinator}: the FederationAccept is not signed by the trusted governance key {_options.Trust.Governance.Fingerprint.Short}: {signature.Detail}");
        }

        if (payload.NodeFingerprint != Node || payload.FederationId != _options.Federation || payload.HelloHash != Sha256Digest.Of(SignedEnvelope.Parse(hello).SignedBytes))
        {
            throw new AgentStoppedException($"{reply.Coordinator}: the FederationAccept is for another node, federation or hello");
        }

        // The policy the accept names by hash: the node federates under exactly that (aggregation, dimension, limits).
        var policyReply = await ExpectRawAsync(await _client.GetAsync(Fed + "policy", ct), "the federation policy");
        if (Sha256Digest.Of(policyReply) != payload.PolicyHash)
        {
            throw new AgentStoppedException($"the federation policy served does not hash to the accept's policy_hash {payload.PolicyHash}");
        }

        _policy = JsonSerializer.Deserialize<FederationPolicy>(policyReply, ProtocolJson.Options)!;
        if (_cache.LedgerBlockId is not null)
        {
            // A restarted agent keeps its session: the coordinator knows its ledger_block_id already.
            return;
        }

        var ack = Sign(SessionAck.Create(_options.Federation, Node, payload.SessionId, Sha256Digest.Of(accept.SignedBytes)));
        var session = await _client.PostAsync(Fed + "session", ack, ct);
        if (!session.Ok)
        {
            Refused("session", session);
        }

        _cache.LedgerBlockId = session.Json!["ledger_block_id"]!.GetValue<string>();
        _cache.Save();
        Say($"joined {_options.Federation} at {session.Coordinator}: session {payload.SessionId}, ledger_block_id {_cache.LedgerBlockId}");
    }

    /// <summary>
    /// The state epoch <paramref name="open"/> builds on: unchanged, or the committed aggregate of the epoch before it,
    /// taken only once its commit certificate verifies against the trusted validators and its proposal chains from the
    /// state the node held to the state the coordinator names.
    /// </summary>
    private async Task LoadStateAsync(long open, Sha256Digest stateHash, CancellationToken ct)
    {
        if (_cache.StateHash == stateHash.ToString())
        {
            return;
        }

        if (open == 1 || _cache.StateHash is null && stateHash == EpochProposal.Genesis(_options.Federation))
        {
            if (stateHash != EpochProposal.Genesis(_options.Federation))
            {
                throw new AgentStoppedException($"epoch 1's base state {stateHash} is not the genesis state of {_options.Federation}");
            }

            (_cache.StateEpoch, _cache.StateHash, _cache.Aggregate) = (0, stateHash.ToString(), null);
            _cache.Save();
            return;
        }

        // Epochs that failed leave the state as it was: the latest committed epoch before the open one made it.
        for (var epoch = open - 1; epoch > _cache.StateEpoch; epoch--)
        {
            var decided = await ExpectAsync(await _client.GetAsync(Fed + $"epochs/{epoch.ToString(CultureInfo.InvariantCulture)}", ct), $"epoch {epoch}");
            if (decided["state"]!.GetValue<string>() != "committed")
            {
                continue;
            }

            var body = decided["commit_receipt"]!["body"]!.AsObject();
            var proposal = EpochProposal.FromJson(body["proposal"]!.AsObject());
            var digest = proposal.Digest();
            var problems = CommitCertificate.Verify([.. body["commit_certificate"]!.AsArray().Select(v => SignedEnvelope.Parse(CanonicalJson.Write(v!)))], _validators, epoch, digest);
            var aggregate = body["aggregate"]!.AsObject();
            if (problems.Count > 0)
            {
                throw new AgentStoppedException($"epoch {epoch}'s commit certificate does not verify with the trusted validator keys: {string.Join("; ", problems)}");
            }

            if (Sha256Digest.Parse(body["digest"]!.GetValue<string>()) != digest || Sha256Digest.Of(CanonicalJson.Write(aggregate)) != proposal.AggregateHash)
            {
                throw new AgentStoppedException($"epoch {epoch}'s commit receipt: the aggregate or digest is not what the validators signed");
            }

            if (proposal.NewStateHash != stateHash)
            {
                throw new AgentStoppedException($"epoch {epoch} committed state {proposal.NewStateHash}, but epoch {open} is said to build on {stateHash}");
            }

            (_cache.StateEpoch, _cache.StateHash, _cache.Aggregate) = (epoch, stateHash.ToString(), aggregate);
            _committedSinceStart++;
            _cache.Save();
            Say($"epoch {epoch} committed ({decided["included"]} included; certificate of {body["commit_certificate"]!.AsArray().Count} votes verified)");
            return;
        }

        throw new AgentStoppedException($"no committed epoch before {open} produces its base state {stateHash}");
    }

    private byte[] SignUpdate(long epoch, Sha256Digest baseState, Core.Ingest.UpdateDelta delta)
    {
        if (_options.Faults.HasFlag(AgentFault.Divergent) && delta.Kind == AggregationKind.Vector)
        {
            delta = Core.Ingest.UpdateDelta.Vector([.. delta.Values!.Select(v => v + 100)]);
        }

        var (payload, hash) = delta.Encode();
        return Sign(MetaUpdate.Create(_options.Federation, epoch, Node, hash, _cache.LedgerBlockId!, baseState, payload));
    }

    /// <summary>Sends a cached update; on an answer it leaves the cache (acknowledged, or refused for good).</summary>
    private async Task SubmitAsync(long epoch, byte[] signed, CancellationToken ct)
    {
        var reply = await _client.PostAsync(Fed + "updates", signed, ct);
        if (reply.Ok)
        {
            var json = reply.Json!;
            var acked = new AckedUpdate(epoch, json["disposition"]!.GetValue<string>(), json["receipt_id"]!.GetValue<string>(),
                json["seq"]!.GetValue<long>(), json["leaf_hash"]!.GetValue<string>(), Included: false);
            if (!_cache.Acked.Any(a => a.ReceiptId == acked.ReceiptId))
            {
                _cache.Acked.Add(acked);
            }

            _cache.LastSubmittedEpoch = Math.Max(_cache.LastSubmittedEpoch, epoch);
            _cache.Save();
            _cache.RemovePending(epoch);
            Say($"epoch {epoch}: update {acked.Disposition}, receipt {acked.ReceiptId}");
            return;
        }

        if (reply.Status == HttpStatusCode.TooManyRequests)
        {
            // The pipeline waited its Retry-After as many times as it retries: the update stays cached, sent next round.
            Say($"epoch {epoch}: still rate limited; the update stays cached");
            return;
        }

        switch (reply.Code)
        {
            case "revoked_node" or "unknown_node" or "departed_node" or "wrong_ledger_block":
                Refused("update", reply);
                break;
            case "quarantined_node" or "excluded_node" or "pending_node":
                // Kept: a reviewer may reinstate the node, and the update is still the node's one update for the epoch.
                SayOnce($"epoch {epoch}: refused {reply}; the node waits (the update stays cached)");
                return;
        }

        // Refused (built on a superseded state, for an epoch closed or not open yet): the coordinator recorded nothing of it,
        // so the node discards it too; if its epoch is the open one, the next round builds a fresh update on the right state.
        _cache.RemovePending(epoch);
        Say($"epoch {epoch}: update refused and discarded: {reply}");
    }

    /// <summary>Updates cached while offline (or not acknowledged before a crash) go out again, in epoch order.</summary>
    private async Task SendPendingAsync(CancellationToken ct)
    {
        foreach (var (epoch, signed) in _cache.Pending())
        {
            await SubmitAsync(epoch, signed, ct);
        }
    }

    /// <summary>The node's ledger head is the updates scroll's latest checkpoint as it verified it (or a forged root: <see cref="AgentFault.LieHead"/>).</summary>
    private async Task HeartbeatAsync(CancellationToken ct)
    {
        var note = await _client.GetAsync(Fed + $"scrolls/{_updates}/checkpoint", ct);
        if (!note.Ok)
        {
            return; // nothing sealed yet
        }

        var checkpoint = OpenCheckpoint(System.Text.Encoding.UTF8.GetString(note.Body));
        var root = _options.Faults.HasFlag(AgentFault.LieHead) ? Sha256Digest.Of(System.Text.Encoding.UTF8.GetBytes($"lie {checkpoint.Root}")) : checkpoint.Root;
        var beats = _options.Faults.HasFlag(AgentFault.Flood) ? 300 : 1;
        for (var i = 0; i < beats; i++)
        {
            _cache.HeartbeatSequence++;
            var reply = await _client.PostAsync(Fed + $"nodes/{Node}/heartbeat", Sign(Heartbeat.Create(_options.Federation, Node, _updates, checkpoint.Size, root, _cache.HeartbeatSequence)), ct);
            if (!reply.Ok)
            {
                if (reply.Code is "revoked_node" or "unknown_node")
                {
                    Refused("heartbeat", reply);
                }

                SayOnce($"heartbeat refused: {reply}");
                break;
            }

            if (reply.Json!["verdict"]!.GetValue<string>() == "divergent")
            {
                Say($"heartbeat: the coordinator judged the node's ledger head divergent: {reply.Json["message"]} (evidence {reply.Json["evidence_receipt"]})");
            }
        }

        _cache.Save();
    }

    /// <summary>Every acknowledged receipt is checked once a signed checkpoint covers it: the bundle verifies with the trusted scroll key.</summary>
    private async Task CheckInclusionAsync(CancellationToken ct)
    {
        for (var i = 0; i < _cache.Acked.Count; i++)
        {
            var acked = _cache.Acked[i];
            if (acked.Included)
            {
                continue;
            }

            var reply = await _client.GetAsync(Fed + $"receipts/{acked.ReceiptId}/bundle", ct);
            if (reply.Code == "not_sealed_yet")
            {
                return;
            }

            var bundle = InclusionBundle.FromJson(await ExpectRawAsync(reply, $"the inclusion bundle of {acked.ReceiptId}"));
            var origin = ScrollGenerations.OriginLine(bundle.Checkpoint);
            var verdict = bundle.Verify([NoteVerifierKey.For(origin, _options.Trust.Scroll)]);
            if (!verdict.IsValid || bundle.LeafHash.ToString() != acked.LeafHash || bundle.Index != acked.Seq)
            {
                throw new AgentStoppedException($"receipt {acked.ReceiptId} is not included as acknowledged: {string.Join("; ", verdict.Failures.DefaultIfEmpty($"the bundle proves leaf {bundle.LeafHash} at {bundle.Index}, the ack said {acked.LeafHash} at {acked.Seq}"))}");
            }

            _cache.Acked[i] = acked with { Included = true };
            _cache.Save();
            Say($"receipt {acked.ReceiptId} included (checkpoint size {verdict.Checkpoint!.Size}, signed by the trusted scroll key)");
        }
    }

    /// <summary>No coordinator answers: the local cycle goes on every <see cref="AgentOptions.OfflineCycle"/>, its signed update cached.</summary>
    private async Task OfflineCycleAsync(CancellationToken ct)
    {
        if (_policy is null || _cache.LedgerBlockId is null || _cache.StateHash is null || DateTimeOffset.UtcNow - _lastOfflineCycle < _options.OfflineCycle)
        {
            return;
        }

        _lastOfflineCycle = DateTimeOffset.UtcNow;
        var epoch = Math.Max(_offlineEpoch, _cache.LastSubmittedEpoch + 1);
        while (_cache.PendingFor(epoch) is not null)
        {
            epoch++;
        }

        var stateHash = Sha256Digest.Parse(_cache.StateHash);
        var delta = await _options.Cycle.RunAsync(new CycleInput(_policy, Node, epoch, stateHash, _cache.Aggregate), ct);
        _cache.AddPending(epoch, SignUpdate(epoch, stateHash, delta));
        _offlineEpoch = epoch + 1;
        Say($"offline: local cycle for epoch {epoch} cached ({_cache.Pending().Count} cached)");
    }

    private Checkpoint OpenCheckpoint(string note)
    {
        try
        {
            return Checkpoint.Open(note, [NoteVerifierKey.For(ScrollGenerations.OriginLine(note), _options.Trust.Scroll)]).Checkpoint;
        }
        catch (Exception ex) when (ex is FormatException or NoteVerificationException)
        {
            throw new AgentStoppedException($"the {_updates} checkpoint served does not verify with the trusted scroll key: {ex.Message}");
        }
    }

    private async Task<JsonObject> ExpectAsync(CoordinatorReply reply, string what) =>
        JsonNode.Parse(await ExpectRawAsync(reply, what)) as JsonObject ?? throw new AgentStoppedException($"{reply.Coordinator}: {what} is not a JSON object");

    /// <summary>The body of a 2xx answer; a 5xx one is the coordinator's trouble, tried again next round; any other stops the agent.</summary>
    private static Task<byte[]> ExpectRawAsync(CoordinatorReply reply, string what) =>
        reply.Ok ? Task.FromResult(reply.Body)
        : (int)reply.Status >= 500 ? throw new CoordinatorTroubleException($"{reply.Coordinator}: {what}: {reply}")
        : throw new AgentStoppedException($"{reply.Coordinator}: {what}: {reply}");

    private static void Refused(string what, CoordinatorReply reply) =>
        throw new AgentStoppedException($"{what} refused by {reply.Coordinator}: {reply}");

    private byte[] Sign<T>(T payload) => SignedEnvelope.Sign(payload, _signer).ToCanonicalJson();

    private void Say(string line)
    {
        _lastRefusal = null;
        _say(line);
    }

    private void SayOnce(string line)
    {
        if (line != _lastRefusal)
        {
            _say(line);
            _lastRefusal = line;
        }
    }

    public void Dispose() => _client.Dispose();
}

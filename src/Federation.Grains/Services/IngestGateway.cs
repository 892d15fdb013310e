using Federation.Core.Ingest;
using Federation.Core.Scrolls;

namespace Federation.Grains.Services;

/// <summary>
/// The door for signed updates of one federation (the tenant comes from the caller's scope, never from the
/// message). The stateless work — size, parse, signature — runs here on the caller's thread, in parallel;
/// the node's grain then decides with the federation's state and seals.
/// </summary>
/// <param name="admission">Each node's request budget (the HTTP service's per-node rate limit); null admits everything.</param>
public sealed class IngestGateway(IGrainFactory grains, FederationDirectory federations, INodeAdmission? admission = null)
{
    /// <summary>The refusal code of an update over its node's rate (HTTP 429 with Retry-After).</summary>
    public const string RateLimitedCode = "rate_limited";

    /// <summary>Bound on cached node keys and grain references; past it a cache starts over (nothing is lost).</summary>
    public const int MaxCachedKeys = 1_000_000;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Core.Crypto.KeyFingerprint, Core.Crypto.Ed25519PublicKey> _keys = new();
    private Func<Core.Crypto.KeyFingerprint, Core.Crypto.Ed25519PublicKey>? _resolveKey;

    private Core.Crypto.Ed25519PublicKey ResolveKey(Core.Crypto.KeyFingerprint fingerprint)
    {
        if (_keys.TryGetValue(fingerprint, out var key))
        {
            return key;
        }

        if (_keys.Count >= MaxCachedKeys)
        {
            _keys.Clear();
        }

        return _keys.GetOrAdd(fingerprint, Core.Crypto.Ed25519PublicKey.FromFingerprint);
    }

    // Node grain references, reused: a hot reference remembers its activation (no catalog lookup, no new proxy).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Federation, Core.Crypto.KeyFingerprint Node), INodeGrain> _nodes = new();

    private INodeGrain NodeGrain(string federationId, Core.Crypto.KeyFingerprint node)
    {
        if (_nodes.TryGetValue((federationId, node), out var grain))
        {
            return grain;
        }

        if (_nodes.Count >= MaxCachedKeys)
        {
            _nodes.Clear();
        }

        return _nodes.GetOrAdd((federationId, node), key => grains.GetGrain<INodeGrain>(NodeKey.For(key.Federation, key.Node)));
    }

    /// <summary>The signed hashes of each node's last sealed updates, for the rate limit's replay exemption.</summary>
    private const int RecentPerNode = 16;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Federation, Core.Crypto.KeyFingerprint Node), Queue<Core.Hashing.Sha256Digest>> _recent = new();

    private bool SeenRecently(string federationId, Core.Crypto.KeyFingerprint node, Core.Hashing.Sha256Digest signedHash)
    {
        if (!_recent.TryGetValue((federationId, node), out var recent))
        {
            return false;
        }

        lock (recent)
        {
            return recent.Contains(signedHash);
        }
    }

    private void Remember(string federationId, Core.Crypto.KeyFingerprint node, Core.Hashing.Sha256Digest signedHash)
    {
        if (_recent.Count >= MaxCachedKeys)
        {
            _recent.Clear();
        }

        var recent = _recent.GetOrAdd((federationId, node), _ => new Queue<Core.Hashing.Sha256Digest>(RecentPerNode));
        lock (recent)
        {
            if (!recent.Contains(signedHash))
            {
                if (recent.Count == RecentPerNode)
                {
                    recent.Dequeue();
                }

                recent.Enqueue(signedHash);
            }
        }
    }

    /// <summary>Verifies, decides and seals one signed update. The gateway keeps <paramref name="signedUpdate"/>: do not change it afterwards.</summary>
    public async Task<UpdateAck> SubmitAsync(string federationId, byte[] signedUpdate)
    {
        var settings = federations.Get(federationId);
        // The gateway owns the message from here (callers hand it over; see SubmitAsync's contract).
        var (verified, refusal) = UpdateValidator.VerifyOwned(signedUpdate, settings.Policy, _resolveKey ??= ResolveKey);
        if (refusal is not null)
        {
            // Nothing trustworthy names a node yet: log the refusal against the federation only.
            await grains.GetGrain<IScrollGrain>(FederationScrolls.Verification(federationId))
                .AppendAsync(VerificationReceipts.Refused(VerificationReceipts.UpdateRefusedType, refusal.CodeName!, refusal.Message, signedUpdate));
            return new UpdateAck(Disposition.Refused, refusal.CodeName, refusal.Message);
        }

        if (verified!.Update.FederationId != federationId)
        {
            var message = $"the update is for federation \"{verified.Update.FederationId}\", not \"{federationId}\"";
            return new UpdateAck(Disposition.Refused, IngestDecision.WireName(RefusalCode.WrongFederation), message);
        }

        var node = verified.Update.NodeFingerprint;
        // A replay of one of the node's recent updates (anyone can fetch them from the scroll) does not spend its budget:
        // the node grain answers it "duplicate" without deciding anything.
        if (admission is not null && !SeenRecently(federationId, node, verified.SignedHash) && !admission.TryAdmit(federationId, node))
        {
            // Nothing is decided or sealed: the node sends it again after Retry-After.
            return new UpdateAck(Disposition.Refused, RateLimitedCode, $"node {node.Short} is over its request rate; retry after a second");
        }

        var ack = await NodeGrain(federationId, node).SubmitAsync(verified);
        if (admission is not null && ack.Disposition is Disposition.Accepted or Disposition.Late or Disposition.Duplicate)
        {
            Remember(federationId, node, verified.SignedHash);
        }

        return ack;
    }

    public Task<HeartbeatAck> HeartbeatAsync(string federationId, Core.Crypto.KeyFingerprint node, byte[] signedHeartbeat)
    {
        federations.Get(federationId);
        return grains.GetGrain<INodeGrain>(NodeKey.For(federationId, node)).HeartbeatAsync(signedHeartbeat);
    }
}

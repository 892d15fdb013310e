using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Checkpoints;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Merkle;
using Federation.Core.Protocol;
using Federation.Core.Signing;

namespace Federation.Core.Membership;

/// <summary>
/// Evidence that a node's reported ledger head contradicts the coordinator's scroll: the node's signed
/// heartbeat (size S, root R), the coordinator's signed checkpoint at size N ≥ S, and an RFC 9162
/// consistency proof from size S with the coordinator's root at S to that checkpoint. If the proof
/// verifies and that root is not R, the node's head is not a prefix of the log. Verifiable offline.
/// </summary>
public sealed record LedgerDivergenceEvidence(SignedEnvelope Heartbeat, string Checkpoint, Sha256Digest CoordinatorRootAtSize, IReadOnlyList<Sha256Digest> ConsistencyProof)
{
    public const string Type = "ledger_divergence_evidence";

    public JsonObject ToJson() => new()
    {
        ["type"] = Type,
        ["heartbeat"] = CanonicalJson.Parse(Heartbeat.ToCanonicalJson()),
        ["checkpoint"] = Checkpoint,
        ["coordinator_root_at_size"] = CoordinatorRootAtSize.ToHex(),
        ["consistency_proof"] = new JsonArray(ConsistencyProof.Select(p => (JsonNode?)JsonValue.Create(p.ToHex())).ToArray()),
    };

    public Sha256Digest Hash() => Sha256Digest.Of(CanonicalJson.Write(ToJson()));

    /// <summary>Checks the evidence with the coordinator's checkpoint key.</summary>
    public IReadOnlyList<string> Verify(IReadOnlyCollection<NoteVerifierKey> coordinatorKeys)
    {
        var failures = new List<string>();
        var heartbeat = Heartbeat.PayloadAs<Heartbeat>();
        if (!Heartbeat.Verify(Ed25519Verifier.Trusting(Ed25519PublicKey.FromFingerprint(heartbeat.NodeFingerprint))).IsValid)
        {
            failures.Add("the heartbeat is not signed by the node it names");
        }

        Checkpoint checkpoint;
        try
        {
            (checkpoint, _) = Checkpoints.Checkpoint.Open(Checkpoint, coordinatorKeys);
        }
        catch (Exception ex) when (ex is FormatException or NoteVerificationException)
        {
            failures.Add($"the checkpoint does not verify: {ex.Message}");
            return failures;
        }

        if (heartbeat.Size > checkpoint.Size)
        {
            failures.Add($"the checkpoint (size {checkpoint.Size}) does not cover the reported size {heartbeat.Size}");
            return failures;
        }

        var consistency = MerkleVerifier.VerifyConsistency(heartbeat.Size, checkpoint.Size, CoordinatorRootAtSize, checkpoint.Root, ConsistencyProof);
        if (!consistency.IsValid)
        {
            failures.Add($"the consistency proof does not verify: {consistency.Error}");
        }

        if (CoordinatorRootAtSize == heartbeat.Root)
        {
            failures.Add("the node's root equals the coordinator's: no divergence");
        }

        return failures;
    }
}

/// <summary>What a ledger-head report means for the node.</summary>
public enum HeadVerdict
{
    /// <summary>The node's head is a prefix of the coordinator's scroll.</summary>
    Consistent,

    /// <summary>The node reports more receipts than the coordinator has: it is ahead or lying; not provable yet.</summary>
    Ahead,

    /// <summary>The node's root at its size differs from the coordinator's: divergence.</summary>
    Divergent,
}

public static class LedgerHeadCheck
{
    /// <summary>Compares a reported head with the coordinator's tree (its root at that size).</summary>
    public static HeadVerdict Check(Heartbeat head, long coordinatorSize, Func<long, Sha256Digest> rootAt)
    {
        if (head.Size > coordinatorSize)
        {
            return HeadVerdict.Ahead;
        }

        return rootAt(head.Size) == head.Root ? HeadVerdict.Consistent : HeadVerdict.Divergent;
    }
}

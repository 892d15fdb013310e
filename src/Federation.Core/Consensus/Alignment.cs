using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Merkle;

namespace Federation.Core.Consensus;

/// <summary>One accepted update of an epoch as the update scroll recorded it.</summary>
/// <param name="Seq">Its receipt's position in the update scroll (the ledger order).</param>
public sealed record EpochUpdate(long Seq, KeyFingerprint Node, Sha256Digest UpdateHash, Sha256Digest BaseStateHash);

public sealed record ExcludedUpdate(long Seq, KeyFingerprint Node, string Reason, string Detail);

/// <summary>An included update and its alignment proof: its inclusion proof against the alignment hash.</summary>
public sealed record AlignedUpdate(int Index, long Seq, KeyFingerprint Node, Sha256Digest UpdateHash, Sha256Digest LeafHash, IReadOnlyList<Sha256Digest> Proof);

public sealed record AlignmentResult(Sha256Digest AlignmentHash, IReadOnlyList<AlignedUpdate> Included, IReadOnlyList<ExcludedUpdate> Excluded)
{
    /// <summary>
    /// The leaf of an included update: the RFC 8785 form of <c>{"node","seq","update_hash"}</c>, so a
    /// verifier checks an alignment proof from the plan alone (docs/formats/consensus.md).
    /// </summary>
    public static byte[] LeafData(long seq, KeyFingerprint node, Sha256Digest updateHash) => CanonicalJson.Write(new JsonObject
    {
        ["node"] = node.ToString(),
        ["seq"] = seq,
        ["update_hash"] = updateHash.ToString(),
    });

    /// <summary>Checks one alignment proof offline.</summary>
    public static ProofCheck VerifyProof(Sha256Digest alignmentHash, int count, AlignedUpdate update)
    {
        var leaf = MerkleHash.Leaf(LeafData(update.Seq, update.Node, update.UpdateHash));
        return leaf != update.LeafHash
            ? ProofCheck.Invalid("the leaf hash is not the hash of the update's node, seq and update hash")
            : MerkleVerifier.VerifyInclusion(update.Index, count, leaf, update.Proof, alignmentHash);
    }
}

/// <summary>
/// dynamic_node_alignment (SPEC A): order the epoch's accepted updates by ledger position, drop exact
/// duplicates, exclude updates built on a stale base state and every update of a node that sent
/// conflicting hashes, or of a node not active at the epoch's start. The included set gets a Merkle root,
/// the epoch's alignment hash, and each included update an inclusion proof against it.
/// </summary>
public static class DynamicNodeAlignment
{
    public const string Duplicate = "duplicate";
    public const string StaleBaseState = "stale_base_state";
    public const string ConflictingHashes = "conflicting_hashes";
    public const string InactiveNode = "inactive_node";

    public static AlignmentResult Align(IReadOnlyList<EpochUpdate> updates, Sha256Digest baseState, IReadOnlySet<KeyFingerprint> activeAtStart)
    {
        var ordered = updates.OrderBy(u => u.Seq).ToList();
        var excluded = new List<ExcludedUpdate>();
        var conflicting = ordered.GroupBy(u => u.Node).Where(g => g.Select(u => u.UpdateHash).Distinct().Count() > 1).Select(g => g.Key).ToHashSet();
        var seen = new HashSet<(KeyFingerprint, Sha256Digest)>();
        var kept = new List<EpochUpdate>();
        foreach (var update in ordered)
        {
            if (conflicting.Contains(update.Node))
            {
                excluded.Add(new(update.Seq, update.Node, ConflictingHashes, "the node's updates for this epoch carry different hashes"));
            }
            else if (!seen.Add((update.Node, update.UpdateHash)))
            {
                excluded.Add(new(update.Seq, update.Node, Duplicate, $"same update as an earlier receipt"));
            }
            else if (!activeAtStart.Contains(update.Node))
            {
                excluded.Add(new(update.Seq, update.Node, InactiveNode, "the node was not active when the epoch opened"));
            }
            else if (update.BaseStateHash != baseState)
            {
                excluded.Add(new(update.Seq, update.Node, StaleBaseState, $"built on {update.BaseStateHash}, the epoch's base state is {baseState}"));
            }
            else
            {
                kept.Add(update);
            }
        }

        var tree = new MerkleTree();
        foreach (var update in kept)
        {
            tree.AppendData(AlignmentResult.LeafData(update.Seq, update.Node, update.UpdateHash));
        }

        var included = kept.Select((u, i) => new AlignedUpdate(i, u.Seq, u.Node, u.UpdateHash, tree.LeafHash(i), tree.InclusionProof(i, tree.Size))).ToList();
        return new AlignmentResult(tree.Root(), included, excluded);
    }
}

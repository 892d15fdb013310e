using Federation.Core.Hashing;

namespace Federation.Core.Merkle;

/// <summary>The result of a proof check; <see cref="Error"/> says why a proof failed.</summary>
public readonly record struct ProofCheck(bool IsValid, string? Error)
{
    public static ProofCheck Valid { get; } = new(true, null);

    public static ProofCheck Invalid(string error) => new(false, error);
}

/// <summary>
/// Offline verification of inclusion and consistency proofs (RFC 9162 §2.1.3.2 and §2.1.4.2).
/// Needs nothing but the hashes: this is what an independent verifier implements.
/// </summary>
public static class MerkleVerifier
{
    /// <summary>RFC 9162 §2.1.3.2: does <paramref name="leafHash"/> sit at <paramref name="index"/> in the tree of <paramref name="root"/>?</summary>
    public static ProofCheck VerifyInclusion(long index, long size, in Sha256Digest leafHash, IReadOnlyList<Sha256Digest> proof, in Sha256Digest root)
    {
        if (index < 0 || index >= size)
        {
            return ProofCheck.Invalid($"leaf index {index} is not below the tree size {size}");
        }

        var computed = RootFromInclusionProof(index, size, leafHash, proof, out var error);
        if (error is not null)
        {
            return ProofCheck.Invalid(error);
        }

        return computed == root
            ? ProofCheck.Valid
            : ProofCheck.Invalid($"the proof gives root {computed.ToHex()}, expected {root.ToHex()}");
    }

    private static Sha256Digest RootFromInclusionProof(long index, long size, in Sha256Digest leafHash, IReadOnlyList<Sha256Digest> proof, out string? error)
    {
        error = null;
        long fn = index, sn = size - 1;
        var r = leafHash;
        foreach (var p in proof)
        {
            if (sn == 0)
            {
                error = $"the proof has {proof.Count} hashes, more than a tree of {size} needs";
                return default;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = MerkleHash.Node(p, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                r = MerkleHash.Node(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            error = $"the proof has {proof.Count} hashes, fewer than a tree of {size} needs";
        }

        return r;
    }

    /// <summary>RFC 9162 §2.1.4.2: is the tree of <paramref name="secondRoot"/> an append-only extension of that of <paramref name="firstRoot"/>?</summary>
    public static ProofCheck VerifyConsistency(long first, long second, in Sha256Digest firstRoot, in Sha256Digest secondRoot, IReadOnlyList<Sha256Digest> proof)
    {
        if (first < 0 || second < first)
        {
            return ProofCheck.Invalid($"tree size {second} is smaller than {first}: a log never shrinks");
        }

        if (first == second)
        {
            if (proof.Count != 0)
            {
                return ProofCheck.Invalid("equal tree sizes need an empty proof");
            }

            return firstRoot == secondRoot
                ? ProofCheck.Valid
                : ProofCheck.Invalid($"two different roots for the same size {first}: {firstRoot.ToHex()} and {secondRoot.ToHex()}");
        }

        if (first == 0)
        {
            return proof.Count == 0 ? ProofCheck.Valid : ProofCheck.Invalid("a proof from the empty tree must be empty");
        }

        if (proof.Count == 0)
        {
            return ProofCheck.Invalid("the consistency proof is empty");
        }

        // Step 2: when the first size is a power of two, its root is the first node of the path.
        var path = new List<Sha256Digest>(proof.Count + 1);
        if ((first & (first - 1)) == 0)
        {
            path.Add(firstRoot);
        }

        path.AddRange(proof);

        long fn = first - 1, sn = second - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        Sha256Digest fr = path[0], sr = path[0];
        for (var i = 1; i < path.Count; i++)
        {
            var c = path[i];
            if (sn == 0)
            {
                return ProofCheck.Invalid($"the proof has {proof.Count} hashes, more than sizes {first} → {second} need");
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                fr = MerkleHash.Node(c, fr);
                sr = MerkleHash.Node(c, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                sr = MerkleHash.Node(sr, c);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            return ProofCheck.Invalid($"the proof has {proof.Count} hashes, fewer than sizes {first} → {second} need");
        }

        if (fr != firstRoot)
        {
            return ProofCheck.Invalid($"the proof does not lead to the first root {firstRoot.ToHex()} (got {fr.ToHex()})");
        }

        return sr == secondRoot
            ? ProofCheck.Valid
            : ProofCheck.Invalid($"the proof does not lead to the second root {secondRoot.ToHex()} (got {sr.ToHex()})");
    }
}

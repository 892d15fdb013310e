using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Checkpoints;
using Federation.Core.Hashing;
using Federation.Core.Merkle;

namespace Federation.Core.Scrolls;

/// <summary>
/// Everything needed to verify one receipt offline (docs/formats/inclusion-bundle.md): the receipt
/// line, its leaf hash, its inclusion proof, and the signed checkpoint the proof leads to.
/// </summary>
public sealed record InclusionBundle(string Scroll, long Index, string Line, Sha256Digest LeafHash, IReadOnlyList<Sha256Digest> Proof, string Checkpoint)
{
    public const string FormatName = "fed-inclusion-bundle/v1";

    /// <summary>The origin generation of the checkpoint (<see cref="ScrollGenerations"/>), or null when its origin is not the scroll's.</summary>
    public int? Generation() => ScrollGenerations.OfScroll(ScrollGenerations.OriginLine(Checkpoint), Scroll);

    /// <summary>The generation the bundle's JSON states (bundles before generations have none).</summary>
    public int? StatedGeneration { get; init; }

    public JsonObject ToJson() => new()
    {
        ["format"] = FormatName,
        ["scroll"] = Scroll,
        ["index"] = Index,
        ["line"] = Line,
        ["leaf_hash"] = LeafHash.ToHex(),
        ["proof"] = new JsonArray(Proof.Select(p => (JsonNode?)JsonValue.Create(p.ToHex())).ToArray()),
        ["checkpoint"] = Checkpoint,
        ["generation"] = Generation(),
    };

    public static InclusionBundle FromJson(ReadOnlySpan<byte> utf8)
    {
        var obj = CanonicalJson.Parse(utf8) as JsonObject ?? throw new FormatException("a bundle must be a JSON object");
        string Str(string name) => obj[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new FormatException($"bundle member \"{name}\" must be a string");
        if (Str("format") != FormatName)
        {
            throw new FormatException($"unsupported bundle format \"{Str("format")}\" (expected {FormatName})");
        }

        var index = obj["index"] is JsonValue iv && iv.TryGetValue<double>(out var d) && d >= 0 && d == Math.Floor(d) ? (long)d : throw new FormatException("bundle member \"index\" must be a non-negative integer");
        var proof = obj["proof"] as JsonArray ?? throw new FormatException("bundle member \"proof\" must be an array of hex hashes");
        return new InclusionBundle(
            Str("scroll"),
            index,
            Str("line"),
            Sha256Digest.ParseHex(Str("leaf_hash")),
            proof.Select(p => Sha256Digest.ParseHex(p is JsonValue pv && pv.TryGetValue<string>(out var s) ? s : throw new FormatException("proof entries must be hex strings"))).ToList(),
            Str("checkpoint"))
        {
            StatedGeneration = obj["generation"] switch
            {
                null => null,
                JsonValue g when g.TryGetValue<double>(out var n) && n >= 1 && n <= int.MaxValue && n == Math.Floor(n) => (int)n,
                _ => throw new FormatException("bundle member \"generation\" must be a positive integer"),
            },
        };
    }

    /// <summary>
    /// Verifies the bundle with nothing but the checkpoint signer's key: the note signature, the
    /// line's leaf hash, the receipt's own seq and scroll, and the inclusion proof against the root.
    /// </summary>
    public BundleVerification Verify(IReadOnlyCollection<NoteVerifierKey> keys)
    {
        var failures = new List<string>();
        Checkpoint checkpoint;
        try
        {
            (checkpoint, _) = Checkpoints.Checkpoint.Open(Checkpoint, keys);
        }
        catch (Exception ex) when (ex is FormatException or NoteVerificationException)
        {
            return new BundleVerification([$"checkpoint: {ex.Message}"]);
        }

        var generation = ScrollGenerations.OfScroll(checkpoint.Origin, Scroll);
        if (generation is null)
        {
            failures.Add($"checkpoint: its origin \"{checkpoint.Origin}\" is not one of scroll \"{Scroll}\"'s");
        }
        else if (StatedGeneration is { } stated && stated != generation)
        {
            failures.Add($"generation: the bundle says {stated}, the checkpoint's origin is of generation {generation}");
        }

        var lineBytes = Encoding.UTF8.GetBytes(Line);
        var leaf = MerkleHash.Leaf(lineBytes);
        if (leaf != LeafHash)
        {
            failures.Add($"leaf hash: the line hashes to {leaf.ToHex()}, the bundle says {LeafHash.ToHex()}");
        }

        try
        {
            var receipt = Receipt.Parse(lineBytes);
            if (receipt.Seq != Index)
            {
                failures.Add($"receipt: its seq is {receipt.Seq} but the bundle proves index {Index}");
            }

            if (receipt.Scroll != Scroll)
            {
                failures.Add($"receipt: it belongs to scroll \"{receipt.Scroll}\", not \"{Scroll}\"");
            }
        }
        catch (FormatException ex)
        {
            failures.Add($"receipt: {ex.Message}");
        }

        var inclusion = MerkleVerifier.VerifyInclusion(Index, checkpoint.Size, leaf, Proof, checkpoint.Root);
        if (!inclusion.IsValid)
        {
            failures.Add($"inclusion proof: {inclusion.Error}");
        }

        return new BundleVerification(failures) { Checkpoint = checkpoint };
    }
}

public sealed record BundleVerification(IReadOnlyList<string> Failures)
{
    public bool IsValid => Failures.Count == 0;

    public Checkpoint? Checkpoint { get; init; }
}

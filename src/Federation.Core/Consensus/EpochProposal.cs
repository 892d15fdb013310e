using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Crypto;
using Federation.Core.Hashing;

namespace Federation.Core.Consensus;

/// <summary>A node quarantined by an epoch's decision, with the hash of its evidence.</summary>
public sealed record QuarantineEntry(KeyFingerprint Node, string Reason, Sha256Digest EvidenceHash);

/// <summary>
/// What the validators agree on for an epoch (the PBFT pre-prepare's digest is the SHA-256 of its
/// RFC 8785 form): the alignment hash, who was included and excluded (with reasons), who is quarantined,
/// the aggregate's hash and the new global state hash. Every validator recomputes it from the update scroll.
/// </summary>
public sealed record EpochProposal(
    long Epoch,
    Sha256Digest BaseStateHash,
    Sha256Digest AlignmentHash,
    IReadOnlyList<KeyFingerprint> Included,
    IReadOnlyList<ExcludedUpdate> Excluded,
    IReadOnlyList<QuarantineEntry> Quarantined,
    Sha256Digest AggregateHash)
{
    /// <summary>The global state advances as a hash chain: H(base state ‖ epoch ‖ aggregate hash), canonically encoded.</summary>
    public Sha256Digest NewStateHash => NextState(BaseStateHash, Epoch, AggregateHash);

    public static Sha256Digest NextState(Sha256Digest previous, long epoch, Sha256Digest aggregate) =>
        Sha256Digest.Of(CanonicalJson.Write(new JsonObject { ["aggregate_hash"] = aggregate.ToString(), ["epoch"] = epoch, ["previous_state"] = previous.ToString() }));

    /// <summary>The genesis state of a federation: a hash of its id.</summary>
    public static Sha256Digest Genesis(string federationId) =>
        Sha256Digest.Of(CanonicalJson.Write(new JsonObject { ["federation_id"] = federationId, ["genesis"] = true }));

    public JsonObject ToJson() => new()
    {
        ["epoch"] = Epoch,
        ["base_state_hash"] = BaseStateHash.ToString(),
        ["alignment_hash"] = AlignmentHash.ToString(),
        ["included"] = new JsonArray(Included.Select(n => (JsonNode?)JsonValue.Create(n.ToString())).ToArray()),
        ["excluded"] = new JsonArray(Excluded.Select(e => (JsonNode?)new JsonObject { ["node"] = e.Node.ToString(), ["seq"] = e.Seq, ["reason"] = e.Reason, ["detail"] = e.Detail }).ToArray()),
        ["quarantined"] = new JsonArray(Quarantined.Select(q => (JsonNode?)new JsonObject { ["node"] = q.Node.ToString(), ["reason"] = q.Reason, ["evidence_hash"] = q.EvidenceHash.ToString() }).ToArray()),
        ["aggregate_hash"] = AggregateHash.ToString(),
        ["new_state_hash"] = NewStateHash.ToString(),
    };

    public Sha256Digest Digest() => Sha256Digest.Of(CanonicalJson.Write(ToJson()));

    /// <summary>Reads the form <see cref="ToJson"/> writes (an <c>epoch_committed</c> receipt's <c>proposal</c>); the stated new state hash must be the computed one.</summary>
    /// <exception cref="FormatException">A member is missing or malformed (the message names it).</exception>
    public static EpochProposal FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode Member(string name) => json[name] ?? throw new FormatException($"proposal member \"{name}\" is missing");
        string Text(JsonNode? node, string name) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new FormatException($"proposal member \"{name}\" must be a string");
        long Integer(JsonNode? node, string name) => node is JsonValue v && v.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) < 1e15 ? (long)d : throw new FormatException($"proposal member \"{name}\" must be an integer");
        JsonArray Array(string name) => Member(name) as JsonArray ?? throw new FormatException($"proposal member \"{name}\" must be an array");
        JsonObject Object(JsonNode? node, string name) => node as JsonObject ?? throw new FormatException($"an entry of proposal member \"{name}\" must be an object");

        var proposal = new EpochProposal(
            Integer(Member("epoch"), "epoch"),
            Sha256Digest.Parse(Text(Member("base_state_hash"), "base_state_hash")),
            Sha256Digest.Parse(Text(Member("alignment_hash"), "alignment_hash")),
            [.. Array("included").Select(n => KeyFingerprint.Parse(Text(n, "included")))],
            [.. Array("excluded").Select(n => Object(n, "excluded")).Select(e => new ExcludedUpdate(Integer(e["seq"], "excluded.seq"), KeyFingerprint.Parse(Text(e["node"], "excluded.node")), Text(e["reason"], "excluded.reason"), Text(e["detail"], "excluded.detail")))],
            [.. Array("quarantined").Select(n => Object(n, "quarantined")).Select(q => new QuarantineEntry(KeyFingerprint.Parse(Text(q["node"], "quarantined.node")), Text(q["reason"], "quarantined.reason"), Sha256Digest.Parse(Text(q["evidence_hash"], "quarantined.evidence_hash"))))],
            Sha256Digest.Parse(Text(Member("aggregate_hash"), "aggregate_hash")));
        if (Text(Member("new_state_hash"), "new_state_hash") != proposal.NewStateHash.ToString())
        {
            throw new FormatException($"proposal of epoch {proposal.Epoch}: new_state_hash is not the hash chain of its base state, epoch and aggregate hash");
        }

        return proposal;
    }
}

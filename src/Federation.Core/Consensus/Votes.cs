using System.Text.Json.Nodes;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Signing;

namespace Federation.Core.Consensus;

public enum VotePhase
{
    PrePrepare,
    Prepare,
    Commit,
}

/// <summary>
/// A signed PBFT vote (docs/formats/consensus.md). The payload is exactly
/// <c>{"digest","epoch","phase","validator","view"}</c>; the Ed25519 signature covers its RFC 8785 form.
/// </summary>
public sealed record Vote(VotePhase Phase, long Epoch, long View, Sha256Digest Digest, string Validator, SignedEnvelope Signed)
{
    public static string PhaseName(VotePhase phase) => phase switch
    {
        VotePhase.PrePrepare => "pre-prepare",
        VotePhase.Prepare => "prepare",
        _ => "commit",
    };

    public static JsonObject Payload(VotePhase phase, long epoch, long view, Sha256Digest digest, string validator) => new()
    {
        ["digest"] = digest.ToString(),
        ["epoch"] = epoch,
        ["phase"] = PhaseName(phase),
        ["validator"] = validator,
        ["view"] = view,
    };

    public static Vote Create(VotePhase phase, long epoch, long view, Sha256Digest digest, string validator, ISigner signer) =>
        new(phase, epoch, view, digest, validator, SignedEnvelope.Sign(Payload(phase, epoch, view, digest, validator), signer));

    /// <summary>Reads a vote and checks its signature against the validator set; the message says what is wrong.</summary>
    public static Vote Open(SignedEnvelope signed, ValidatorSet validators)
    {
        var p = signed.Payload;
        foreach (var (name, _) in p)
        {
            if (name is not ("digest" or "epoch" or "phase" or "validator" or "view"))
            {
                throw new FormatException($"unexpected vote member \"{name}\"");
            }
        }

        var phase = (p["phase"] as JsonValue)?.GetValue<string>() switch
        {
            "pre-prepare" => VotePhase.PrePrepare,
            "prepare" => VotePhase.Prepare,
            "commit" => VotePhase.Commit,
            var other => throw new FormatException($"unknown vote phase \"{other}\""),
        };
        var epoch = Integer(p, "epoch");
        var view = Integer(p, "view");
        var digest = Sha256Digest.Parse((p["digest"] as JsonValue)?.GetValue<string>() ?? throw new FormatException("vote digest missing"));
        var validator = (p["validator"] as JsonValue)?.GetValue<string>() ?? throw new FormatException("vote validator missing");
        var key = validators.KeyOf(validator) ?? throw new FormatException($"\"{validator}\" is not a validator of this set");
        var check = signed.Verify(Ed25519Verifier.Trusting(key));
        if (!check.IsValid)
        {
            throw new FormatException($"the vote of {validator} does not verify: {check.Detail}");
        }

        return new Vote(phase, epoch, view, digest, validator, signed);
    }

    internal static long Integer(JsonObject obj, string name) =>
        obj[name] is JsonValue v && v.TryGetValue<double>(out var d) && d >= 0 && d == Math.Floor(d) ? (long)d : throw new FormatException($"\"{name}\" must be a non-negative integer");
}

/// <summary>The validators of a federation: n = 3f + 1 (n ≥ 4), in a fixed order; the primary of view v is validator v mod n.</summary>
public sealed class ValidatorSet
{
    private readonly Dictionary<string, Ed25519PublicKey> _keys;

    public ValidatorSet(IReadOnlyList<(string Id, Ed25519PublicKey Key)> validators)
    {
        if (validators.Count < 4 || (validators.Count - 1) % 3 != 0)
        {
            throw new ArgumentException($"a validator set needs n = 3f + 1 ≥ 4 members, got {validators.Count}");
        }

        Ids = validators.Select(v => v.Id).ToList();
        _keys = validators.ToDictionary(v => v.Id, v => v.Key, StringComparer.Ordinal);
        if (_keys.Count != validators.Count)
        {
            throw new ArgumentException("validator ids must be distinct");
        }
    }

    public IReadOnlyList<string> Ids { get; }

    public int N => Ids.Count;

    public int F => (N - 1) / 3;

    /// <summary>Matching prepares needed (besides the pre-prepare) to be prepared.</summary>
    public int PrepareQuorum => 2 * F;

    /// <summary>Matching commits needed to commit; also the size of a view-change quorum.</summary>
    public int CommitQuorum => 2 * F + 1;

    public string PrimaryOf(long view) => Ids[(int)(view % N)];

    public Ed25519PublicKey? KeyOf(string id) => _keys.GetValueOrDefault(id);
}

/// <summary>Two different votes one validator signed for the same epoch, view and phase: self-contained evidence.</summary>
public sealed record VoteEquivocation(Vote First, Vote Second)
{
    public const string Type = "vote_equivocation_evidence";

    public JsonObject ToJson() => new()
    {
        ["type"] = Type,
        ["validator"] = First.Validator,
        ["first"] = Canonical.CanonicalJson.Parse(First.Signed.ToCanonicalJson()),
        ["second"] = Canonical.CanonicalJson.Parse(Second.Signed.ToCanonicalJson()),
    };

    /// <summary>Checks the evidence against the validator set, offline.</summary>
    public IReadOnlyList<string> Verify(ValidatorSet validators)
    {
        try
        {
            var a = Vote.Open(First.Signed, validators);
            var b = Vote.Open(Second.Signed, validators);
            var failures = new List<string>();
            if (a.Validator != b.Validator || a.Epoch != b.Epoch || a.View != b.View || a.Phase != b.Phase)
            {
                failures.Add("the votes differ in validator, epoch, view or phase");
            }

            if (a.Digest == b.Digest)
            {
                failures.Add("the votes are for the same digest");
            }

            return failures;
        }
        catch (FormatException ex)
        {
            return [ex.Message];
        }
    }
}

/// <summary>The 2f + 1 signed commit votes that prove an epoch's decision.</summary>
public static class CommitCertificate
{
    /// <summary>Checks a certificate offline: distinct validators of the set, valid signatures, all commit votes for this epoch and digest in one view.</summary>
    public static IReadOnlyList<string> Verify(IReadOnlyList<SignedEnvelope> votes, ValidatorSet validators, long epoch, Sha256Digest digest)
    {
        var failures = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long? view = null;
        foreach (var signed in votes)
        {
            Vote vote;
            try
            {
                vote = Vote.Open(signed, validators);
            }
            catch (FormatException ex)
            {
                failures.Add(ex.Message);
                continue;
            }

            if (vote.Phase != VotePhase.Commit || vote.Epoch != epoch || vote.Digest != digest)
            {
                failures.Add($"the vote of {vote.Validator} is a {Vote.PhaseName(vote.Phase)} for epoch {vote.Epoch} and {vote.Digest}, not a commit for epoch {epoch} and {digest}");
                continue;
            }

            if (view is not null && vote.View != view)
            {
                failures.Add($"the vote of {vote.Validator} is from view {vote.View}, the others from view {view}");
                continue;
            }

            view = vote.View;
            if (!seen.Add(vote.Validator))
            {
                failures.Add($"{vote.Validator} is counted twice");
            }
        }

        if (seen.Count < validators.CommitQuorum)
        {
            failures.Add($"{seen.Count} distinct valid commit votes, {validators.CommitQuorum} (2f + 1) needed");
        }

        return failures;
    }
}

using System.Text.Json.Nodes;
using Federation.Core.Crypto;
using Federation.Core.Signing;

namespace Federation.Core.Governance;

/// <summary>What a reviewer decides about a quarantine case (SPEC D human review).</summary>
public enum VerdictKind
{
    /// <summary>The node returns to active.</summary>
    Approve,

    /// <summary>The node is excluded and its key revoked.</summary>
    Reject,
}

/// <summary>Why a verdict was refused: one stable code per reason (docs/formats/review-verdict.md).</summary>
public static class ReviewRefusal
{
    public const string MalformedVerdict = "malformed_verdict";
    public const string BadSignature = "bad_signature";
    public const string NotAReviewer = "not_a_reviewer";
    public const string WrongFederation = "wrong_federation";
    public const string UnknownCase = "unknown_case";
    public const string CaseMismatch = "case_mismatch";
    public const string CaseDecided = "case_decided";
}

public sealed class ReviewRefusedException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>
/// A reviewer's signed verdict on a quarantine case: the payload of a signed envelope
/// (docs/formats/review-verdict.md). The case id is the evidence receipt's id (<c>&lt;fed&gt;.governance:&lt;seq&gt;</c>).
/// </summary>
public sealed record ReviewVerdict(string FederationId, string Case, KeyFingerprint Node, VerdictKind Verdict, string Reason, KeyFingerprint Reviewer, string EvidenceReceipt)
{
    public const string Type = "review_verdict";

    /// <summary>A reason is for people: required, and bounded like every other input.</summary>
    public const int MaxReasonLength = 2000;

    private static readonly string[] Members = ["type", "federation_id", "case", "node", "verdict", "reason", "reviewer", "evidence_receipt"];

    public static string VerdictName(VerdictKind verdict) => verdict == VerdictKind.Approve ? "approve" : "reject";

    public JsonObject ToPayload() => new()
    {
        ["type"] = Type,
        ["federation_id"] = FederationId,
        ["case"] = Case,
        ["node"] = Node.ToString(),
        ["verdict"] = VerdictName(Verdict),
        ["reason"] = Reason,
        ["reviewer"] = Reviewer.ToString(),
        ["evidence_receipt"] = EvidenceReceipt,
    };

    /// <summary>Signs the verdict with the reviewer's key (the reviewer named in the payload must be that key).</summary>
    public static SignedEnvelope Sign(ReviewVerdict verdict, Ed25519PrivateKey reviewerKey)
    {
        if (verdict.Reviewer != reviewerKey.Fingerprint)
        {
            throw new ArgumentException($"the verdict names reviewer {verdict.Reviewer} but is signed with {reviewerKey.Fingerprint}");
        }

        return SignedEnvelope.Sign(verdict.ToPayload(), new Ed25519Signer(reviewerKey));
    }

    /// <summary>
    /// Parses a signed verdict and checks what needs no case state: shape, that the signer is the named reviewer,
    /// that the reviewer is one of <paramref name="reviewers"/>, and the signature. Refusals carry a code.
    /// </summary>
    public static (SignedEnvelope Envelope, ReviewVerdict Verdict) Open(ReadOnlySpan<byte> signed, IReadOnlyCollection<Ed25519PublicKey> reviewers)
    {
        SignedEnvelope envelope;
        ReviewVerdict verdict;
        try
        {
            envelope = SignedEnvelope.Parse(signed);
            verdict = FromPayload(envelope.Payload);
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or InvalidOperationException or Canonical.CanonicalJsonException)
        {
            throw new ReviewRefusedException(ReviewRefusal.MalformedVerdict, $"the verdict is malformed: {ex.Message}");
        }

        if (envelope.Signature.Algorithm != SignatureBlock.Ed25519 || envelope.Signature.KeyId != verdict.Reviewer.Hex)
        {
            throw new ReviewRefusedException(ReviewRefusal.BadSignature, $"the verdict names reviewer {verdict.Reviewer} but its signature is not by that key");
        }

        var reviewer = reviewers.FirstOrDefault(k => k.Fingerprint == verdict.Reviewer)
            ?? throw new ReviewRefusedException(ReviewRefusal.NotAReviewer, $"{verdict.Reviewer} is not a reviewer of federation \"{verdict.FederationId}\": its verdict is refused");
        var check = envelope.Verify(Ed25519Verifier.Trusting(reviewer));
        if (!check.IsValid)
        {
            throw new ReviewRefusedException(ReviewRefusal.BadSignature, $"the verdict's signature does not verify: {check.Detail}");
        }

        return (envelope, verdict);
    }

    private static ReviewVerdict FromPayload(JsonObject payload)
    {
        var unknown = payload.Select(p => p.Key).Except(Members).ToList();
        if (unknown.Count > 0)
        {
            throw new FormatException($"unknown member(s) {string.Join(", ", unknown)}");
        }

        string Text(string name) => payload[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0
            ? text
            : throw new FormatException($"\"{name}\" must be a non-empty string");

        if (Text("type") != Type)
        {
            throw new FormatException($"\"type\" must be \"{Type}\"");
        }

        var verdict = Text("verdict") switch
        {
            "approve" => VerdictKind.Approve,
            "reject" => VerdictKind.Reject,
            var other => throw new FormatException($"\"verdict\" must be \"approve\" or \"reject\", got \"{other}\""),
        };
        var reason = Text("reason");
        if (reason.Length > MaxReasonLength)
        {
            throw new FormatException($"\"reason\" is {reason.Length} characters, over {MaxReasonLength}");
        }

        return new ReviewVerdict(Text("federation_id"), Text("case"), KeyFingerprint.Parse(Text("node")), verdict, reason, KeyFingerprint.Parse(Text("reviewer")), Text("evidence_receipt"));
    }
}

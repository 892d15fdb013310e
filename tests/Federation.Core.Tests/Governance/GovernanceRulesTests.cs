using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Aggregation;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Hashing;
using Federation.Core.Signing;

namespace Federation.Core.Tests.Governance;

public class GovernanceRulesTests
{
    private static byte[] Seed(int n) => Enumerable.Repeat((byte)n, 32).ToArray();

    private static readonly Ed25519PrivateKey Reviewer = Ed25519PrivateKey.FromSeed(Seed(120));
    private static readonly Ed25519PrivateKey Stranger = Ed25519PrivateKey.FromSeed(Seed(121));
    private static readonly KeyFingerprint Node = Ed25519PrivateKey.FromSeed(Seed(1)).Fingerprint;

    private static ReviewVerdict Verdict(Ed25519PrivateKey signer) => new("fed1", "fed1.governance:4", Node, VerdictKind.Reject, "two signed updates for epoch 3", signer.Fingerprint, "fed1.governance:4");

    private static string Code(byte[] signed) =>
        Assert.Throws<ReviewRefusedException>(() => ReviewVerdict.Open(signed, [Reviewer.PublicKey])).Code;

    [Fact]
    public void A_verdict_signed_by_a_configured_reviewer_opens_to_its_payload()
    {
        var (_, verdict) = ReviewVerdict.Open(ReviewVerdict.Sign(Verdict(Reviewer), Reviewer).ToCanonicalJson(), [Reviewer.PublicKey]);
        Assert.Equal(Verdict(Reviewer), verdict);
    }

    [Fact]
    public void Verdicts_are_refused_with_a_code_per_reason()
    {
        Assert.Equal(ReviewRefusal.NotAReviewer, Code(ReviewVerdict.Sign(Verdict(Stranger), Stranger).ToCanonicalJson()));

        var tampered = (JsonObject)JsonNode.Parse(ReviewVerdict.Sign(Verdict(Reviewer), Reviewer).ToCanonicalJson())!;
        tampered["verdict"] = "approve";
        Assert.Equal(ReviewRefusal.BadSignature, Code(Encoding.UTF8.GetBytes(tampered.ToJsonString())));

        // A stranger's signature over a payload naming the reviewer.
        var impersonation = SignedEnvelope.Sign(Verdict(Reviewer).ToPayload(), new Ed25519Signer(Stranger)).ToCanonicalJson();
        Assert.Equal(ReviewRefusal.BadSignature, Code(impersonation));

        var extra = Verdict(Reviewer).ToPayload();
        extra["effective"] = "now";
        Assert.Equal(ReviewRefusal.MalformedVerdict, Code(SignedEnvelope.Sign(extra, new Ed25519Signer(Reviewer)).ToCanonicalJson()));

        var maybe = Verdict(Reviewer).ToPayload();
        maybe["verdict"] = "maybe";
        Assert.Equal(ReviewRefusal.MalformedVerdict, Code(SignedEnvelope.Sign(maybe, new Ed25519Signer(Reviewer)).ToCanonicalJson()));
        Assert.Equal(ReviewRefusal.MalformedVerdict, Code("not json"u8.ToArray()));
    }

    [Theory]
    [InlineData(AdvisoryStatus.Published, AdvisoryStatus.Accepted, true)]
    [InlineData(AdvisoryStatus.Published, AdvisoryStatus.Declined, true)]
    [InlineData(AdvisoryStatus.Accepted, AdvisoryStatus.Declined, false)]
    [InlineData(AdvisoryStatus.Declined, AdvisoryStatus.Accepted, false)]
    [InlineData(AdvisoryStatus.Accepted, AdvisoryStatus.Accepted, false)]
    [InlineData(AdvisoryStatus.Published, AdvisoryStatus.Published, false)]
    public void Only_a_published_advisory_moves_and_only_to_accepted_or_declined(AdvisoryStatus from, AdvisoryStatus to, bool allowed)
    {
        var check = () => Advisories.CheckTransition("adv-1-abc", from, to);
        if (allowed)
        {
            check();
        }
        else
        {
            Assert.Throws<InvalidOperationException>(check);
        }
    }

    [Fact]
    public void Canon_drift_becomes_one_advisory_per_node_and_drift_type_with_stable_ids()
    {
        var a = Ed25519PrivateKey.FromSeed(Seed(2)).Fingerprint.ToString();
        var b = Ed25519PrivateKey.FromSeed(Seed(3)).Fingerprint.ToString();
        var zero = Sha256Digest.Of([]);
        var outcome = new EpochOutcome(
            new EpochProposal(7, zero, zero, [], [], [], zero),
            new AlignmentResult(zero, [], []),
            new JsonObject { ["kind"] = "canon" },
            [],
            [],
            [
                new DriftDetection(a, "sig-2", DriftType.VersionSkew, "revision 1, majority 2"),
                new DriftDetection(a, "sig-1", DriftType.VersionSkew, "revision 3, majority 4"),
                new DriftDetection(b, "sig-1", DriftType.PostureDivergence, "confidence 0.1, majority 0.9 (threshold 0.3)"),
            ],
            new Dictionary<KeyFingerprint, int>());

        var advisories = Advisories.FromOutcome("fed1", outcome);
        Assert.Equal(2, advisories.Count);
        var skew = Assert.Single(advisories, x => x.DriftType == Advisories.VersionSkew);
        Assert.Equal(a, skew.SourceEnv);
        Assert.Equal("sig-1: revision 3, majority 4; sig-2: revision 1, majority 2", skew.Detail);
        Assert.Equal(Advisories.Id("fed1", 7, Advisories.VersionSkew, a), skew.AdvisoryId);
        Assert.StartsWith("adv-7-", skew.AdvisoryId);
        Assert.Equal(AdvisoryStatus.Published, skew.Status);
        Assert.Equal(Advisories.Recommendation(Advisories.PostureDivergence), Assert.Single(advisories, x => x.SourceEnv == b).Recommendation);
        Assert.Equal(advisories.Select(x => x.ToJson().ToJsonString()), Advisories.FromOutcome("fed1", outcome).Select(x => x.ToJson().ToJsonString()));
        Assert.NotEqual(skew.AdvisoryId, Advisories.Id("fed2", 7, Advisories.VersionSkew, a));
    }
}

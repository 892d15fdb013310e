using Orleans.Concurrency;
using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Membership;

namespace Federation.Grains;

/// <summary>
/// A quarantine case: a quarantined node and the evidence receipt that put it there. The case id is that
/// receipt's id (<c>&lt;federation&gt;.governance:&lt;seq&gt;</c>), unique and already scoped by federation.
/// </summary>
/// <param name="Verdict">"approve" or "reject" once decided; null while pending.</param>
[GenerateSerializer, Immutable, Alias("fed.review-case.v1")]
public sealed record ReviewCase([property: Id(0)] string Case, [property: Id(1)] KeyFingerprint Node, [property: Id(2)] string EvidenceType, [property: Id(3)] string Reason, [property: Id(4)] NodeStatus NodeStatus, [property: Id(5)] string? Verdict, [property: Id(6)] string? VerdictReceipt, [property: Id(7)] string? Reviewer);

/// <summary>One receipt of <c>&lt;federation&gt;.governance</c> as a reviewer reads it (the whole line, canonical JSON).</summary>
[GenerateSerializer, Immutable, Alias("fed.governance-entry.v1")]
public sealed record GovernanceEntry([property: Id(0)] string Id, [property: Id(1)] string Type, [property: Id(2)] string Time, [property: Id(3)] string Line);

/// <summary>Everything a reviewer needs for one case: the evidence, the votes of the epoch decisions that quarantined the node, the node's history.</summary>
/// <param name="Decisions">The <c>epoch_committed</c> receipts listing the node as quarantined (each holds its commit certificate: the validators' signed votes).</param>
/// <param name="History">Every governance receipt naming the node, in ledger order.</param>
[GenerateSerializer, Immutable, Alias("fed.review-case-detail.v1")]
public sealed record ReviewCaseDetail([property: Id(0)] ReviewCase Case, [property: Id(1)] GovernanceEntry Evidence, [property: Id(2)] IReadOnlyList<GovernanceEntry> Decisions, [property: Id(3)] IReadOnlyList<GovernanceEntry> History, [property: Id(4)] NodeView Node);

/// <summary>The answer to a verdict: sealed (with its receipt) or refused with a code (<see cref="ReviewRefusal"/>).</summary>
[GenerateSerializer, Immutable, Alias("fed.review-outcome.v1")]
public sealed record ReviewOutcome([property: Id(0)] bool Sealed, [property: Id(1)] string? Code, [property: Id(2)] string Message, [property: Id(3)] string? Receipt = null);

/// <summary>Human review of quarantine cases (SPEC D). Key: the federation id.</summary>
public interface IReviewGrain : IGrainWithStringKey
{
    /// <summary>Pending cases (quarantined nodes with evidence) and decided ones.</summary>
    [ReadOnly]
    Task<IReadOnlyList<ReviewCase>> ListAsync();

    /// <summary>Null when no case has this id.</summary>
    [ReadOnly]
    Task<ReviewCaseDetail?> ShowAsync(string caseId);

    /// <summary>Checks and seals a signed <c>review_verdict</c>, then applies it to the node.</summary>
    Task<ReviewOutcome> DecideAsync(byte[] signedVerdict);
}

/// <summary>An advisory and the receipts of its transitions (published, then accepted or declined).</summary>
[GenerateSerializer, Immutable, Alias("fed.advisory-view.v1")]
public sealed record AdvisoryView([property: Id(0)] Advisory Advisory, [property: Id(1)] IReadOnlyList<string> Receipts);

/// <summary>The answer to accept or decline: done (with the transition's receipt) or refused with the reason.</summary>
[GenerateSerializer, Immutable, Alias("fed.advisory-transition.v1")]
public sealed record AdvisoryTransition([property: Id(0)] bool Done, [property: Id(1)] string Message, [property: Id(2)] AdvisoryView? Advisory, [property: Id(3)] string? Receipt = null);

/// <summary>One drift advisory (SPEC B). Key: <c>&lt;federation&gt;/&lt;advisory id&gt;</c>.</summary>
public interface IAdvisoryGrain : IGrainWithStringKey
{
    /// <summary>Publishes once (sealing <c>advisory_published</c>); publishing the same id again returns the advisory as it is.</summary>
    Task<AdvisoryView> PublishAsync(Advisory advisory);

    /// <summary>published → accepted | declined, sealed as <c>advisory_accepted</c> / <c>advisory_declined</c>; a final advisory refuses.</summary>
    Task<AdvisoryTransition> TransitionAsync(AdvisoryStatus to, string? note);

    /// <summary>Null when nothing was published under this id.</summary>
    [ReadOnly]
    Task<AdvisoryView?> GetAsync();
}

/// <summary>The advisories of one federation, in publication order. Key: the federation id.</summary>
public interface IAdvisoryIndexGrain : IGrainWithStringKey
{
    Task AddAsync(string advisoryId);

    [ReadOnly]
    Task<IReadOnlyList<string>> ListAsync();
}

public static class AdvisoryKey
{
    public static string For(string federationId, string advisoryId) => $"{federationId}/{advisoryId}";

    public static (string FederationId, string AdvisoryId) Parse(string key)
    {
        var slash = key.IndexOf('/');
        return slash > 0 ? (key[..slash], key[(slash + 1)..]) : throw new FormatException($"advisory grain key \"{key}\" must be <federation>/<advisory id>");
    }
}

using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Membership;
using Federation.Hosting;

namespace Federation.Grains;

/// <summary>
/// A quarantine case: a quarantined node and the evidence receipt that put it there. The case id is that
/// receipt's id (<c>&lt;federation&gt;.governance:&lt;seq&gt;</c>), unique and already scoped by federation.
/// </summary>
/// <param name="Verdict">"approve" or "reject" once decided; null while pending.</param>
public sealed record ReviewCase(string Case, KeyFingerprint Node, string EvidenceType, string Reason, NodeStatus NodeStatus, string? Verdict, string? VerdictReceipt, string? Reviewer);

/// <summary>One receipt of <c>&lt;federation&gt;.governance</c> as a reviewer reads it (the whole line, canonical JSON).</summary>
public sealed record GovernanceEntry(string Id, string Type, string Time, string Line);

/// <summary>Everything a reviewer needs for one case: the evidence, the votes of the epoch decisions that quarantined the node, the node's history.</summary>
/// <param name="Decisions">The <c>epoch_committed</c> receipts listing the node as quarantined (each holds its commit certificate: the validators' signed votes).</param>
/// <param name="History">Every governance receipt naming the node, in ledger order.</param>
public sealed record ReviewCaseDetail(ReviewCase Case, GovernanceEntry Evidence, IReadOnlyList<GovernanceEntry> Decisions, IReadOnlyList<GovernanceEntry> History, NodeView Node);

/// <summary>The answer to a verdict: sealed (with its receipt) or refused with a code (<see cref="ReviewRefusal"/>).</summary>
public sealed record ReviewOutcome(bool Sealed, string? Code, string Message, string? Receipt = null);

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
public sealed record AdvisoryView(Advisory Advisory, IReadOnlyList<string> Receipts);

/// <summary>The answer to accept or decline: done (with the transition's receipt) or refused with the reason.</summary>
public sealed record AdvisoryTransition(bool Done, string Message, AdvisoryView? Advisory, string? Receipt = null);

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

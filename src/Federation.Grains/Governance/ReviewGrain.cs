using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Hashing;
using Federation.Core.Membership;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Grains.Services;
using Federation.Storage.Governance;
using Federation.Storage.Ledger;

namespace Federation.Grains.Governance;

/// <summary>A decided case (names are part of the storage format).</summary>
public sealed class DecidedCase
{
    public string Node { get; set; } = string.Empty;

    public string EvidenceType { get; set; } = string.Empty;

    public string Reason { get; set; } = string.Empty;

    /// <summary>"approve" or "reject".</summary>
    public string Verdict { get; set; } = string.Empty;

    public string Reviewer { get; set; } = string.Empty;

    public string Receipt { get; set; } = string.Empty;
}

/// <summary>Persisted state of a federation's review desk: the decided cases, by case id.</summary>
public sealed class ReviewState
{
    public Dictionary<string, DecidedCase> Decided { get; set; } = [];
}

/// <summary>
/// Human review of quarantine cases (SPEC D) for one federation (key: the federation id). A case is a quarantined
/// node with the evidence receipt that put it there; the case id is that receipt's id. A verdict is a signed
/// <c>review_verdict</c> by one of the federation's reviewer keys, sealed in <c>&lt;fed&gt;.governance</c> before it
/// takes effect, and logged as <c>REVIEW_APPROVED</c> / <c>REVIEW_REJECTED</c>. Turn-based: two verdicts on one
/// case are decided one after the other, so the second is refused as already decided.
/// </summary>
[GrainType("review")]
public sealed class ReviewGrain(
    [PersistentState("review")] IPersistentState<ReviewState> state,
    FederationDirectory federations,
    GovernanceLog governanceLog) : Grain, IReviewGrain
{
    public const string VerdictType = ReviewVerdict.Type;

    private string FederationId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        federations.Get(FederationId); // an unknown federation fails the activating call
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<ReviewCase>> ListAsync()
    {
        var cases = new List<ReviewCase>();
        var pending = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in await GrainFactory.GetGrain<IFederationGrain>(FederationId).ListNodesAsync())
        {
            var view = await NodeAsync(node);
            if (view is { Record.Status: NodeStatus.Quarantined, QuarantineEvidence: { } evidence } && !state.State.Decided.ContainsKey(evidence) && pending.Add(evidence))
            {
                var receipt = await ReadReceiptAsync(evidence);
                cases.Add(new ReviewCase(evidence, node, receipt?.Type ?? "unknown", view.Record.StatusReason ?? string.Empty, view.Record.Status, null, null, null));
            }
        }

        foreach (var (id, decided) in state.State.Decided)
        {
            var node = KeyFingerprint.Parse(decided.Node);
            var status = (await NodeAsync(node))?.Record.Status ?? NodeStatus.Pending;
            cases.Add(new ReviewCase(id, node, decided.EvidenceType, decided.Reason, status, decided.Verdict, decided.Receipt, decided.Reviewer));
        }

        return cases.OrderBy(c => c.Verdict is not null).ThenBy(c => SeqOf(c.Case)).ToList();
    }

    public async Task<ReviewCaseDetail?> ShowAsync(string caseId)
    {
        var found = (await ListAsync()).FirstOrDefault(c => c.Case == caseId);
        if (found is null)
        {
            return null;
        }

        var node = found.Node.ToString();
        GovernanceEntry? evidence = null;
        var decisions = new List<GovernanceEntry>();
        var history = new List<GovernanceEntry>();
        await foreach (var line in Scroll.ScrollReader.ReadAllAsync(GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Governance(FederationId))))
        {
            var receipt = Receipt.Parse(line);
            var entry = new GovernanceEntry(receipt.Id, receipt.Type, Receipt.FormatTime(receipt.Time), Encoding.UTF8.GetString(line));
            if (receipt.Id == caseId)
            {
                evidence = entry;
            }

            if (receipt.Node == node)
            {
                history.Add(entry);
            }

            if (receipt.Type == EpochReceipts.CommittedType
                && receipt.Body["proposal"]?["quarantined"] is JsonArray quarantined
                && quarantined.Any(q => q?["node"]?.GetValue<string>() == node))
            {
                decisions.Add(entry);
            }
        }

        var view = await NodeAsync(found.Node);
        return evidence is null || view is null ? null : new ReviewCaseDetail(found, evidence, decisions, history, view);
    }

    public async Task<ReviewOutcome> DecideAsync(byte[] signedVerdict)
    {
        var settings = federations.Get(FederationId);
        SignedEnvelope envelope;
        ReviewVerdict verdict;
        NodeView view;
        Receipt evidence;
        try
        {
            (envelope, verdict) = ReviewVerdict.Open(signedVerdict, settings.ReviewerKeys);
            if (verdict.FederationId != FederationId)
            {
                throw new ReviewRefusedException(ReviewRefusal.WrongFederation, $"the verdict is for federation \"{verdict.FederationId}\", not \"{FederationId}\"");
            }

            if (state.State.Decided.TryGetValue(verdict.Case, out var decided))
            {
                throw new ReviewRefusedException(ReviewRefusal.CaseDecided, $"case {verdict.Case} is already decided: {decided.Verdict} by {decided.Reviewer} ({decided.Receipt})");
            }

            if (verdict.EvidenceReceipt != verdict.Case)
            {
                throw new ReviewRefusedException(ReviewRefusal.CaseMismatch, $"the verdict cites evidence {verdict.EvidenceReceipt} for case {verdict.Case}; a case is its evidence receipt");
            }

            view = await NodeAsync(verdict.Node) is { Record.Status: NodeStatus.Quarantined } v && v.QuarantineEvidence == verdict.Case
                ? v
                : throw new ReviewRefusedException(ReviewRefusal.UnknownCase, $"no pending case {verdict.Case} for node {verdict.Node} in federation \"{FederationId}\" (fed review list shows the cases)");
            evidence = await ReadReceiptAsync(verdict.Case)
                ?? throw new ReviewRefusedException(ReviewRefusal.UnknownCase, $"case {verdict.Case} is not a receipt of {FederationScrolls.Governance(FederationId)}");
        }
        catch (ReviewRefusedException ex)
        {
            return new ReviewOutcome(false, ex.Code, ex.Message);
        }

        // Seal first: the verdict takes effect only once it is in the ledger.
        var verdictName = ReviewVerdict.VerdictName(verdict.Verdict);
        var sealedVerdict = await GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Governance(FederationId)).AppendAsync(new ReceiptDraft(
            VerdictType,
            new JsonObject
            {
                ["case"] = verdict.Case,
                ["verdict"] = verdictName,
                ["reviewer"] = verdict.Reviewer.ToString(),
                ["evidence_type"] = evidence.Type,
                ["effect"] = verdict.Verdict == VerdictKind.Approve ? "active" : "revoked",
                ["signed_verdict"] = CanonicalJson.Parse(envelope.ToCanonicalJson()),
                ["verdict_hash"] = Sha256Digest.Of(envelope.SignedBytes).ToString(),
            },
            ["review", verdictName],
            verdict.Node.ToString()));

        await GrainFactory.GetGrain<INodeGrain>(NodeKey.For(FederationId, verdict.Node)).ApplyVerdictAsync(verdict.Verdict, verdict.Reason, verdict.Case, sealedVerdict.Id);
        state.State.Decided[verdict.Case] = new DecidedCase
        {
            Node = verdict.Node.ToString(),
            EvidenceType = evidence.Type,
            Reason = view.Record.StatusReason ?? string.Empty,
            Verdict = verdictName,
            Reviewer = verdict.Reviewer.ToString(),
            Receipt = sealedVerdict.Id,
        };
        await state.WriteStateAsync();

        var approved = verdict.Verdict == VerdictKind.Approve;
        governanceLog.Append(GovernanceLogEntries.ReviewDecided(FederationId, verdict.Node.ToString(), verdict.Case, approved, verdict.Reviewer.ToString(), evidence.Type, verdict.Reason, sealedVerdict.Id));
        return new ReviewOutcome(true, null,
            approved ? $"case {verdict.Case} approved: node {verdict.Node} is active ({sealedVerdict.Id})" : $"case {verdict.Case} rejected: node {verdict.Node} is excluded and its key revoked ({sealedVerdict.Id})",
            sealedVerdict.Id);
    }

    private Task<NodeView?> NodeAsync(KeyFingerprint node) => GrainFactory.GetGrain<INodeGrain>(NodeKey.For(FederationId, node)).GetAsync();

    /// <summary>A receipt of this federation's governance scroll by id, or null when there is none.</summary>
    private async Task<Receipt?> ReadReceiptAsync(string id)
    {
        var scroll = FederationScrolls.Governance(FederationId);
        var seq = id.StartsWith(scroll + ":", StringComparison.Ordinal) && long.TryParse(id.AsSpan(scroll.Length + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : -1;
        var ledger = GrainFactory.GetGrain<IScrollGrain>(scroll);
        if (seq < 0 || seq >= (await ledger.HeadAsync()).Size)
        {
            return null;
        }

        return Receipt.Parse((await ledger.ReadAsync(seq, seq + 1))[0]);
    }

    private static long SeqOf(string caseId) =>
        long.TryParse(caseId.AsSpan(caseId.LastIndexOf(':') + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seq) ? seq : long.MaxValue;
}

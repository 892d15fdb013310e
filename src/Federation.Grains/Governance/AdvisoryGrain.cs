using System.Text.Json.Nodes;
using Federation.Core.Governance;
using Federation.Core.Scrolls;
using Federation.Grains.Services;

namespace Federation.Grains.Governance;

/// <summary>Persisted state of one advisory (names are part of the storage format).</summary>
public sealed class AdvisoryState
{
    public string? AdvisoryId { get; set; }

    public long Epoch { get; set; }

    public string DriftType { get; set; } = string.Empty;

    public string SourceEnv { get; set; } = string.Empty;

    public List<string> TargetEnvs { get; set; } = [];

    public string Recommendation { get; set; } = string.Empty;

    public string Detail { get; set; } = string.Empty;

    public AdvisoryStatus Status { get; set; }

    /// <summary>Receipt ids of its transitions, in order (published first).</summary>
    public List<string> Receipts { get; set; } = [];
}

/// <summary>
/// One drift advisory (SPEC B), key <c>&lt;federation&gt;/&lt;advisory id&gt;</c>: published → accepted | declined,
/// each transition a receipt in <c>&lt;fed&gt;.governance</c> sealed before the state changes. Final states refuse
/// any further transition.
/// </summary>
[GrainType("advisory")]
public sealed class AdvisoryGrain(
    [PersistentState("advisory")] IPersistentState<AdvisoryState> state,
    FederationDirectory federations) : Grain, IAdvisoryGrain
{
    private string _federationId = string.Empty;
    private string _advisoryId = string.Empty;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_federationId, _advisoryId) = AdvisoryKey.Parse(this.GetPrimaryKeyString());
        federations.Get(_federationId);
        return Task.CompletedTask;
    }

    public async Task<AdvisoryView> PublishAsync(Advisory advisory)
    {
        if (advisory.AdvisoryId != _advisoryId || advisory.FederationId != _federationId)
        {
            throw new ArgumentException($"advisory {advisory.FederationId}/{advisory.AdvisoryId} was routed to the grain of {_federationId}/{_advisoryId}");
        }

        if (state.State.AdvisoryId is not null)
        {
            return View()!; // ids are deterministic: a re-published advisory is the same advisory
        }

        var published = advisory with { Status = AdvisoryStatus.Published };
        var receipt = await SealAsync(AdvisoryReceipts.Published(advisory));
        state.State.AdvisoryId = published.AdvisoryId;
        state.State.Epoch = published.Epoch;
        state.State.DriftType = published.DriftType;
        state.State.SourceEnv = published.SourceEnv;
        state.State.TargetEnvs = [.. published.TargetEnvs];
        state.State.Recommendation = published.Recommendation;
        state.State.Detail = published.Detail;
        state.State.Status = AdvisoryStatus.Published;
        state.State.Receipts = [receipt];
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IAdvisoryIndexGrain>(_federationId).AddAsync(_advisoryId);
        return View()!;
    }

    public async Task<AdvisoryTransition> TransitionAsync(AdvisoryStatus to, string? note)
    {
        if (state.State.AdvisoryId is null)
        {
            return new AdvisoryTransition(false, $"no advisory {_advisoryId} in federation \"{_federationId}\"", null);
        }

        try
        {
            Advisories.CheckTransition(_advisoryId, state.State.Status, to);
        }
        catch (InvalidOperationException ex)
        {
            return new AdvisoryTransition(false, ex.Message, View());
        }

        var body = new JsonObject
        {
            ["advisory_id"] = _advisoryId,
            ["from"] = Advisories.StatusName(state.State.Status),
            ["status"] = Advisories.StatusName(to),
            ["published_receipt"] = state.State.Receipts[0],
        };
        if (note is { Length: > 0 })
        {
            body["note"] = note;
        }

        var receipt = await SealAsync(AdvisoryReceipts.Transition(to == AdvisoryStatus.Accepted ? Advisories.AcceptedType : Advisories.DeclinedType, Advisories.StatusName(to), body, state.State.SourceEnv));
        state.State.Status = to;
        state.State.Receipts.Add(receipt);
        await state.WriteStateAsync();
        return new AdvisoryTransition(true, $"advisory {_advisoryId} {Advisories.StatusName(to)} ({receipt})", View(), receipt);
    }

    public Task<AdvisoryView?> GetAsync() => Task.FromResult(View());

    private AdvisoryView? View() => state.State.AdvisoryId is null
        ? null
        : new AdvisoryView(
            new Advisory(_advisoryId, _federationId, state.State.Epoch, state.State.DriftType, state.State.SourceEnv, state.State.TargetEnvs.ToList(), state.State.Recommendation, state.State.Detail, state.State.Status),
            state.State.Receipts.ToList());

    private async Task<string> SealAsync(ReceiptDraft draft) =>
        (await GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Governance(_federationId)).AppendAsync(draft)).Id;
}

/// <summary>Persisted list of a federation's advisory ids (names are part of the storage format).</summary>
public sealed class AdvisoryIndexState
{
    public List<string> Ids { get; set; } = [];
}

/// <summary>The advisories of one federation (key: the federation id), in publication order.</summary>
[GrainType("advisory-index")]
public sealed class AdvisoryIndexGrain(
    [PersistentState("advisories")] IPersistentState<AdvisoryIndexState> state,
    FederationDirectory federations) : Grain, IAdvisoryIndexGrain
{
    /// <summary>Bound on one federation's index; beyond it the oldest ids leave the list (their grains and receipts stay).</summary>
    public const int MaxAdvisories = 100_000;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        federations.Get(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public async Task AddAsync(string advisoryId)
    {
        if (state.State.Ids.Contains(advisoryId))
        {
            return;
        }

        if (state.State.Ids.Count >= MaxAdvisories)
        {
            state.State.Ids.RemoveAt(0);
        }

        state.State.Ids.Add(advisoryId);
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult<IReadOnlyList<string>>(state.State.Ids.ToList());
}

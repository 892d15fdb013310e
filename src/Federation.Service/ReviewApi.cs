using System.Text.Json;
using System.Text.Json.Nodes;
using Federation.Core.Governance;
using Federation.Grains;
using Federation.Grains.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Federation.Service;

/// <summary>
/// The routes governance reviewers call (docs/formats/http-api.md): the quarantine cases, one case with its evidence,
/// the votes that decided it and the node's history, and a signed verdict. A token lets a reviewer in; the verdict
/// itself must be signed by a reviewer key of the federation (<c>Federations:N:ReviewerKeys</c>), as with `fed review`.
/// </summary>
public static class ReviewApi
{
    public static IEndpointRouteBuilder MapReviewApi(this IEndpointRouteBuilder routes)
    {
        var federation = routes.MapGroup("/v1/federations/{federation}/reviews").RequireRateLimiting(RateLimits.TokenPolicy);
        federation.MapGet("/", async (string federation, HttpRequest request, IGrainFactory grains, FederationDirectory federations) =>
        {
            if (await OperatorApi.AuthorizeAsync(request, federation, grains, federations, OperatorApi.Everyone) is { } refused)
            {
                return refused;
            }

            var cases = await grains.GetGrain<IReviewGrain>(federation).ListAsync();
            return Results.Text(new JsonObject { ["federation"] = federation, ["cases"] = new JsonArray([.. cases.Select(c => (JsonNode?)ReviewJson.Case(c))]) }.ToJsonString(), "application/json");
        })
        .WithSummary("Quarantine cases, pending first (any role)")
        .ProducesProblem(StatusCodes.Status401Unauthorized);

        federation.MapGet("/{case}", async (string federation, string @case, HttpRequest request, IGrainFactory grains, FederationDirectory federations) =>
        {
            if (await OperatorApi.AuthorizeAsync(request, federation, grains, federations, OperatorApi.Everyone) is { } refused)
            {
                return refused;
            }

            var detail = await grains.GetGrain<IReviewGrain>(federation).ShowAsync(@case);
            return detail is null
                ? NodeApi.Problem(StatusCodes.Status404NotFound, ReviewRefusal.UnknownCase, $"no case {@case} in federation \"{federation}\" (GET …/reviews lists them)")
                : Results.Text(ReviewJson.Detail(detail).ToJsonString(), "application/json");
        })
        .WithSummary("One case: the evidence, the epoch decisions (with their signed commit votes) and the node's history (any role)")
        .ProducesProblem(StatusCodes.Status404NotFound);

        federation.MapPost("/{case}/verdict", async (string federation, string @case, HttpRequest request, IGrainFactory grains, FederationDirectory federations) =>
        {
            if (await OperatorApi.AuthorizeAsync(request, federation, grains, federations, AccessRole.Reviewer) is { } refused)
            {
                return refused;
            }

            var (body, problem) = await NodeApi.ReadBodyAsync(request);
            if (problem is not null)
            {
                return problem;
            }

            // The case in the path must be the case the verdict signs: a verdict is never applied to another case.
            string? signedCase;
            try
            {
                signedCase = (JsonNode.Parse(body!) as JsonObject)?["case"]?.GetValue<string>();
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                return NodeApi.Problem(StatusCodes.Status400BadRequest, ReviewRefusal.MalformedVerdict, $"the body is not a signed verdict (docs/formats/review-verdict.md): {ex.Message}");
            }

            if (signedCase != @case)
            {
                return NodeApi.Problem(StatusCodes.Status400BadRequest, ReviewRefusal.CaseMismatch, $"the verdict signs case \"{signedCase}\", not {@case}");
            }

            var outcome = await grains.GetGrain<IReviewGrain>(federation).DecideAsync(body!);
            return outcome.Sealed
                ? Results.Text(new JsonObject { ["case"] = @case, ["sealed"] = true, ["receipt_id"] = outcome.Receipt, ["message"] = outcome.Message }.ToJsonString(), "application/json")
                : NodeApi.Problem(StatusFor(outcome.Code), outcome.Code ?? "refused", outcome.Message);
        })
        .WithSummary("A reviewer's signed verdict (approve or reject) on a case; sealed as a review_verdict receipt (reviewer token)")
        .ProducesProblem(StatusCodes.Status409Conflict);

        return routes;
    }

    private static int StatusFor(string? code) => code switch
    {
        ReviewRefusal.MalformedVerdict or ReviewRefusal.CaseMismatch => StatusCodes.Status400BadRequest,
        ReviewRefusal.BadSignature or ReviewRefusal.NotAReviewer or ReviewRefusal.WrongFederation => StatusCodes.Status403Forbidden,
        ReviewRefusal.UnknownCase => StatusCodes.Status404NotFound,
        ReviewRefusal.CaseDecided => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status422UnprocessableEntity,
    };
}

/// <summary>Review cases as JSON: one shape for `fed review … --json` and the HTTP API.</summary>
public static class ReviewJson
{
    public static JsonObject Case(ReviewCase c) => new()
    {
        ["case"] = c.Case,
        ["node"] = c.Node.ToString(),
        ["evidence_type"] = c.EvidenceType,
        ["reason"] = c.Reason,
        ["node_status"] = c.NodeStatus.ToString().ToLowerInvariant(),
        ["verdict"] = c.Verdict,
        ["verdict_receipt"] = c.VerdictReceipt,
        ["reviewer"] = c.Reviewer,
    };

    public static JsonObject Node(NodeView view) => new()
    {
        ["fingerprint"] = view.Record.Fingerprint.ToString(),
        ["status"] = view.Record.Status.ToString().ToLowerInvariant(),
        ["status_reason"] = view.Record.StatusReason,
        ["last_epoch"] = view.Record.LastEpoch,
        ["updates_recorded"] = view.UpdatesRecorded,
        ["quarantine_evidence"] = view.QuarantineEvidence,
    };

    public static JsonNode Line(GovernanceEntry entry) => JsonNode.Parse(entry.Line, documentOptions: new JsonDocumentOptions { MaxDepth = 128 })!;

    public static JsonObject Detail(ReviewCaseDetail detail) => new()
    {
        ["case"] = Case(detail.Case),
        ["node"] = Node(detail.Node),
        ["evidence"] = Line(detail.Evidence),
        ["decisions"] = new JsonArray([.. detail.Decisions.Select(d => (JsonNode?)Line(d))]),
        ["history"] = new JsonArray([.. detail.History.Select(h => (JsonNode?)Line(h))]),
    };
}

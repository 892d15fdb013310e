using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Membership;
using Federation.Grains;
using Federation.Grains.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Federation.Service;

/// <summary>
/// The routes operators, reviewers and auditors call, each behind a bearer token of the federation
/// (<c>fed token create</c>; kept as its SHA-256 by <see cref="IAccessGrain"/>): list the nodes, register nodes,
/// revoke a node. A missing or unknown token is 401; a token of another federation is refused as the federation's
/// data not existing (404, as for an unknown federation); a token whose role may not do this is 403, and so is a
/// cluster token (<see cref="AccessScopes.Cluster"/>: it opens the dashboard, not a federation's routes).
/// </summary>
public static class OperatorApi
{
    /// <summary>Every token starts with this (so a leaked one is recognisable), then 43 base64url characters of randomness.</summary>
    public const string TokenPrefix = "fed_";

    /// <summary>Most nodes one registration request carries.</summary>
    public const int MaxNodesPerRequest = 10_000;

    internal static readonly AccessRole[] Everyone = [AccessRole.Operator, AccessRole.Reviewer, AccessRole.Auditor];

    /// <summary>A new token: <see cref="TokenPrefix"/> and 256 random bits.</summary>
    public static string NewToken() => TokenPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static Sha256Digest HashOf(string token) => Sha256Digest.Of(Encoding.UTF8.GetBytes(token));

    public static IEndpointRouteBuilder MapOperatorApi(this IEndpointRouteBuilder routes)
    {
        var federation = routes.MapGroup("/v1/federations/{federation}").RequireRateLimiting(RateLimits.TokenPolicy);
        federation.MapGet("/nodes", async (string federation, HttpRequest request, IGrainFactory grains, FederationDirectory federations) =>
        {
            if (await AuthorizeAsync(request, federation, grains, federations, Everyone) is { } refused)
            {
                return refused;
            }

            var fed = grains.GetGrain<IFederationGrain>(federation);
            var views = await Task.WhenAll((await fed.ListNodesAsync()).Select(n => grains.GetGrain<INodeGrain>(NodeKey.For(federation, n)).GetAsync()));
            var nodes = new JsonArray();
            foreach (var view in views.OfType<NodeView>().OrderBy(v => v.Record.Fingerprint.ToString(), StringComparer.Ordinal))
            {
                nodes.Add(new JsonObject
                {
                    ["fingerprint"] = view.Record.Fingerprint.ToString(),
                    ["status"] = Snake(view.Record.Status.ToString()),
                    ["status_reason"] = view.Record.StatusReason,
                    ["trust_level"] = Snake(view.Record.TrustLevel.ToString()),
                    ["sync_policy"] = Snake(view.Record.SyncPolicy.ToString()),
                    ["capabilities"] = new JsonArray([.. view.Record.Capabilities.Select(c => (JsonNode?)c)]),
                    ["last_seen"] = view.LastSeen?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                    ["inactive"] = view.Inactive,
                    ["last_epoch"] = view.Record.LastEpoch < 0 ? null : view.Record.LastEpoch,
                    ["updates_recorded"] = view.UpdatesRecorded,
                    ["quarantine_evidence"] = view.QuarantineEvidence,
                });
            }

            return Results.Text(new JsonObject { ["federation"] = federation, ["nodes"] = nodes }.ToJsonString(), "application/json");
        })
        .WithSummary("The federation's nodes with their standing, last seen and last epoch submitted (any role)")
        .ProducesProblem(StatusCodes.Status401Unauthorized);

        federation.MapPost("/nodes", async (string federation, HttpRequest request, IGrainFactory grains, FederationDirectory federations) =>
        {
            if (await AuthorizeAsync(request, federation, grains, federations, AccessRole.Operator) is { } refused)
            {
                return refused;
            }

            var (body, problem) = await NodeApi.ReadBodyAsync(request);
            if (problem is not null)
            {
                return problem;
            }

            List<NodeRegistration> registrations;
            try
            {
                registrations = ParseRegistrations(body!);
            }
            catch (FormatException ex)
            {
                return NodeApi.Problem(StatusCodes.Status400BadRequest, "malformed_registration", ex.Message);
            }

            await grains.GetGrain<IFederationGrain>(federation).RegisterNodesAsync(registrations);
            return Results.Text(new JsonObject { ["registered"] = registrations.Count }.ToJsonString(), "application/json");
        })
        .WithSummary("Registers nodes: {\"nodes\": [{\"fingerprint\", \"trust_level\"?, \"sync_policy\"?, \"capabilities\"}]} (operator)")
        .ProducesProblem(StatusCodes.Status400BadRequest);

        federation.MapPost("/nodes/{node}/revoke", async (string federation, string node, HttpRequest request, IGrainFactory grains, FederationDirectory federations) =>
        {
            var (refused, token) = await AuthenticateAsync(request, federation, grains, federations, AccessRole.Operator);
            if (refused is not null)
            {
                return refused;
            }

            if (!KeyFingerprint.TryParse(node, out var fingerprint, out var error))
            {
                return NodeApi.Problem(StatusCodes.Status400BadRequest, "malformed_message", $"\"{node}\" is not a node fingerprint: {error}");
            }

            var (body, problem) = await NodeApi.ReadBodyAsync(request);
            if (problem is not null)
            {
                return problem;
            }

            string reason;
            try
            {
                reason = JsonNode.Parse(body!)?["reason"]?.GetValue<string>() is { Length: > 0 and <= 500 } r ? r : throw new FormatException("the body must be {\"reason\": \"…\"} with a reason of 1 to 500 characters");
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
            {
                return NodeApi.Problem(StatusCodes.Status400BadRequest, "malformed_message", ex is FormatException ? ex.Message : $"the body is not {{\"reason\": \"…\"}}: {ex.Message}");
            }

            var grain = grains.GetGrain<INodeGrain>(NodeKey.For(federation, fingerprint));
            if (await grain.GetAsync() is null)
            {
                return NodeApi.Problem(StatusCodes.Status404NotFound, "unknown_node", $"node {fingerprint} is not registered in federation \"{federation}\"");
            }

            // Sealed and written before the answer: the node's very next request is refused (revoked_node).
            var receipt = await grain.RevokeAsync(reason, $"operator token {token!.Id} ({token.Label})");
            return Results.Text(new JsonObject { ["fingerprint"] = fingerprint.ToString(), ["status"] = "revoked", ["reason"] = reason, ["receipt_id"] = receipt }.ToJsonString(), "application/json");
        })
        .WithSummary("Revokes a node's key; its very next request is refused (operator)")
        .ProducesProblem(StatusCodes.Status404NotFound);

        federation.MapGet("/anchor-status", async (string federation, HttpRequest request, IGrainFactory grains, FederationDirectory federations) =>
        {
            if (await AuthorizeAsync(request, federation, grains, federations, Everyone) is { } refused)
            {
                return refused;
            }

            var status = await grains.GetGrain<IAnchorGrain>(federation).StatusAsync();
            return Results.Text(new JsonObject
            {
                ["federation"] = federation,
                ["cycles"] = status.Cycles,
                ["last_cycle"] = status.LastCycle?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                ["scrolls"] = AnchorsJson(status.Scrolls),
            }.ToJsonString(), "application/json");
        })
        .WithSummary("Anchor cycles run so far, the last one's time, and each scroll's latest anchor: outcome, size, root, receipt (any role)")
        .ProducesProblem(StatusCodes.Status401Unauthorized);

        // In a cluster: which silo serves this request and which hosts each of the federation's grains (a grain that is
        // not active now is placed when it is next called: null).
        federation.MapGet("/placement", async (string federation, HttpRequest request, IGrainFactory grains, FederationDirectory federations, Orleans.Runtime.ILocalSiloDetails silo) =>
        {
            if (await AuthorizeAsync(request, federation, grains, federations, Everyone) is { } refused)
            {
                return refused;
            }

            var management = grains.GetGrain<IManagementGrain>(0);
            var hosts = await management.GetHosts(onlyActive: true);
            var placed = new JsonObject();
            foreach (var (name, grain) in new (string, IAddressable)[]
            {
                ("federation", grains.GetGrain<IFederationGrain>(federation)),
                ("epoch", grains.GetGrain<IEpochGrain>(federation)),
                ("updates_scroll", grains.GetGrain<IScrollGrain>(Core.Scrolls.FederationScrolls.Updates(federation))),
                ("governance_scroll", grains.GetGrain<IScrollGrain>(Core.Scrolls.FederationScrolls.Governance(federation))),
                ("membership_scroll", grains.GetGrain<IScrollGrain>(Core.Scrolls.FederationScrolls.Membership(federation))),
            })
            {
                placed[name] = (await management.GetActivationAddress(grain))?.ToParsableString();
            }

            return Results.Text(new JsonObject
            {
                ["federation"] = federation,
                ["silo"] = silo.SiloAddress.ToParsableString(),
                ["silos"] = new JsonArray([.. hosts.Keys.Select(h => h.ToParsableString()).Order(StringComparer.Ordinal).Select(h => (JsonNode?)h)]),
                ["grains"] = placed,
            }.ToJsonString(), "application/json");
        })
        .WithSummary("The cluster's active silos, the silo answering, and the silo hosting each of the federation's grains (any role)")
        .ProducesProblem(StatusCodes.Status401Unauthorized);

        federation.MapPost("/anchor-now", async (string federation, HttpRequest request, IGrainFactory grains, FederationDirectory federations) =>
        {
            if (await AuthorizeAsync(request, federation, grains, federations, AccessRole.Operator) is { } refused)
            {
                return refused;
            }

            var reports = await grains.GetGrain<IAnchorGrain>(federation).RunAsync();
            return Results.Text(new JsonObject { ["federation"] = federation, ["scrolls"] = AnchorsJson(reports) }.ToJsonString(), "application/json");
        })
        .WithSummary("Runs an anchor cycle now (operator; seed E): each scroll sealed, checked against its previous anchor, appended, recorded")
        .ProducesProblem(StatusCodes.Status403Forbidden);

        return routes;
    }

    private static JsonArray AnchorsJson(IEnumerable<AnchorReport> reports) => new([.. reports.Select(r => (JsonNode?)new JsonObject
    {
        ["scroll"] = r.Scroll,
        ["outcome"] = r.Outcome,
        ["size"] = r.Size,
        ["root"] = r.Root,
        ["receipt_id"] = r.Receipt,
        ["detail"] = r.Detail,
        ["at"] = r.At.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
    })]);

    /// <summary>Null when the request carries a token of <paramref name="federation"/> with one of <paramref name="roles"/>; else the refusal.</summary>
    internal static async Task<IResult?> AuthorizeAsync(HttpRequest request, string federation, IGrainFactory grains, FederationDirectory federations, params AccessRole[] roles) =>
        (await AuthenticateAsync(request, federation, grains, federations, roles)).Refused;

    /// <summary>The request's token when it is one of <paramref name="federation"/> with one of <paramref name="roles"/>; else the refusal.</summary>
    private static async Task<(IResult? Refused, AccessToken? Token)> AuthenticateAsync(HttpRequest request, string federation, IGrainFactory grains, FederationDirectory federations, params AccessRole[] roles)
    {
        if (!federations.Contains(federation))
        {
            return (NodeApi.UnknownFederation(federation), null);
        }

        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || header.Length > 256)
        {
            return (Unauthorized("send Authorization: Bearer <token> (fed token create --federation F --role R)"), null);
        }

        var hash = HashOf(header["Bearer ".Length..].Trim());
        var token = await grains.GetGrain<IAccessGrain>(federation).FindAsync(hash);
        if (token is null)
        {
            // Another federation's token learns nothing about this one: it is told what a request for data that does not exist is told.
            foreach (var other in federations.Ids.Where(id => id != federation))
            {
                if (await grains.GetGrain<IAccessGrain>(other).FindAsync(hash) is not null)
                {
                    return (NodeApi.UnknownFederation(federation), null);
                }
            }

            if (await grains.GetGrain<IAccessGrain>(AccessScopes.Cluster).FindAsync(hash) is not null)
            {
                return (NodeApi.Problem(StatusCodes.Status403Forbidden, "forbidden_scope", $"a cluster token opens the dashboard only; the routes of federation \"{federation}\" take a token of it (fed token create --federation {federation})"), null);
            }

            return (Unauthorized("the token is not valid"), null);
        }

        return roles.Contains(token.Role)
            ? (null, token)
            : (NodeApi.Problem(StatusCodes.Status403Forbidden, "forbidden_role", $"a {Snake(token.Role.ToString())} token may not do this; it needs {string.Join(" or ", roles.Select(r => Snake(r.ToString())))}"), null);
    }

    private static IResult Unauthorized(string detail) =>
        NodeApi.Problem(StatusCodes.Status401Unauthorized, "unauthorized", detail, headers: new Dictionary<string, string> { ["WWW-Authenticate"] = "Bearer" });

    private static List<NodeRegistration> ParseRegistrations(byte[] body)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            throw new FormatException($"the body is not JSON: {ex.Message}");
        }

        var list = root?["nodes"] as JsonArray ?? throw new FormatException("the body must be {\"nodes\": [{\"fingerprint\", \"capabilities\", …}]}");
        if (list.Count is 0 or > MaxNodesPerRequest)
        {
            throw new FormatException($"\"nodes\" must hold 1 to {MaxNodesPerRequest} nodes, not {list.Count}");
        }

        var registrations = new List<NodeRegistration>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            var node = list[i] as JsonObject ?? throw new FormatException($"nodes[{i}] must be an object");
            string? Text(string name) => node[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : node[name] is null ? null : throw new FormatException($"nodes[{i}].{name} must be a string");
            if (!KeyFingerprint.TryParse(Text("fingerprint"), out var fingerprint, out var error))
            {
                throw new FormatException($"nodes[{i}].fingerprint: {error}");
            }

            var capabilities = node["capabilities"] as JsonArray ?? throw new FormatException($"nodes[{i}].capabilities must be an array of strings");
            registrations.Add(new NodeRegistration(
                fingerprint,
                Enum<TrustLevel>(Text("trust_level") ?? "federated", $"nodes[{i}].trust_level"),
                Enum<SyncPolicy>(Text("sync_policy") ?? "pull_approved_only", $"nodes[{i}].sync_policy"),
                [.. capabilities.Select((c, j) => c is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new FormatException($"nodes[{i}].capabilities[{j}] must be a string"))]));
        }

        return registrations;
    }

    private static T Enum<T>(string text, string member)
        where T : struct, Enum
    {
        try
        {
            return FederationsConfiguration.ParseName<T>(text, member);
        }
        catch (ArgumentException ex)
        {
            throw new FormatException(ex.Message, ex);
        }
    }

    private static string Snake(string name) => JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Federation.Core.Crypto;
using Federation.Core.Ingest;
using Federation.Grains;
using Federation.Grains.Services;
using Federation.Storage.Ledger;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Federation.Service;

/// <summary>
/// The routes nodes call (docs/formats/http-api.md), under <c>/v1/federations/{federation}</c>: the handshake
/// (<c>hello</c>, <c>session</c>), signed updates, heartbeats and the current epoch. Request bodies are the signed
/// messages of docs/formats/protocol.md, byte for byte; every refusal is RFC 9457 problem+json whose <c>code</c> is
/// the refusal code the scrolls and the CLI use. An unknown federation is 404, as any data that does not exist.
/// </summary>
public static class NodeApi
{
    /// <summary>The largest request body read (a signed update's limit is the federation's; this bounds every route).</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static IEndpointRouteBuilder MapNodeApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", (IHostApplicationLifetime lifetime) =>
            lifetime.ApplicationStarted.IsCancellationRequested && !lifetime.ApplicationStopping.IsCancellationRequested
                ? Results.Text("serving\n")
                : Results.Problem("the coordinator is starting or stopping", statusCode: StatusCodes.Status503ServiceUnavailable))
            .WithSummary("200 once the silo and the server have started; 503 while starting or stopping");

        var federation = routes.MapGroup("/v1/federations/{federation}").RequireRateLimiting(RateLimits.NodePolicy);
        federation.MapPost("/hello", (string federation, HttpRequest request, IGrainFactory grains, FederationDirectory federations) =>
            SignedMessageAsync(federation, request, federations, async body =>
            {
                var reply = await grains.GetGrain<IFederationGrain>(federation).HelloAsync(body);
                return reply.Accepted
                    ? Results.Bytes(reply.Accept!, "application/json")
                    : Refused(reply.Code ?? "refused", reply.Message);
            }))
        .WithSummary("A node's signed FederationHello; answers the governance-signed FederationAccept")
        .ProducesProblem(StatusCodes.Status403Forbidden);

        federation.MapPost("/session", (string federation, HttpRequest request, IGrainFactory grains, FederationDirectory federations) =>
            SignedMessageAsync(federation, request, federations, async body =>
            {
                var reply = await grains.GetGrain<IFederationGrain>(federation).CompleteSessionAsync(body);
                return reply.Active
                    ? Results.Json(new SessionResponse(reply.LedgerBlockId!, reply.Seq, reply.LeafHash?.ToString(), reply.Message), Json)
                    : Refused(reply.Code ?? "refused", reply.Message);
            }))
        .WithSummary("A node's signed SessionAck; answers the session receipt (ledger_block_id)")
        .ProducesProblem(StatusCodes.Status403Forbidden);

        federation.MapPost("/updates", (string federation, HttpRequest request, IngestGateway gateway, FederationDirectory federations) =>
            SignedMessageAsync(federation, request, federations, async body =>
            {
                // Answered once the update's receipt is durable (the gateway seals before it acknowledges).
                var ack = await gateway.SubmitAsync(federation, body);
                return ack.Acknowledged
                    ? Results.Json(new UpdateResponse(ack.Disposition, ack.ReceiptId!, ack.Seq!.Value, ack.LeafHash!.Value.ToString(), ack.Message), Json)
                    : Refused(ack.Code!, ack.Message, ack.EvidenceReceipt);
            }))
        .WithSummary("A signed MetaUpdate; answered once its receipt is durable (accepted, late or duplicate)")
        .ProducesProblem(StatusCodes.Status403Forbidden);

        federation.MapPost("/nodes/{node}/heartbeat", (string federation, string node, HttpRequest request, IngestGateway gateway, FederationDirectory federations) =>
            SignedMessageAsync(federation, request, federations, async body =>
            {
                if (!KeyFingerprint.TryParse(node, out var fingerprint, out var error))
                {
                    return Refused(IngestDecision.WireName(RefusalCode.MalformedMessage), $"\"{node}\" is not a node fingerprint: {error}");
                }

                var ack = await gateway.HeartbeatAsync(federation, fingerprint, body);
                return ack.Code is { } code
                    ? Refused(code, ack.Message)
                    : Results.Json(new HeartbeatResponse(ack.Verdict, ack.Message, ack.EvidenceReceipt), Json);
            }))
        .WithSummary("A node's signed Heartbeat with its ledger head: consistent, ahead or divergent")
        .ProducesProblem(StatusCodes.Status403Forbidden);

        federation.MapGet("/epoch", async (string federation, IGrainFactory grains, FederationDirectory federations) =>
        {
            if (!federations.Contains(federation))
            {
                return UnknownFederation(federation);
            }

            var epoch = await grains.GetGrain<IFederationGrain>(federation).GetEpochAsync();
            return Results.Json(new EpochResponse(epoch.OpenEpoch, epoch.ClosingEpoch, epoch.OpenStateHash.ToString(), epoch.OpenedAt), Json);
        })
        .WithSummary("The open epoch and the state its updates build on");

        // The policy a FederationAccept names by hash: its RFC 8785 form, whose SHA-256 is the accept's policy_hash.
        federation.MapGet("/policy", async (string federation, IGrainFactory grains, FederationDirectory federations) =>
            federations.Contains(federation)
                ? Results.Bytes(Core.Canonical.CanonicalJson.Serialize(await grains.GetGrain<IFederationGrain>(federation).GetPolicyAsync(), Core.Canonical.ProtocolJson.Options), "application/json")
                : UnknownFederation(federation))
        .WithSummary("The federation policy (RFC 8785): its SHA-256 is the policy_hash of every FederationAccept")
        .ProducesProblem(StatusCodes.Status404NotFound);

        // SPEC A: a node loads the committed global state, and checks it, from the epoch's commit receipt (the aggregate,
        // the proposal and the 2f + 1 signed commit votes).
        federation.MapGet("/epochs/{epoch:long}", async (string federation, long epoch, IGrainFactory grains, FederationDirectory federations) =>
        {
            if (!federations.Contains(federation))
            {
                return UnknownFederation(federation);
            }

            var report = (await grains.GetGrain<IEpochGrain>(federation).HistoryAsync()).LastOrDefault(r => r.Epoch == epoch);
            if (report is null)
            {
                return Problem(StatusCodes.Status404NotFound, "unknown_epoch", $"epoch {epoch} of federation \"{federation}\" has not been decided");
            }

            var answer = new System.Text.Json.Nodes.JsonObject
            {
                ["epoch"] = report.Epoch,
                ["state"] = JsonNamingPolicy.SnakeCaseLower.ConvertName(report.State.ToString()),
                ["reason"] = report.Reason,
                ["digest"] = report.Digest?.ToString(),
                ["view"] = report.View,
                ["included"] = report.Included,
                ["excluded"] = report.Excluded,
                ["quarantined"] = new System.Text.Json.Nodes.JsonArray([.. report.Quarantined.Select(q => (System.Text.Json.Nodes.JsonNode?)q)]),
                ["commit_receipt_id"] = report.CommitReceipt,
            };
            if (report.CommitReceipt is { } receiptId && receiptId.LastIndexOf(':') is var colon and > 0
                && long.TryParse(receiptId.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seq))
            {
                var lines = await grains.GetGrain<IScrollGrain>(receiptId[..colon]).ReadAsync(seq, seq + 1);
                answer["commit_receipt"] = System.Text.Json.Nodes.JsonNode.Parse(lines[0]);
            }

            return Results.Text(answer.ToJsonString(), "application/json");
        })
        .WithSummary("A decided epoch with its sealed epoch_committed receipt (aggregate, commit certificate)")
        .ProducesProblem(StatusCodes.Status404NotFound);

        // A node checks its receipts against signed checkpoints: the latest one as it was signed (reading signs nothing).
        federation.MapGet("/scrolls/{scroll}/checkpoint", async (string federation, string scroll, IGrainFactory grains, FederationDirectory federations, LedgerDirectory ledgers) =>
        {
            if (await FederationScrollAsync(federation, scroll, federations, ledgers) is { } missing)
            {
                return missing;
            }

            var head = await grains.GetGrain<IScrollGrain>(scroll).HeadAsync();
            return head.Checkpoint is { } note
                ? Results.Text(note, "text/plain; charset=utf-8")
                : NotSealedYet($"scroll {scroll} has no signed checkpoint yet");
        })
        .WithSummary("The scroll's latest signed checkpoint (C2SP tlog-checkpoint in a signed note, text/plain)")
        .ProducesProblem(StatusCodes.Status404NotFound);

        federation.MapGet("/receipts/{receipt}/bundle", async (string federation, string receipt, IGrainFactory grains, FederationDirectory federations, LedgerDirectory ledgers) =>
        {
            var colon = receipt.LastIndexOf(':');
            if (colon <= 0 || !long.TryParse(receipt.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seq))
            {
                return Problem(StatusCodes.Status400BadRequest, "malformed_receipt_id", $"\"{receipt}\" is not a receipt id (<scroll>:<seq>, e.g. {Core.Scrolls.FederationScrolls.Updates(federation)}:12)");
            }

            var scroll = receipt[..colon];
            if (await FederationScrollAsync(federation, scroll, federations, ledgers) is { } missing)
            {
                return missing;
            }

            var grain = grains.GetGrain<IScrollGrain>(scroll);
            var head = await grain.HeadAsync();
            if (seq >= head.Size)
            {
                return Problem(StatusCodes.Status404NotFound, "unknown_receipt", $"receipt {receipt} does not exist: scroll {scroll} holds {head.Size} receipts");
            }

            var signedSize = head.Checkpoint is { } note ? Core.Checkpoints.Checkpoint.Parse(Core.Checkpoints.SignedNote.Split(note).Text).Size : 0;
            if (seq >= signedSize)
            {
                return NotSealedYet($"receipt {receipt} is durable but no signed checkpoint covers it yet (the latest covers {signedSize}); the scroll seals within a second");
            }

            var bundle = await grain.ProveAsync(seq);
            return Results.Text(bundle.ToJson().ToJsonString(), "application/json");
        })
        .WithSummary("The inclusion bundle of a receipt (docs/formats/inclusion-bundle.md): verify it offline with `fed verify-bundle`")
        .ProducesProblem(StatusCodes.Status404NotFound);

        return routes;
    }

    /// <summary>
    /// Null when <paramref name="scroll"/> is one of <paramref name="federation"/>'s scrolls and exists; otherwise the 404 a
    /// request for data that does not exist gets. Asking never creates a scroll (a scroll grain's activation would).
    /// </summary>
    private static async Task<IResult?> FederationScrollAsync(string federation, string scroll, FederationDirectory federations, LedgerDirectory ledgers)
    {
        if (!federations.Contains(federation))
        {
            return UnknownFederation(federation);
        }

        if (!Core.Scrolls.FederationScrolls.All(federation).Contains(scroll, StringComparer.Ordinal) || !(await ledgers.Store.ListScrollsAsync()).Contains(scroll, StringComparer.Ordinal))
        {
            return Problem(StatusCodes.Status404NotFound, "unknown_scroll", $"scroll \"{scroll}\" does not exist in federation \"{federation}\" (its scrolls: {string.Join(", ", Core.Scrolls.FederationScrolls.All(federation))})");
        }

        return null;
    }

    private static IResult NotSealedYet(string detail) =>
        Problem(StatusCodes.Status404NotFound, "not_sealed_yet", detail, headers: new Dictionary<string, string> { ["Retry-After"] = "1" });

    /// <summary>A route that takes a signed message: an unknown federation is 404 before anything is read, then the body (bounded) goes to <paramref name="handle"/>.</summary>
    private static async Task<IResult> SignedMessageAsync(string federation, HttpRequest request, FederationDirectory federations, Func<byte[], Task<IResult>> handle)
    {
        if (!federations.Contains(federation))
        {
            return UnknownFederation(federation);
        }

        // The signed messages are JSON: any other declared type is a client speaking something else, refused unread.
        if (!IsJson(request.ContentType))
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
                $"the body must be the signed message as application/json, not {(string.IsNullOrEmpty(request.ContentType) ? "a body without Content-Type" : request.ContentType)}");
        }

        var (body, problem) = await ReadBodyAsync(request);
        return problem ?? await handle(body!);
    }

    private static bool IsJson(string? contentType) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        && (media.Charset.Length == 0 || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    /// <summary>The body, whole, when it is at most <see cref="MaxBodyBytes"/>; otherwise a 413 problem (nothing more is read).</summary>
    internal static async Task<(byte[]? Body, IResult? Problem)> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, TooLarge(request.ContentLength.Value));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return (null, TooLarge(buffer.Length + read));
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.Length == 0
            ? (null, Refused(IngestDecision.WireName(RefusalCode.MalformedMessage), "the request has no body: send the signed message"))
            : (buffer.ToArray(), null);
    }

    private static IResult TooLarge(long length) =>
        Problem(StatusCodes.Status413PayloadTooLarge, IngestDecision.WireName(RefusalCode.OversizedMessage), $"the request is at least {length} bytes, over the limit of {MaxBodyBytes}");

    internal static IResult UnknownFederation(string federation) =>
        Problem(StatusCodes.Status404NotFound, "unknown_federation", $"federation \"{federation}\" is not served here");

    /// <summary>A refusal as the scrolls record it, with the status its kind has (docs/formats/http-api.md).</summary>
    public static IResult Refused(string code, string message, string? evidenceReceipt = null) =>
        Problem(StatusFor(code), code, message, evidenceReceipt, code == IngestGateway.RateLimitedCode ? new Dictionary<string, string> { ["Retry-After"] = "1" } : null);

    /// <summary>400: the request cannot be read; 403: the sender may not do this; 409: it conflicts with the federation's state; 413: too large; 422: well-formed, but refused.</summary>
    public static int StatusFor(string code) => code switch
    {
        "malformed_message" or "missing_signature" or "malformed_payload" or "hash_mismatch" => StatusCodes.Status400BadRequest,
        "oversized_message" or "oversized_payload" => StatusCodes.Status413PayloadTooLarge,
        "bad_signature" or "unknown_node" or "pending_node" or "revoked_node" or "excluded_node" or "quarantined_node"
            or "departed_node" or "wrong_federation" or "wrong_ledger_block" => StatusCodes.Status403Forbidden,
        "future_epoch" or "stale_epoch" or "epoch_closed" or "base_state_mismatch" or "equivocation" => StatusCodes.Status409Conflict,
        IngestGateway.RateLimitedCode => StatusCodes.Status429TooManyRequests,
        _ => StatusCodes.Status422UnprocessableEntity,
    };

    /// <summary>RFC 9457 problem+json whose <c>code</c> is the refusal code; <paramref name="headers"/> are added to the answer (e.g. WWW-Authenticate).</summary>
    internal static IResult Problem(int status, string code, string detail, string? evidenceReceipt = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (evidenceReceipt is not null)
        {
            extensions["evidence_receipt"] = evidenceReceipt;
        }

        var problem = Results.Problem(detail, statusCode: status, title: code.Replace('_', ' '), type: $"https://federation-orleans/problems/{code}", extensions: extensions);
        return headers is null ? problem : new WithHeaders(problem, headers);
    }

    private sealed class WithHeaders(IResult inner, IReadOnlyDictionary<string, string> headers) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            foreach (var (name, value) in headers)
            {
                httpContext.Response.Headers[name] = value;
            }

            return inner.ExecuteAsync(httpContext);
        }
    }

    private sealed record SessionResponse(string LedgerBlockId, long? Seq, string? LeafHash, string Message);

    private sealed record UpdateResponse(Disposition Disposition, string ReceiptId, long Seq, string LeafHash, string Message);

    private sealed record HeartbeatResponse(Core.Membership.HeadVerdict Verdict, string Message, string? EvidenceReceipt);

    private sealed record EpochResponse(long OpenEpoch, long? ClosingEpoch, string OpenStateHash, DateTimeOffset OpenedAt);
}

using Federation.Grains.Services;
using Federation.Service.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Federation.Service;

/// <summary>
/// <c>fed serve</c>'s process: an ASP.NET Core application (Kestrel, minimal APIs) around the coordinator's Orleans
/// silo — the same silo, federations and stores as every other coordinator (<see cref="CoordinatorHost"/>), plus the
/// HTTP API and the Orleans Dashboard under <c>/dashboard</c> for cluster operators (<see cref="DashboardAccess"/>). Nothing of the working directory is read implicitly: no appsettings.json, no environment variables.
/// </summary>
public static class CoordinatorWeb
{
    /// <summary>What a client may take to send its request line and headers, and the longest idle keep-alive.</summary>
    public static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The OpenAPI document's name: it is served at <c>/openapi/v1.json</c>.</summary>
    public const string OpenApiDocument = "v1";

    /// <param name="urls">Where Kestrel listens, e.g. <c>http://127.0.0.1:8080</c>.</param>
    public static CoordinatorHost.HostShape Shape(IReadOnlyList<string> urls, string contentRoot) => new(
        () =>
        {
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = contentRoot });
            builder.WebHost.UseKestrelCore().UseUrls([.. urls]);
            builder.WebHost.ConfigureKestrel(ConfigureLimits);
            builder.Services.AddRoutingCore();
            builder.Services.AddProblemDetails();
            builder.Services.AddOpenApi(OpenApiDocument, o => o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Federation.Orleans coordinator";
                document.Info.Description = "The HTTP API of fed serve (docs/formats/http-api.md): signed protocol messages in, JSON or problem+json out.";
                return Task.CompletedTask;
            }));
            builder.Services.AddSingleton<IngestGateway>();
            builder.Services.AddHostedService<EpochKeeper>();
            return builder;
        },
        builder =>
        {
            RateLimits.Load(builder.Configuration).AddTo(builder.Services);
            DashboardAccess.AddTo(builder.Services, DashboardAccessOptions.Load(builder.Configuration), builder.Configuration[$"{SiloSettings.SectionName}:DataDirectory"]!);
            var app = ((WebApplicationBuilder)builder).Build();
            app.Use(AnswerUnavailableAsync);
            app.UseRateLimiter();
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapNodeApi();
            app.MapOperatorApi();
            app.MapReviewApi();
            app.MapDashboard();
            app.MapOpenApi("/openapi/{documentName}.json");
            return app;
        },
        DashboardAccess.AddTo);

    /// <summary>
    /// In a cluster, a grain whose silo just died cannot answer until membership has declared the silo dead and the grain
    /// has moved (seconds): such a request is answered 503 <c>unavailable</c> with <c>Retry-After: 1</c>, nothing of it
    /// decided, so the client sends it again (to this silo or another) instead of taking it for a failure.
    /// </summary>
    private static async Task AnswerUnavailableAsync(Microsoft.AspNetCore.Http.HttpContext context, Microsoft.AspNetCore.Http.RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (IsUnavailable(ex) && !context.Response.HasStarted)
        {
            context.Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status503ServiceUnavailable;
            await NodeApi.Problem(Microsoft.AspNetCore.Http.StatusCodes.Status503ServiceUnavailable, "unavailable",
                $"the federation's grains are moving to another silo ({ex.GetType().Name}); send the request again",
                headers: new Dictionary<string, string> { ["Retry-After"] = "1" }).ExecuteAsync(context);
        }
    }

    private static bool IsUnavailable(Exception ex) => ex is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException
        || (ex.InnerException is { } inner && IsUnavailable(inner));

    /// <summary>Slow or half-open clients cannot tie the server up: bounded headers, bodies, time and connections.</summary>
    private static void ConfigureLimits(KestrelServerOptions kestrel)
    {
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxRequestBodySize = NodeApi.MaxBodyBytes;
        kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
        kestrel.Limits.MaxRequestLineSize = 8 * 1024;
        kestrel.Limits.RequestHeadersTimeout = RequestHeadersTimeout;
        kestrel.Limits.KeepAliveTimeout = KeepAliveTimeout;
        kestrel.Limits.MaxConcurrentConnections = 10_000;
        // A body must arrive at 240 bytes/s or faster after a 5 s grace (Kestrel's rule): a trickling client is cut off.
        kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
    }
}

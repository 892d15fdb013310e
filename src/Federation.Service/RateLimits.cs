using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Service;

/// <summary>
/// Request rates <c>fed serve</c> admits (ASP.NET Core rate limiting, token buckets), from <c>Service:RateLimits</c>:
/// node routes per client address, operator routes per bearer token, dashboard logins per client address. Over the
/// rate a request is answered <c>429</c> problem+json (<c>rate_limited</c>; a page of its own where the route has a
/// <see cref="RejectionPage"/>) with <c>Retry-After</c> in seconds, and nothing of it is read or decided.
/// </summary>
/// <param name="PerNodeRequestsPerSecond">Each node's own bucket, spent by signed updates that verify (<see cref="Federation.Grains.Services.INodeAdmission"/>).</param>
/// <param name="LoginAttemptsPerMinute">Dashboard login attempts (<c>POST /dashboard/login</c>) per client address.</param>
public sealed record RateLimits(int NodeRequestsPerSecond, int NodeBurst, int TokenRequestsPerSecond, int TokenBurst, int PerNodeRequestsPerSecond = 50, int PerNodeBurst = 100, int LoginAttemptsPerMinute = 10, int LoginBurst = 10)
{
    public const string SectionName = "Service:RateLimits";
    public const string NodePolicy = "nodes";
    public const string TokenPolicy = "tokens";
    public const string LoginPolicy = "logins";

    public static readonly RateLimits Default = new(NodeRequestsPerSecond: 500, NodeBurst: 1000, TokenRequestsPerSecond: 20, TokenBurst: 40, PerNodeRequestsPerSecond: 50, PerNodeBurst: 100, LoginAttemptsPerMinute: 10, LoginBurst: 10);

    /// <summary>Endpoint metadata: how a route answers a request over its rate, given the seconds to wait (instead of problem+json).</summary>
    public sealed record RejectionPage(Func<HttpContext, int, Task> WriteAsync);

    /// <exception cref="ArgumentException">A setting is not a positive integer (naming it).</exception>
    public static RateLimits Load(IConfiguration configuration)
    {
        var section = configuration.GetSection(SectionName);
        int Read(string name, int fallback)
        {
            var text = section[name];
            return text is null ? fallback
                : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is > 0 and <= 1_000_000 ? value
                : throw new ArgumentException($"{SectionName}:{name} must be a whole number from 1 to 1000000, not \"{text}\"");
        }

        return new RateLimits(
            Read(nameof(NodeRequestsPerSecond), Default.NodeRequestsPerSecond),
            Read(nameof(NodeBurst), Default.NodeBurst),
            Read(nameof(TokenRequestsPerSecond), Default.TokenRequestsPerSecond),
            Read(nameof(TokenBurst), Default.TokenBurst),
            Read(nameof(PerNodeRequestsPerSecond), Default.PerNodeRequestsPerSecond),
            Read(nameof(PerNodeBurst), Default.PerNodeBurst),
            Read(nameof(LoginAttemptsPerMinute), Default.LoginAttemptsPerMinute),
            Read(nameof(LoginBurst), Default.LoginBurst));
    }

    public void AddTo(IServiceCollection services)
    {
        services.AddSingleton<Federation.Grains.Services.INodeAdmission>(new NodeBuckets(PerNodeRequestsPerSecond, PerNodeBurst));
        AddLimiter(services);
    }

    /// <summary>One token bucket per node (partitioned, created on first use, idle ones dropped by the limiter).</summary>
    private sealed class NodeBuckets(int perSecond, int burst) : Federation.Grains.Services.INodeAdmission, IDisposable
    {
        private readonly PartitionedRateLimiter<(string Federation, Federation.Core.Crypto.KeyFingerprint Node)> _limiter =
            PartitionedRateLimiter.Create<(string Federation, Federation.Core.Crypto.KeyFingerprint Node), (string, Federation.Core.Crypto.KeyFingerprint)>(
                key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = burst,
                    TokensPerPeriod = perSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));

        public bool TryAdmit(string federationId, Federation.Core.Crypto.KeyFingerprint node)
        {
            using var lease = _limiter.AttemptAcquire((federationId, node));
            return lease.IsAcquired;
        }

        public void Dispose() => _limiter.Dispose();
    }

    private void AddLimiter(IServiceCollection services) => services.AddRateLimiter(options =>
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.OnRejected = async (context, cancellationToken) =>
        {
            var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
            context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
            if (context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<RejectionPage>() is { } page)
            {
                await page.WriteAsync(context.HttpContext, retryAfter);
                return;
            }

            await NodeApi.Problem(StatusCodes.Status429TooManyRequests, "rate_limited", $"too many requests; retry after {retryAfter} s").ExecuteAsync(context.HttpContext);
        };
        options.AddPolicy(NodePolicy, http => Bucket($"ip:{http.Connection.RemoteIpAddress}", NodeRequestsPerSecond, NodeBurst));
        // A token's own bucket, before the token is checked: its hash names the partition (the token itself is never kept).
        options.AddPolicy(TokenPolicy, http => Bucket($"token:{OperatorApi.HashOf(http.Request.Headers.Authorization.ToString())}", TokenRequestsPerSecond, TokenBurst));
        options.AddPolicy(LoginPolicy, http => Bucket($"login:{http.Connection.RemoteIpAddress}", LoginAttemptsPerMinute, LoginBurst, TimeSpan.FromMinutes(1)));
    });

    private static RateLimitPartition<string> Bucket(string key, int perPeriod, int burst, TimeSpan? period = null) =>
        RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = period ?? TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
}

using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Federation.Agent;

/// <summary>An answer of a coordinator: its status and body (problem+json refusals carry the scrolls' <c>code</c>).</summary>
public sealed record CoordinatorReply(Uri Coordinator, HttpStatusCode Status, byte[] Body, string? MediaType)
{
    public bool Ok => (int)Status is >= 200 and < 300;

    /// <summary>The body as JSON, or null when it is not a JSON object or array.</summary>
    public JsonNode? Json => Body.Length > 0 && Body[0] is (byte)'{' or (byte)'[' ? JsonNode.Parse(Body) : null;

    /// <summary>The refusal code of a problem+json answer (or the status when it has none).</summary>
    public string Code => (Ok ? null : Json?["code"]?.GetValue<string>()) ?? $"http_{(int)Status}";

    public string Detail => Json?["detail"]?.GetValue<string>() ?? System.Text.Encoding.UTF8.GetString(Body);

    public override string ToString() => Ok ? $"{(int)Status}" : $"{Code}: {Detail}";
}

/// <summary>No coordinator of the list answered (each has been reported offline once).</summary>
public sealed class CoordinatorUnavailableException(string message) : Exception(message);

/// <summary>
/// HTTP to one of several coordinators (docs/formats/http-api.md). Requests go to the coordinator that answered last;
/// one that does not answer (connection refused or reset, no answer in time, or 503 after retries) is reported
/// <c>federation offline for &lt;url&gt;</c> once per outage and the next one is tried — failover. 429 and 503 are
/// retried by a Polly pipeline (Microsoft.Extensions.Http.Resilience) that waits what <c>Retry-After</c> says.
/// </summary>
public sealed class CoordinatorClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly IReadOnlyList<Uri> _coordinators;
    private readonly bool[] _offline;
    private readonly Action<string> _say;
    private int _current;
    private long _rateLimited;

    /// <param name="say">Where the client's one-line reports go (offline, back online, rate limited).</param>
    /// <param name="requestTimeout">How long one attempt may take before the coordinator counts as not answering.</param>
    public CoordinatorClient(IReadOnlyList<Uri> coordinators, Action<string> say, TimeSpan requestTimeout, int maxRetries = 4)
    {
        if (coordinators.Count == 0)
        {
            throw new ArgumentException("at least one coordinator URL is needed", nameof(coordinators));
        }

        _coordinators = [.. coordinators.Select(c => c.AbsoluteUri.EndsWith('/') ? c : new Uri(c.AbsoluteUri + "/"))];
        _offline = new bool[_coordinators.Count];
        _say = say;
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new HttpRetryStrategyOptions
            {
                // Only what the coordinator asks to be sent again: a rate limit, or a coordinator starting or stopping.
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result?.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable),
                ShouldRetryAfterHeader = true,
                MaxRetryAttempts = maxRetries,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(250),
                MaxDelay = TimeSpan.FromSeconds(5),
                OnRetry = args =>
                {
                    if (args.Outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests)
                    {
                        Interlocked.Increment(ref _rateLimited);
                        _say($"rate limited by {args.Outcome.Result.RequestMessage?.RequestUri?.GetLeftPart(UriPartial.Authority)}: waiting {args.RetryDelay.TotalSeconds:0.###} s (Retry-After)");
                    }

                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        var sockets = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(2),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        _http = new HttpClient(new ResilienceHandler(pipeline) { InnerHandler = sockets }) { Timeout = requestTimeout };
    }

    /// <summary>How many 429 answers the client waited out.</summary>
    public long RateLimited => Interlocked.Read(ref _rateLimited);

    /// <summary>The coordinator requests go to now.</summary>
    public Uri Current => _coordinators[_current];

    public Task<CoordinatorReply> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, ct);

    public Task<CoordinatorReply> PostAsync(string path, byte[] body, CancellationToken ct) => SendAsync(HttpMethod.Post, path, body, ct);

    /// <summary>Sends to the current coordinator, failing over through the others; any HTTP answer is returned (refusals too).</summary>
    /// <exception cref="CoordinatorUnavailableException">None of them answered.</exception>
    public async Task<CoordinatorReply> SendAsync(HttpMethod method, string path, byte[]? body, CancellationToken ct)
    {
        for (var tried = 0; tried < _coordinators.Count; tried++)
        {
            var index = (_current + tried) % _coordinators.Count;
            var coordinator = _coordinators[index];
            try
            {
                using var request = new HttpRequestMessage(method, new Uri(coordinator, path));
                if (body is not null)
                {
                    request.Content = new ByteArrayContent(body);
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                }

                using var response = await _http.SendAsync(request, ct);
                var bytes = await response.Content.ReadAsByteArrayAsync(ct);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    throw new HttpRequestException($"{coordinator} answered 503 (starting or stopping) after retries");
                }

                if (_offline[index])
                {
                    _offline[index] = false;
                    _say($"federation back online at {coordinator}");
                }

                _current = index;
                return new CoordinatorReply(coordinator, response.StatusCode, bytes, response.Content.Headers.ContentType?.MediaType);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && ex is HttpRequestException or TaskCanceledException or IOException)
            {
                if (!_offline[index])
                {
                    _offline[index] = true;
                    _say($"federation offline for {coordinator}");
                }
            }
        }

        throw new CoordinatorUnavailableException($"no coordinator answers ({string.Join(", ", _coordinators)})");
    }

    public void Dispose() => _http.Dispose();
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Protocol;
using Federation.Core.Signing;
using Federation.Grains.Services;

namespace Federation.Cli.Bench;

/// <summary>
/// <c>fed bench failover</c>: three <c>fed serve</c> processes over one PostgreSQL (<c>FED_BENCH_POSTGRES</c>, a
/// connection string; the run takes its own cluster id and federation id, so any database will do), nodes joined and
/// half of them having submitted; then the silo hosting the federation's update scroll is killed with kill -9 and the
/// other half submit through the survivors, each update sent again until it is acknowledged. <c>failover_s</c> is the
/// time from the kill to the first acknowledged update. The killed silo is restarted between rounds.
/// </summary>
public sealed class FailoverBenchSuite : IBenchSuite
{
    public const string PostgresVariable = "FED_BENCH_POSTGRES";
    private const int NodesPerRound = 20;

    public string Name => "failover";

    public string Description => $"Seconds from kill -9 of the silo hosting a federation's update scroll (one of three fed serve on PostgreSQL, ${PostgresVariable}) to its first acknowledged update";

    public async Task<BenchReport> RunAsync(bool quick, TextWriter progress, CancellationToken cancellationToken)
    {
        var connection = Environment.GetEnvironmentVariable(PostgresVariable);
        if (string.IsNullOrWhiteSpace(connection))
        {
            throw new ArgumentException($"fed bench failover needs a PostgreSQL database: set {PostgresVariable} to its connection string (e.g. Host=127.0.0.1;Port=5432;Username=postgres;Database=fed)");
        }

        var rounds = quick ? 1 : 3;
        var run = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
        var federation = "failover-" + run;
        var directory = Directory.CreateTempSubdirectory("fed-bench-failover-").FullName;
        var servers = new FedProcess?[3];
        var urls = new string[3];
        try
        {
            var keys = Enumerable.Range(0, rounds * NodesPerRound).Select(i => Ed25519PrivateKey.FromSeed(Sha256Digest.Of([.. BitConverter.GetBytes(i), .. System.Text.Encoding.UTF8.GetBytes(run)]).ToArray())).ToList();
            var settings = LocalFederation.Write(directory, federation, 4, keys.Select(k => k.Fingerprint), $$"""
                  "ConnectionStrings": { "Federation": "{{connection}}" },
                  "Hosting": { "Clustering": "postgres", "StorageProvider": "postgres", "ReminderProvider": "postgres",
                               "PostgresConnectionString": "{{connection}}", "ClusterId": "bench-{{run}}" },
                  "Epochs": { "Grace": "01:00:00", "Deadline": "02:00:00" },
                  "Anchors": { "Interval": "00:00:00" },
                """, scrolls: "\"Store\": \"postgres\", \"SigningKey\": \"data/keys/scroll.key\"");
            var token = await TokenAsync(settings, federation, Path.Combine(directory, "data-token"), cancellationToken);
            for (var i = 0; i < 3; i++)
            {
                (servers[i], urls[i]) = await StartAsync(settings, directory, i, cancellationToken);
            }

            progress.WriteLine(Invariant($"three fed serve on PostgreSQL (cluster bench-{run}): {string.Join(", ", urls)}; {rounds} round(s) of {NodesPerRound} nodes"));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var blocks = new string[keys.Count];
            for (var i = 0; i < keys.Count; i++)
            {
                var hello = await PostAsync(http, urls[0], federation, "hello", Sign(FederationHello.Create(federation, keys[i].Fingerprint, "bench", ["ingest.v1", "delta.vector.v1"], "f"), keys[i]), cancellationToken);
                var accept = SignedEnvelope.Parse(hello.Body);
                var session = await PostAsync(http, urls[0], federation, "session", Sign(SessionAck.Create(federation, keys[i].Fingerprint, accept.PayloadAs<FederationAccept>().SessionId, Sha256Digest.Of(accept.SignedBytes)), keys[i]), cancellationToken);
                blocks[i] = JsonNode.Parse(session.Body)!["ledger_block_id"]!.GetValue<string>();
            }

            var epoch = JsonNode.Parse(await http.GetStringAsync($"{urls[0]}/v1/federations/{federation}/epoch", cancellationToken))!;
            var state = Sha256Digest.Parse(epoch["open_state_hash"]!.GetValue<string>());
            var open = epoch["open_epoch"]!.GetValue<long>();
            var updates = keys.Select((k, i) =>
            {
                var (payload, hash) = UpdateDelta.Vector([0.1, 0.2, 0.3, 0.01 * (i % 7)]).Encode();
                return Sign(MetaUpdate.Create(federation, open, k.Fingerprint, hash, blocks[i], state, payload), k);
            }).ToList();

            var figures = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                var first = round * NodesPerRound;
                for (var i = first; i < first + (NodesPerRound / 2); i++)
                {
                    await PostAsync(http, urls[i % 3], federation, "updates", updates[i], cancellationToken);
                }

                var host = (await PlacementAsync(http, urls[0], federation, token, cancellationToken))["grains"]!["updates_scroll"]!.GetValue<string>();
                var victim = 0;
                for (var s = 0; s < 3; s++)
                {
                    if ((await PlacementAsync(http, urls[s], federation, token, cancellationToken))["silo"]!.GetValue<string>() == host)
                    {
                        victim = s;
                    }
                }

                var killed = Stopwatch.StartNew();
                servers[victim]!.Kill();
                var survivors = Enumerable.Range(0, 3).Where(s => s != victim).ToArray();
                TimeSpan? firstAck = null;
                for (var i = first + (NodesPerRound / 2); i < first + NodesPerRound; i++)
                {
                    for (var attempt = 0; ; attempt++)
                    {
                        var url = urls[survivors[attempt % survivors.Length]];
                        try
                        {
                            var reply = await PostAsync(http, url, federation, "updates", updates[i], cancellationToken, throwOnError: false);
                            if (reply.Status == HttpStatusCode.OK)
                            {
                                firstAck ??= killed.Elapsed;
                                break;
                            }
                        }
                        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                        {
                            // not answered: the next survivor
                        }

                        if (killed.Elapsed > TimeSpan.FromMinutes(2))
                        {
                            throw new InvalidOperationException("no survivor acknowledged an update within 2 minutes of the kill");
                        }

                        await Task.Delay(20, cancellationToken);
                    }
                }

                figures.Add(firstAck!.Value.TotalSeconds);
                progress.WriteLine(Invariant($"  round {round + 1}: killed the silo at {urls[victim]} (it hosted {federation}.updates); first update acknowledged by a survivor after {firstAck.Value.TotalSeconds:N2} s"));
                await servers[victim]!.DisposeAsync();
                (servers[victim], urls[victim]) = await StartAsync(settings, directory, 3 + round, cancellationToken);
                var waited = Stopwatch.StartNew();
                while ((await PlacementAsync(http, urls[victim], federation, token, cancellationToken))["silos"]!.AsArray().Count < 3 && waited.Elapsed < TimeSpan.FromSeconds(60))
                {
                    await Task.Delay(200, cancellationToken);
                }
            }

            figures.Sort();
            return new BenchReport(Name,
            [
                new BenchResult("failover_s", Math.Round(figures[figures.Count / 2], 3), "s (median; goal ≤ 5)", null),
                new BenchResult("failover_max_s", Math.Round(figures[^1], 3), "s", null),
            ]);
        }
        finally
        {
            foreach (var server in servers)
            {
                if (server is not null)
                {
                    await server.DisposeAsync();
                }
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<(FedProcess Server, string Url)> StartAsync(string settings, string directory, int index, CancellationToken ct)
    {
        var url = $"http://127.0.0.1:{SiloSettings.FreePort().ToString(CultureInfo.InvariantCulture)}";
        var server = FedProcess.Start($"serve-{index}", ["serve", "--settings", settings, "--urls", url, "--data-dir", Path.Combine(directory, $"data-{index}")], (_, _) => { });
        if (!await server.WaitHealthyAsync(url, TimeSpan.FromSeconds(120), ct))
        {
            throw new InvalidOperationException($"fed serve {index} did not become healthy within 120 s");
        }

        return (server, url);
    }

    private static async Task<string> TokenAsync(string settings, string federation, string dataDirectory, CancellationToken ct)
    {
        var output = new System.Text.StringBuilder();
        await using var process = FedProcess.Start("token", ["token", "create", "--federation", federation, "--role", "auditor", "--settings", settings, "--data-dir", dataDirectory], (_, line) =>
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        });
        if (await process.WaitForExitAsync(TimeSpan.FromSeconds(120), ct) != 0)
        {
            throw new InvalidOperationException($"fed token create failed: {output}");
        }

        return output.ToString().Split('\n').First(l => l.StartsWith(Service.OperatorApi.TokenPrefix, StringComparison.Ordinal)).Trim();
    }

    private static async Task<JsonNode> PlacementAsync(HttpClient http, string url, string federation, string token, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{url}/v1/federations/{federation}/placement");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, ct);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!;
    }

    private static async Task<(HttpStatusCode Status, byte[] Body)> PostAsync(HttpClient http, string url, string federation, string path, byte[] body, CancellationToken ct, bool throwOnError = true)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync($"{url}/v1/federations/{federation}/{path}", content, ct);
        var answer = await response.Content.ReadAsByteArrayAsync(ct);
        return response.StatusCode == HttpStatusCode.OK || !throwOnError
            ? (response.StatusCode, answer)
            : throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(answer)}");
    }

    private static byte[] Sign<T>(T payload, Ed25519PrivateKey key) => SignedEnvelope.Sign(payload, new Ed25519Signer(key)).ToCanonicalJson();

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

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
/// <c>fed bench http-ingest</c>: signed updates acknowledged per second by a real <c>fed serve</c> process (embedded
/// default: file scrolls, durable acks) over HTTP/1.1 keep-alive on loopback, from concurrent clients in this process,
/// beside raw Ed25519 verification of the same updates on the same two cores in the same run. Every node joins through
/// the handshake first (unmeasured); then every node submits one update per epoch, the first epoch warming the server
/// up, the others measured (first request sent → last ack read), with each update's ack latency (the server answers
/// only once the receipt is durable). Updates are signed before each epoch's clock starts.
/// </summary>
public sealed class HttpIngestBenchSuite : IBenchSuite
{
    private const string Federation = "bench";
    private const int Dimension = 16;

    public string Name => "http-ingest";

    public string Description => "Signed updates acknowledged per second by fed serve over HTTP on loopback (durable acks), beside raw Ed25519 verifies on the same two cores";

    public async Task<BenchReport> RunAsync(bool quick, TextWriter progress, CancellationToken cancellationToken)
    {
        // Nodes join one at a time through the federation grain (about 40 joins/s on this disk), so the measurement runs
        // several epochs of every node's update rather than one epoch of very many nodes.
        var nodes = quick ? 400 : 2000;
        var epochs = quick ? 4 : 10;
        var clients = 64;
        var directory = Directory.CreateTempSubdirectory("fed-bench-http-").FullName;
        try
        {
            var keys = Enumerable.Range(0, nodes).Select(i => Ed25519PrivateKey.FromSeed(Sha256Digest.Of(BitConverter.GetBytes(i)).ToArray())).ToList();
            // An epoch closes a grace after a quorum has submitted: long enough for the rest of its updates to arrive. The
            // rate limits are for the open Internet, not for a benchmark's 64 clients on one address.
            var settings = LocalFederation.Write(directory, Federation, Dimension, keys.Select(k => k.Fingerprint), """
                  "Epochs": { "Grace": "00:00:03", "CheckInterval": "00:00:00.100" },
                  "Anchors": { "Interval": "00:00:00" },
                  "Service": { "RateLimits": { "NodeRequestsPerSecond": 1000000, "NodeBurst": 1000000 } },
                """);
            var url = $"http://127.0.0.1:{SiloSettings.FreePort().ToString(CultureInfo.InvariantCulture)}";
            progress.WriteLine(Invariant($"{nodes:N0} nodes, 1 warm-up epoch and {epochs} measured, {clients} concurrent HTTP/1.1 keep-alive clients; fed serve (file scrolls, durable acks) at {url}"));
            await using var server = FedProcess.Start("serve", ["serve", "--settings", settings, "--urls", url], (_, line) => { });
            if (!await server.WaitHealthyAsync(url, TimeSpan.FromSeconds(120), cancellationToken))
            {
                throw new InvalidOperationException("fed serve did not become healthy within 120 s");
            }

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
            {
                BaseAddress = new Uri(url + "/v1/federations/" + Federation + "/"),
                Timeout = TimeSpan.FromMinutes(2),
            };
            var join = Stopwatch.StartNew();
            var blocks = new string[nodes];
            await ForEachAsync(nodes, clients, async i =>
            {
                var hello = await PostAsync(http, "hello", Sign(FederationHello.Create(Federation, keys[i].Fingerprint, "bench", ["ingest.v1", "delta.vector.v1"], "b"), keys[i]), cancellationToken);
                var accept = SignedEnvelope.Parse(hello);
                var session = await PostAsync(http, "session", Sign(SessionAck.Create(Federation, keys[i].Fingerprint, accept.PayloadAs<FederationAccept>().SessionId, Sha256Digest.Of(accept.SignedBytes)), keys[i]), cancellationToken);
                blocks[i] = JsonNode.Parse(session)!["ledger_block_id"]!.GetValue<string>();
            });
            progress.WriteLine(Invariant($"  {nodes:N0} nodes joined in {join.Elapsed.TotalSeconds:N1} s (hello + session ack each)"));

            IngestBenchSuite.VerifyBurst? verifier = null;
            var latencies = new List<double>();
            var seconds = 0.0;
            var cpu = TimeSpan.Zero;
            var opened = 0L;
            for (var round = 0; round <= epochs; round++)
            {
                // The next epoch, once it is open (the previous one closed after its grace, was voted on and applied).
                JsonNode epoch;
                var waited = Stopwatch.StartNew();
                while ((epoch = JsonNode.Parse(await http.GetStringAsync("epoch", cancellationToken))!)["open_epoch"]!.GetValue<long>() <= opened || epoch["closing_epoch"] is not null)
                {
                    if (waited.Elapsed > TimeSpan.FromMinutes(2))
                    {
                        throw new InvalidOperationException($"epoch {opened + 1} did not open within 2 minutes");
                    }

                    await Task.Delay(50, cancellationToken);
                }

                opened = epoch["open_epoch"]!.GetValue<long>();
                var (updates, envelopes) = SignEpoch(keys, blocks, opened, Sha256Digest.Parse(epoch["open_state_hash"]!.GetValue<string>()));
                verifier ??= new IngestBenchSuite.VerifyBurst(envelopes, [.. keys.Select(k => k.PublicKey)], threads: 2);
                verifier.Run(0.5);
                var roundLatencies = new double[nodes];
                var cpuBefore = ProcessCpu(server.Id);
                var measured = Stopwatch.StartNew();
                await SubmitAsync(http, updates, clients, roundLatencies, cancellationToken);
                if (round > 0)
                {
                    seconds += measured.Elapsed.TotalSeconds;
                    cpu += ProcessCpu(server.Id) - cpuBefore;
                    latencies.AddRange(roundLatencies);
                }

                progress.WriteLine(Invariant($"  epoch {opened}{(round == 0 ? " (warm-up)" : string.Empty)}: {nodes:N0} updates acknowledged in {measured.Elapsed.TotalSeconds:N2} s"));
            }

            var sorted = latencies.ToArray();
            Array.Sort(sorted);
            var count = nodes * epochs;
            var acked = count / seconds;
            var p50 = Percentile(sorted, 0.50);
            var p99 = Percentile(sorted, 0.99);
            progress.WriteLine(Invariant($"  {count:N0} updates acknowledged in {seconds:N2} s: {acked:N0}/s, ack latency p50 {p50:N2} ms, p99 {p99:N2} ms; fed serve used {cpu.TotalMicroseconds / count:N1} µs CPU per update"));
            progress.WriteLine(Invariant($"  raw Ed25519 verify (NSec) of the same updates on 2 threads, between the epochs: {verifier!.PerSecond:N0}/s; ratio {acked / verifier.PerSecond:N3}"));

            server.Terminate();
            return new BenchReport(Name,
            [
                new BenchResult("http_updates_acked_per_s", Math.Round(acked), "updates/s", new BenchBaseline("verifies_per_s_2core", Math.Round(verifier.PerSecond), "verifies/s")),
                new BenchResult("http_ack_latency_p50_ms", Math.Round(p50, 3), "ms", null),
                new BenchResult("http_ack_latency_p99_ms", Math.Round(p99, 3), "ms", null),
                new BenchResult("server_cpu_us_per_update", Math.Round(cpu.TotalMicroseconds / count, 1), "µs", null),
            ]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Every node's signed update for <paramref name="epoch"/> on <paramref name="state"/> (signed before the clock starts).</summary>
    private static (byte[][] Updates, SignedEnvelope[] Envelopes) SignEpoch(IReadOnlyList<Ed25519PrivateKey> keys, string[] blocks, long epoch, Sha256Digest state)
    {
        var updates = new byte[keys.Count][];
        var envelopes = new SignedEnvelope[keys.Count];
        Parallel.For(0, keys.Count, i =>
        {
            var values = Enumerable.Range(0, Dimension).Select(d => Math.Round((((i * 31) + d + epoch) % 97) / 970.0, 6)).ToArray();
            var (payload, hash) = UpdateDelta.Vector(values).Encode();
            envelopes[i] = SignedEnvelope.Sign(MetaUpdate.Create(Federation, epoch, keys[i].Fingerprint, hash, blocks[i], state, payload), new Ed25519Signer(keys[i]));
            updates[i] = envelopes[i].ToCanonicalJson();
        });
        return (updates, envelopes);
    }

    /// <summary>Sends the updates with <paramref name="clients"/> in flight; each must be acknowledged accepted.</summary>
    private static Task SubmitAsync(HttpClient http, byte[][] updates, int clients, double[] latencies, CancellationToken ct) =>
        ForEachAsync(updates.Length, clients, async i =>
        {
            var started = Stopwatch.GetTimestamp();
            var ack = await PostAsync(http, "updates", updates[i], ct);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (ack.AsSpan().IndexOf("\"disposition\":\"accepted\""u8) >= 0)
            {
                return;
            }

            throw new InvalidOperationException($"update {i} was not accepted: {System.Text.Encoding.UTF8.GetString(ack)}");
        });

    private static async Task ForEachAsync(int count, int concurrency, Func<int, Task> body)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await body(i);
            }
        }));
    }

    private static async Task<byte[]> PostAsync(HttpClient http, string path, byte[] body, CancellationToken ct)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync(path, content, ct);
        var answer = await response.Content.ReadAsByteArrayAsync(ct);
        return response.StatusCode == HttpStatusCode.OK
            ? answer
            : throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(answer)}");
    }

    private static byte[] Sign<T>(T payload, Ed25519PrivateKey key) => SignedEnvelope.Sign(payload, new Ed25519Signer(key)).ToCanonicalJson();

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    /// <summary>A process's CPU time (user + system) from /proc/PID/stat.</summary>
    private static TimeSpan ProcessCpu(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Federation.Core.Crypto;
using Federation.Core.Membership;
using Federation.Grains.Services;
using Federation.Storage.Governance;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Federation.Grains.Tests;

/// <summary>OTLP export through OpenTelemetry.Extensions.Hosting: Orleans' meters and sources and the product's, to a loopback receiver.</summary>
public sealed class TelemetryExportTests
{
    [Fact]
    public async Task A_silo_with_an_otlp_endpoint_exports_orleans_and_federation_metrics_and_traces_over_http_protobuf()
    {
        var port = SiloSettings.FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var received = new ConcurrentDictionary<string, List<byte[]>>();
        var serving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                if (context.Request.ContentType == "application/x-protobuf")
                {
                    received.GetOrAdd(context.Request.Url!.AbsolutePath, _ => []).Add(body.ToArray());
                }

                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        using var directory = new TempDirectory();
        var node = Ed25519PrivateKey.FromSeed(FederationFixture.Seed(7));
        using var federations = new FederationDirectory([new FederationSettings
        {
            Policy = FederationFixture.Policy("fed1"),
            GovernanceKey = Ed25519PrivateKey.FromSeed(FederationFixture.Seed(101)),
        }]);
        await using var ledgers = new LedgerDirectory(ScrollStores.Create(new ScrollStoreOptions { DataDirectory = directory.Path }), Ed25519PrivateKey.FromSeed(FederationFixture.Seed(200)), new ScrollLedgerOptions(), TimeProvider.System);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(silo =>
        {
            new SiloSettings { StorageProvider = SiloSettings.MemoryProvider, ReminderProvider = SiloSettings.MemoryProvider, OtlpEndpoint = new Uri($"http://127.0.0.1:{port}"), MetricsExportInterval = TimeSpan.FromMilliseconds(200) }.Apply(silo);
            silo.AddFederationGrains(federations, ledgers, governanceLog: new GovernanceLog(directory.File(GovernanceLog.FileName)));
        });
        using (var host = builder.Build())
        {
            await host.StartAsync();
            var grains = host.Services.GetRequiredService<IGrainFactory>();
            await grains.GetGrain<IFederationGrain>("fed1").RegisterNodeAsync(new NodeRegistration(node.Fingerprint, TrustLevel.Federated, SyncPolicy.Bidirectional, ["ingest.v1"]));
            Assert.NotNull(await grains.GetGrain<INodeGrain>(NodeKey.For("fed1", node.Fingerprint)).GetAsync());
            for (var i = 0; i < 100 && !Received("/v1/metrics").Contains("Federation.Coordinator"); i++)
            {
                await Task.Delay(100);
            }

            await host.StopAsync(); // disposing the host flushes and stops the exporters
        }

        listener.Stop();
        await serving;
        var metrics = Received("/v1/metrics");
        var traces = Received("/v1/traces");
        Assert.Contains("Microsoft.Orleans", metrics);
        Assert.Contains("Federation.Coordinator", metrics);
        Assert.Contains("federation.nodes", metrics);
        Assert.Contains("Microsoft.Orleans", traces);

        string Received(string path) => received.TryGetValue(path, out var bodies) ? Encoding.UTF8.GetString(bodies.ToArray().SelectMany(b => b).ToArray()) : string.Empty;
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Federation.Hosting.Scheduling;
using Federation.Hosting.Tests.Grains;
using Microsoft.Extensions.Configuration;

namespace Federation.Hosting.Tests.Telemetry;

/// <summary>
/// Metrics and spans under "Federation.", and their export over OTLP when an endpoint is configured.
/// Listeners are process-wide, so they keep only the "metered" grain type, which no other test class uses.
/// </summary>
[Collection(nameof(TelemetryTests))]
public class TelemetryTests
{
    private const string GrainType = "metered";

    [Fact]
    public void Calls_errors_and_latency_are_recorded_per_grain_type_and_method_through_System_Diagnostics_Metrics()
    {
        var measurements = new ConcurrentQueue<(string Instrument, string? Method)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Federation.Grains")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => Record(instrument, tags));
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => Record(instrument, tags));
        listener.Start();

        var sim = new SimulationScheduler(seed: 5);
        sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(sim, new Journal()));
            var grain = host.GrainFactory.GetGrain<IMeteredGrain>("m");
            await grain.Ping();
            await grain.Ping();
            await Assert.ThrowsAsync<InvalidOperationException>(grain.Fail);
            await host.StopAsync(CancellationToken.None);
        });

        Assert.Equal(2, measurements.Count(m => m == ("federation.grains.calls", "Ping")));
        Assert.Equal(2, measurements.Count(m => m == ("federation.grains.call.duration", "Ping")));
        Assert.Equal(1, measurements.Count(m => m == ("federation.grains.calls", "Fail")));
        Assert.Equal(1, measurements.Count(m => m == ("federation.grains.errors", "Fail")));
        Assert.Equal(0, measurements.Count(m => m == ("federation.grains.errors", "Ping")));
        Assert.Contains(measurements, m => m == ("federation.grains.activations.created", null));

        void Record(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? type = null, method = null;
            foreach (var tag in tags)
            {
                switch (tag.Key)
                {
                    case "grain.type":
                        type = tag.Value as string;
                        break;
                    case "grain.method":
                        method = tag.Value as string;
                        break;
                }
            }

            if (type == GrainType)
            {
                measurements.Enqueue((instrument.Name, method));
            }
        }
    }

    [Fact]
    public void Each_call_is_a_span_named_after_type_and_method_and_nested_calls_are_its_children()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Federation.Grains",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("grain.id") is string id && id.StartsWith(GrainType + "/", StringComparison.Ordinal))
                {
                    spans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        var sim = new SimulationScheduler(seed: 6);
        sim.Run(async () =>
        {
            var host = await TestHosts.StartAsync(TestHosts.Simulated(sim, new Journal()));
            Assert.Equal(2, await host.GrainFactory.GetGrain<IMeteredGrain>("outer").Forward("inner"));
            await Assert.ThrowsAsync<InvalidOperationException>(host.GrainFactory.GetGrain<IMeteredGrain>("outer").Fail);
            await host.StopAsync(CancellationToken.None);
        });

        var forward = Assert.Single(spans, s => s.DisplayName == "metered.Forward");
        var ping = Assert.Single(spans, s => s.DisplayName == "metered.Ping");
        var fail = Assert.Single(spans, s => s.DisplayName == "metered.Fail");
        Assert.Equal("metered/inner", ping.GetTagItem("grain.id"));
        Assert.Equal(forward.SpanId, ping.ParentSpanId);
        Assert.Equal(forward.TraceId, ping.TraceId);
        Assert.Equal(ActivityStatusCode.Error, fail.Status);
    }

    [Fact]
    public async Task With_an_OTLP_endpoint_configured_traces_and_metrics_are_exported_over_http()
    {
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var received = new ConcurrentDictionary<string, string>();
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

                await context.Request.InputStream.CopyToAsync(Stream.Null);
                received[context.Request.Url!.AbsolutePath] = context.Request.ContentType ?? "";
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Telemetry:OtlpEndpoint"] = $"http://127.0.0.1:{port}",
                ["Hosting:StorageProvider"] = "memory",
                ["Hosting:ReminderProvider"] = "memory",
            })
            .Build();
        var host = new GrainHostBuilder(configuration).WithTestGrains(new Journal()).Build();
        await host.StartAsync(CancellationToken.None);
        await host.GrainFactory.GetGrain<IMeteredGrain>("otlp").Ping();
        await host.StopAsync(CancellationToken.None);
        await host.DisposeAsync(); // flushes and stops the exporters

        Assert.Equal("application/x-protobuf", received.GetValueOrDefault("/v1/traces"));
        Assert.Equal("application/x-protobuf", received.GetValueOrDefault("/v1/metrics"));
        listener.Stop();
        await serving;
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}

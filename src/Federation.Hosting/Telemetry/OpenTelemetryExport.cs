using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Federation.Hosting.Telemetry;

/// <summary>
/// OTLP export of every <c>Federation.*</c> activity source and meter, over HTTP/protobuf, started with the
/// host and disposed with it (OpenTelemetry.Extensions.Hosting is not available here; see ARCHITECTURE.md).
/// </summary>
internal sealed class OpenTelemetryExport : IDisposable
{
    public const string SourcePattern = "Federation.*";

    private readonly TracerProvider _tracing;
    private readonly MeterProvider _metrics;

    public OpenTelemetryExport(Uri endpoint)
    {
        var root = endpoint.ToString().TrimEnd('/');
        _tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(SourcePattern)
            .AddOtlpExporter(o =>
            {
                o.Protocol = OtlpExportProtocol.HttpProtobuf;
                o.Endpoint = new Uri(root + "/v1/traces");
            })
            .Build();
        _metrics = Sdk.CreateMeterProviderBuilder()
            .AddMeter(SourcePattern)
            .AddOtlpExporter(o =>
            {
                o.Protocol = OtlpExportProtocol.HttpProtobuf;
                o.Endpoint = new Uri(root + "/v1/metrics");
            })
            .Build();
    }

    /// <summary>Flushes what is buffered and stops the exporters.</summary>
    public void Dispose()
    {
        _tracing.Dispose();
        _metrics.Dispose();
    }
}

using System.Net;
using System.Net.Sockets;
using Federation.Storage.Orleans;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Orleans.Configuration;

namespace Federation.Grains.Services;

/// <summary>
/// The silo's settings from appsettings.json (section <c>Hosting</c>, and <c>Telemetry</c>), applied to an Orleans
/// <see cref="ISiloBuilder"/>: where grain state and reminders live, idle collection, the call timeout, the shortest
/// reminder period and the OTLP export. Bad settings stop start-up with a message naming the setting.
/// </summary>
public sealed record SiloSettings
{
    public const string SectionName = "Hosting";
    public const string DefaultDataDirectory = "data";
    public const string FileProvider = "file";
    public const string PostgresProvider = "postgres";
    public const string MemoryProvider = "memory";
    public const string LocalhostClustering = "localhost";
    public const string DefaultClusterId = "federation";

    /// <summary>Orleans' defaults, kept: an activation idle this long is collected; the collector runs this often.</summary>
    public static readonly TimeSpan DefaultCollectionAge = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan DefaultCollectionQuantum = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan DefaultDeactivationTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultMinimumReminderPeriod = TimeSpan.FromMinutes(1);

    /// <summary>Meters and activity sources exported over OTLP: Orleans' own and the product's.</summary>
    public static readonly string[] Meters = ["Microsoft.Orleans", "Federation.*"];
    public static readonly string[] ActivitySources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "Microsoft.Orleans.Lifecycle", "Microsoft.Orleans.Storage", "Federation.*"];

    public string DataDirectory { get; init; } = DefaultDataDirectory;

    public string StorageProvider { get; init; } = FileProvider;

    public string ReminderProvider { get; init; } = FileProvider;

    public string? PostgresConnectionString { get; init; }

    /// <summary>
    /// How silos find each other (<c>Hosting:Clustering</c>): <c>localhost</c>, one silo on the loopback interface (the
    /// embedded default), or <c>postgres</c>, Orleans' ADO.NET membership table in the database, so several silo
    /// processes form one cluster and a client finds their gateways there.
    /// </summary>
    public string Clustering { get; init; } = LocalhostClustering;

    /// <summary>The cluster's and the service's id (<c>Hosting:ClusterId</c>); silos with the same id in one database form one cluster.</summary>
    public string ClusterId { get; init; } = DefaultClusterId;

    /// <summary>The silo-to-silo port (<c>Hosting:SiloPort</c>); 0 picks a free one.</summary>
    public int SiloPort { get; init; }

    /// <summary>The port external clients connect to (<c>Hosting:GatewayPort</c>); 0 runs no gateway.</summary>
    public int GatewayPort { get; init; }

    /// <summary>The address this silo advertises to the others in the membership table (<c>Hosting:AdvertisedAddress</c>).</summary>
    public IPAddress AdvertisedAddress { get; init; } = IPAddress.Loopback;

    public TimeSpan CollectionAge { get; init; } = DefaultCollectionAge;

    public TimeSpan CollectionQuantum { get; init; } = DefaultCollectionQuantum;

    public TimeSpan DeactivationTimeout { get; init; } = DefaultDeactivationTimeout;

    public TimeSpan CallTimeout { get; init; } = DefaultCallTimeout;

    public TimeSpan MinimumReminderPeriod { get; init; } = DefaultMinimumReminderPeriod;

    /// <summary>
    /// Failure detection of a cluster on PostgreSQL (<c>Hosting:Membership:ProbeTimeout</c>, <c>NumMissedProbesLimit</c>,
    /// <c>TableRefreshTimeout</c>): a silo that misses this many probes of this timeout is voted dead and its grains move.
    /// Orleans' defaults (10 s, 3, 60 s) take about 11 s; these about 2 s (ORLEANS.md), which keeps a federation whose
    /// silo was killed served again within 5 s.
    /// </summary>
    public TimeSpan ProbeTimeout { get; init; } = DefaultProbeTimeout;

    public int NumMissedProbesLimit { get; init; } = DefaultNumMissedProbesLimit;

    public TimeSpan TableRefreshTimeout { get; init; } = DefaultTableRefreshTimeout;

    public static readonly TimeSpan DefaultProbeTimeout = TimeSpan.FromSeconds(1);
    public const int DefaultNumMissedProbesLimit = 2;
    public static readonly TimeSpan DefaultTableRefreshTimeout = TimeSpan.FromSeconds(2);

    /// <summary>OTLP/HTTP (protobuf) endpoint, e.g. http://127.0.0.1:4318; null disables export.</summary>
    public Uri? OtlpEndpoint { get; init; }

    public static readonly TimeSpan DefaultMetricsExportInterval = TimeSpan.FromSeconds(15);

    /// <summary>How often metrics are pushed to the OTLP endpoint (<c>Telemetry:MetricsExportInterval</c>).</summary>
    public TimeSpan MetricsExportInterval { get; init; } = DefaultMetricsExportInterval;

    public static SiloSettings Load(IConfiguration configuration, string dataDirectory)
    {
        var section = configuration.GetSection(SectionName);
        string[] providers = [FileProvider, PostgresProvider, MemoryProvider];
        string Provider(string name)
        {
            var value = section[name] ?? FileProvider;
            return providers.Contains(value) ? value : throw new ArgumentException($"{SectionName}:{name} is \"{value}\"; expected one of {string.Join(", ", providers)}");
        }

        TimeSpan Positive(string name, TimeSpan fallback)
        {
            TimeSpan value;
            try
            {
                value = section.GetValue(name, fallback);
            }
            catch (InvalidOperationException ex)
            {
                throw new ArgumentException($"{SectionName}:{name} is not a time span (hh:mm:ss): {ex.InnerException?.Message ?? ex.Message}", ex);
            }

            return value > TimeSpan.Zero ? value : throw new ArgumentException($"{SectionName}:{name} must be positive (is {value})");
        }

        int Port(string name)
        {
            var value = section[name];
            if (string.IsNullOrEmpty(value))
            {
                return 0;
            }

            return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port <= IPEndPoint.MaxPort
                ? port
                : throw new ArgumentException($"{SectionName}:{name} is \"{value}\"; expected a TCP port (0 to {IPEndPoint.MaxPort}, 0 for a free one)");
        }

        var clustering = section["Clustering"] ?? LocalhostClustering;
        if (clustering is not (LocalhostClustering or PostgresProvider))
        {
            throw new ArgumentException($"{SectionName}:Clustering is \"{clustering}\"; expected one of {LocalhostClustering}, {PostgresProvider}");
        }

        var advertised = section["AdvertisedAddress"];
        IPAddress? address = null;
        if (!string.IsNullOrEmpty(advertised) && !IPAddress.TryParse(advertised, out address))
        {
            throw new ArgumentException($"{SectionName}:AdvertisedAddress \"{advertised}\" is not an IP address");
        }

        var clusterId = section["ClusterId"] ?? DefaultClusterId;
        if (clusterId.Length is 0 or > 150 || clusterId.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new ArgumentException($"{SectionName}:ClusterId \"{clusterId}\" must be 1 to 150 characters without spaces");
        }

        var otlp = configuration["Telemetry:OtlpEndpoint"];
        Uri? endpoint = null;
        if (!string.IsNullOrEmpty(otlp) && !Uri.TryCreate(otlp, UriKind.Absolute, out endpoint))
        {
            throw new ArgumentException($"Telemetry:OtlpEndpoint \"{otlp}\" is not an absolute URI");
        }

        var settings = new SiloSettings
        {
            DataDirectory = dataDirectory,
            StorageProvider = Provider("StorageProvider"),
            ReminderProvider = Provider("ReminderProvider"),
            PostgresConnectionString = section["PostgresConnectionString"],
            Clustering = clustering,
            ClusterId = clusterId,
            SiloPort = Port("SiloPort"),
            GatewayPort = Port("GatewayPort"),
            AdvertisedAddress = address ?? IPAddress.Loopback,
            CollectionAge = Positive("Collection:CollectionAge", DefaultCollectionAge),
            CollectionQuantum = Positive("Collection:CollectionQuantum", DefaultCollectionQuantum),
            DeactivationTimeout = Positive("Collection:DeactivationTimeout", DefaultDeactivationTimeout),
            CallTimeout = Positive("Messaging:CallTimeout", DefaultCallTimeout),
            MinimumReminderPeriod = Positive("Reminders:MinimumPeriod", DefaultMinimumReminderPeriod),
            ProbeTimeout = Positive("Membership:ProbeTimeout", DefaultProbeTimeout),
            NumMissedProbesLimit = section.GetValue("Membership:NumMissedProbesLimit", DefaultNumMissedProbesLimit) is var probes && probes is >= 1 and <= 100
                ? probes
                : throw new ArgumentException($"{SectionName}:Membership:NumMissedProbesLimit must be 1 to 100 (is {section["Membership:NumMissedProbesLimit"]})"),
            TableRefreshTimeout = Positive("Membership:TableRefreshTimeout", DefaultTableRefreshTimeout),
            OtlpEndpoint = endpoint,
            MetricsExportInterval = configuration.GetValue("Telemetry:MetricsExportInterval", DefaultMetricsExportInterval) is { } interval && interval > TimeSpan.Zero
                ? interval
                : throw new ArgumentException("Telemetry:MetricsExportInterval must be positive"),
        };
        if (settings.CollectionQuantum > settings.CollectionAge)
        {
            throw new ArgumentException($"{SectionName}:Collection:CollectionQuantum ({settings.CollectionQuantum}) must be at most the collection age ({settings.CollectionAge})");
        }

        if (settings.UsesPostgres && string.IsNullOrWhiteSpace(settings.PostgresConnectionString))
        {
            throw new ArgumentException($"{SectionName}:PostgresConnectionString is required when the clustering, storage or reminder provider is \"postgres\"");
        }

        if (settings.Clustering == PostgresProvider && settings.StorageProvider != PostgresProvider)
        {
            // A grain moves to another silo when its silo dies; state in one silo's files would be left behind.
            throw new ArgumentException($"{SectionName}:Clustering \"postgres\" needs StorageProvider \"postgres\" (grain state must be reachable from every silo; is \"{settings.StorageProvider}\")");
        }

        return settings;
    }

    private bool UsesPostgres => Clustering == PostgresProvider || StorageProvider == PostgresProvider || ReminderProvider == PostgresProvider;

    /// <summary>
    /// Applies the settings. The embedded default clusters on localhost (one silo); <c>postgres</c> clustering joins the
    /// cluster in the database's membership table. <see cref="SiloPort"/> 0 picks a free port, <see cref="GatewayPort"/>
    /// 0 runs no gateway for external clients. Whatever part is on PostgreSQL migrates the project's Orleans schema
    /// when the silo starts (docs/formats/orleans-postgres.md).
    /// </summary>
    /// <param name="readOnlyState">A reading command's silo: file grain state is read, never written.</param>
    public ISiloBuilder Apply(ISiloBuilder silo, bool reminders = true, bool readOnlyState = false)
    {
        var siloPort = SiloPort == 0 ? FreePort() : SiloPort;
        if (Clustering == PostgresProvider)
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = ClusterId;
            });
            silo.Configure<EndpointOptions>(o =>
            {
                o.AdvertisedIPAddress = AdvertisedAddress;
                o.SiloPort = siloPort;
                o.GatewayPort = GatewayPort;
            });
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = ProbeTimeout;
                o.NumMissedProbesLimit = NumMissedProbesLimit;
                o.TableRefreshTimeout = TableRefreshTimeout;
            });
        }
        else
        {
            silo.UseLocalhostClustering(siloPort, GatewayPort, serviceId: ClusterId, clusterId: ClusterId);
            silo.Configure<EndpointOptions>(o => o.GatewayPort = GatewayPort);
        }

        if (UsesPostgres)
        {
            silo.UseFederationPostgres(o =>
            {
                o.ConnectionString = PostgresConnectionString!;
                o.Clustering = Clustering == PostgresProvider;
                o.Reminders = reminders && ReminderProvider == PostgresProvider;
                if (StorageProvider != PostgresProvider)
                {
                    o.GrainStorageNames.Clear();
                }
            });
        }

        silo.Configure<GrainCollectionOptions>(o =>
        {
            o.CollectionAge = CollectionAge;
            o.CollectionQuantum = CollectionQuantum;
            o.DeactivationTimeout = DeactivationTimeout;
        });
        silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = CallTimeout);
        silo.UseProtocolJsonGrainStorageSerializer();
        switch (StorageProvider)
        {
            case FileProvider:
                silo.AddFileGrainStorageAsDefault(o =>
                {
                    o.DataDirectory = DataDirectory;
                    o.ReadOnly = readOnlyState;
                });
                break;
            case MemoryProvider:
                silo.AddMemoryGrainStorageAsDefault();
                break;
        }

        if (!reminders)
        {
            // A command over the data directory: reminders are the running coordinator's business, none fires here.
            silo.UseInMemoryReminderService();
        }
        else if (ReminderProvider == FileProvider)
        {
            silo.UseFileReminderTable(o => o.DataDirectory = DataDirectory);
        }
        else if (ReminderProvider == MemoryProvider)
        {
            silo.UseInMemoryReminderService();
        }

        silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = MinimumReminderPeriod);
        if (OtlpEndpoint is { } endpoint)
        {
            silo.AddActivityPropagation();
            var root = endpoint.ToString().TrimEnd('/');
            silo.Services.AddOpenTelemetry()
                .WithMetrics(m => m.AddMeter(Meters).AddOtlpExporter((o, reader) =>
                {
                    o.Protocol = OtlpExportProtocol.HttpProtobuf;
                    o.Endpoint = new Uri(root + "/v1/metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)MetricsExportInterval.TotalMilliseconds;
                }))
                .WithTracing(t => t.AddSource(ActivitySources).AddOtlpExporter(o =>
                {
                    o.Protocol = OtlpExportProtocol.HttpProtobuf;
                    o.Endpoint = new Uri(root + "/v1/traces");
                }));
        }

        return silo;
    }

    /// <summary>A TCP port free on the loopback interface now (the OS picks it).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using Federation.Core.Crypto;
using Federation.Storage.Governance;
using Federation.Storage.Keys;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Grains.Services;

/// <summary>What a <see cref="CoordinatorHost"/> is started for.</summary>
public enum CoordinatorRole
{
    /// <summary>The running coordinator: validators and epoch rules from configuration, durable reminders (epoch deadlines) fire.</summary>
    Coordinator,

    /// <summary>
    /// One command over the data directory (<c>fed review</c>, <c>fed advisory</c>): no validators are loaded (their keys
    /// need not be on the reviewer's machine) and no durable reminder fires — closing epochs is the coordinator's business.
    /// </summary>
    Command,

    /// <summary>
    /// A reading command (<c>fed review list|show</c>, <c>fed advisory list</c>): as <see cref="Command"/>, and holding no
    /// private key — the scroll store opens read-only, scrolls are verified with the public scroll key and never sealed,
    /// no governance key is loaded — so reading changes nothing and needs no secret.
    /// </summary>
    Reader,
}

/// <summary>
/// A coordinator's Orleans silo over its data directory, in a generic host built from appsettings.json: the
/// <c>Hosting</c> section (<see cref="SiloSettings"/>: grain state under <c>&lt;data&gt;/grains</c>, reminders under
/// <c>&lt;data&gt;/reminders</c>), the <c>Federations</c> section, the scroll store and signing key
/// (<c>Federation:Scrolls:SigningKey</c>, default <c>&lt;data&gt;/keys/scroll.key</c>) and the governance log
/// <c>&lt;data&gt;/META-GOVERNANCE-LOG.md</c>. The CLI starts one per command and stops it after.
/// </summary>
public sealed class CoordinatorHost : IAsyncDisposable
{
    public const string DataDirectorySetting = "Federation:DataDirectory";
    public const string SigningKeySetting = "Federation:Scrolls:SigningKey";

    private readonly FederationDirectory _federations;
    private readonly ValidatorDirectory _validators;

    private CoordinatorHost(IHost host, LedgerDirectory ledgers, FederationDirectory federations, ValidatorDirectory validators, GovernanceLog governanceLog, string dataDirectory)
    {
        Host = host;
        Ledgers = ledgers;
        _federations = federations;
        _validators = validators;
        GovernanceLog = governanceLog;
        DataDirectory = dataDirectory;
    }

    public IHost Host { get; }

    public IGrainFactory Grains => Host.Services.GetRequiredService<IGrainFactory>();

    public LedgerDirectory Ledgers { get; }

    public GovernanceLog GovernanceLog { get; }

    public string DataDirectory { get; }

    public IReadOnlyCollection<string> FederationIds => _federations.Ids;

    /// <summary>
    /// How the process around the silo is built: the generic host (<see cref="GenericHost"/>, for commands and tests) or a
    /// web application (<c>fed serve</c>: the same silo beside the HTTP API). <paramref name="Create"/> makes the builder;
    /// <paramref name="Build"/> builds it once the silo and the federation services are added; <paramref name="ConfigureSilo"/>
    /// adds what only this shape's silo has (the web application's: the dashboard's grain service and call statistics).
    /// </summary>
    public sealed record HostShape(Func<IHostApplicationBuilder> Create, Func<IHostApplicationBuilder, IHost> Build, Action<ISiloBuilder>? ConfigureSilo = null);

    /// <summary>A generic host with nothing of its own: no appsettings.json of the working directory, no environment variables.</summary>
    public static readonly HostShape GenericHost = new(
        () => Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Configuration = new ConfigurationManager() }),
        builder => ((HostApplicationBuilder)builder).Build());

    /// <summary>How often anchor cycles run (a TimeSpan, default 10 minutes; 00:00:00 turns the schedule off).</summary>
    public const string AnchorIntervalSetting = "Anchors:Interval";

    /// <summary>The data directory: <paramref name="dataDirectory"/> (from the command line), else the settings' (relative to them), else <c>./data</c>.</summary>
    public static string DataDirectoryOf(IConfiguration configuration, string baseDirectory, string? dataDirectory) =>
        dataDirectory ?? Path.Combine(baseDirectory, configuration[DataDirectorySetting] ?? configuration[$"{SiloSettings.SectionName}:DataDirectory"] ?? SiloSettings.DefaultDataDirectory);

    /// <summary>The scroll signing key's file: <c>Federation:Scrolls:SigningKey</c> (relative to the settings), else <c>&lt;data&gt;/keys/scroll.key</c>.</summary>
    public static string ScrollKeyPath(IConfiguration configuration, string baseDirectory, string data) =>
        configuration[SigningKeySetting] is { } configuredKey ? Path.Combine(baseDirectory, configuredKey) : Path.Combine(data, "keys", "scroll.key");

    /// <param name="baseDirectory">What relative key file paths of the <c>Federations</c> section are relative to (the settings file's directory).</param>
    /// <param name="dataDirectory">Overrides <c>Federation:DataDirectory</c> and <c>Hosting:DataDirectory</c>.</param>
    /// <param name="configureSilo">Test and benchmark settings applied after the configured ones.</param>
    public static Task<CoordinatorHost> StartAsync(IConfiguration configuration, string baseDirectory, string? dataDirectory = null, CoordinatorRole role = CoordinatorRole.Coordinator, CancellationToken ct = default, Action<ISiloBuilder>? configureSilo = null) =>
        StartAsync(configuration, baseDirectory, GenericHost, dataDirectory, role, ct, configureSilo);

    /// <inheritdoc cref="StartAsync(IConfiguration, string, string?, CoordinatorRole, CancellationToken, Action{ISiloBuilder}?)"/>
    /// <param name="shape">The process around the silo (<see cref="GenericHost"/> or a web application).</param>
    public static async Task<CoordinatorHost> StartAsync(IConfiguration configuration, string baseDirectory, HostShape shape, string? dataDirectory = null, CoordinatorRole role = CoordinatorRole.Coordinator, CancellationToken ct = default, Action<ISiloBuilder>? configureSilo = null)
    {
        // A path in the settings is relative to the settings file (as key files are); one given on the command line, to the working directory.
        var data = DataDirectoryOf(configuration, baseDirectory, dataDirectory);
        var effective = new ConfigurationBuilder()
            .AddConfiguration(configuration)
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"{SiloSettings.SectionName}:DataDirectory"] = data })
            .Build();
        var silo = SiloSettings.Load(effective, data);

        var keyPath = ScrollKeyPath(configuration, baseDirectory, data);
        var reader = role == CoordinatorRole.Reader;
        if (reader && !File.Exists(keyPath))
        {
            // A reader needs only the public half: the private key need not be on the reader's machine.
            keyPath += ".pub";
        }

        if (!File.Exists(keyPath))
        {
            throw new FileNotFoundException($"no scroll signing key at {keyPath}: set {SigningKeySetting} or create one with `fed keys generate --out {keyPath}`", keyPath);
        }

        var federations = FederationsConfiguration.Load(effective, baseDirectory, loadGovernanceKeys: !reader);
        ValidatorDirectory? validators = null;
        EpochOptions epochs;
        Ed25519PrivateKey? scrollKey = null;
        Ed25519PublicKey scrollPublicKey;
        try
        {
            (validators, epochs) = role == CoordinatorRole.Coordinator
                ? ValidatorsConfiguration.Load(effective, baseDirectory, federations)
                : (new ValidatorDirectory(), new EpochOptions());
            scrollKey = reader ? null : KeyFiles.ReadPrivateKey(keyPath);
            scrollPublicKey = scrollKey?.PublicKey ?? KeyFiles.ReadPublicKey(keyPath);
        }
        catch
        {
            validators?.Dispose();
            federations.Dispose();
            throw;
        }

        var store = ScrollStores.Create(new ScrollStoreOptions
        {
            Kind = configuration["Federation:Scrolls:Store"] ?? ScrollStoreOptions.DefaultKind,
            DataDirectory = data,
            ConnectionString = configuration.GetConnectionString("Federation"),
            ReadOnly = reader,
        });
        var ledgerOptions = new ScrollLedgerOptions { OriginPrefix = configuration["Federation:Scrolls:OriginPrefix"] ?? ScrollLedgerOptions.DefaultOriginPrefix }.Validate();
        var ledgers = scrollKey is null
            ? new LedgerDirectory(store, scrollPublicKey, ledgerOptions, TimeProvider.System)
            : new LedgerDirectory(store, scrollKey, ledgerOptions, TimeProvider.System);
        var governanceLog = new GovernanceLog(Path.Combine(data, GovernanceLog.FileName));
        var anchors = new Federation.AnchorOptions
        {
            // As `fed scroll anchor`: Federation:Scrolls:AnchorFile (relative to the settings file), else <data>/merkle/meta_M5.merk.
            AnchorFile = configuration["Federation:Scrolls:AnchorFile"] is { } anchorFile ? Path.Combine(baseDirectory, anchorFile) : Path.Combine(data, "merkle", "meta_M5.merk"),
            Interval = configuration.GetValue(AnchorIntervalSetting, Federation.AnchorOptions.DefaultInterval),
        };
        var builder = shape.Create();
        builder.Configuration.AddConfiguration(effective);
        // A one-shot command answers in one line on stderr: the runtime's warnings (a starved watchdog on a busy
        // machine, for one) would split it, so a command shows errors only. The Logging section overrides both.
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .SetMinimumLevel(role == CoordinatorRole.Coordinator ? LogLevel.Warning : LogLevel.Error)
            .AddConfiguration(effective.GetSection("Logging"));
        builder.UseOrleans(orleans =>
        {
            silo.Apply(orleans, reminders: role == CoordinatorRole.Coordinator, readOnlyState: reader);
            orleans.AddFederationGrains(federations, ledgers, validators, governanceLog, epochs, anchors);
            shape.ConfigureSilo?.Invoke(orleans);
            configureSilo?.Invoke(orleans);
        });
        if (role == CoordinatorRole.Coordinator)
        {
            // Seed E: anchor cycles run on their own.
            builder.Services.AddHostedService<AnchorSchedule>();
        }
        IHost host;
        try
        {
            host = shape.Build(builder);
        }
        catch
        {
            await ledgers.DisposeAsync();
            federations.Dispose();
            validators.Dispose();
            throw;
        }

        try
        {
            await host.StartAsync(ct);
        }
        catch
        {
            host.Dispose();
            await ledgers.DisposeAsync();
            federations.Dispose();
            validators.Dispose();
            throw;
        }

        return new CoordinatorHost(host, ledgers, federations, validators, governanceLog, data);
    }

    /// <summary>Stops gracefully (every activation deactivates), then closes the scrolls and keys.</summary>
    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync(CancellationToken.None);
        Host.Dispose();
        await Ledgers.DisposeAsync();
        _federations.Dispose();
        _validators.Dispose();
    }
}

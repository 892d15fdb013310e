using Federation.Core.Crypto;
using Federation.Hosting;
using Federation.Hosting.Configuration;
using Federation.Hosting.Reminders;
using Federation.Storage.Governance;
using Federation.Storage.Keys;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;
using Microsoft.Extensions.Configuration;

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
}

/// <summary>
/// A coordinator's grain host over its data directory, built from appsettings.json: the <c>Hosting</c> section
/// (grain state under <c>&lt;data&gt;/grains</c>), the <c>Federations</c> section, the scroll store and signing key
/// (<c>Federation:Scrolls:SigningKey</c>, default <c>&lt;data&gt;/keys/scroll.key</c>) and the governance log
/// <c>&lt;data&gt;/META-GOVERNANCE-LOG.md</c>. The CLI starts one per command and stops it after.
/// </summary>
public sealed class CoordinatorHost : IAsyncDisposable
{
    public const string DataDirectorySetting = "Federation:DataDirectory";
    public const string SigningKeySetting = "Federation:Scrolls:SigningKey";

    private readonly FederationDirectory _federations;
    private readonly ValidatorDirectory _validators;

    private CoordinatorHost(GrainHost host, LedgerDirectory ledgers, FederationDirectory federations, ValidatorDirectory validators, GovernanceLog governanceLog, string dataDirectory)
    {
        Host = host;
        Ledgers = ledgers;
        _federations = federations;
        _validators = validators;
        GovernanceLog = governanceLog;
        DataDirectory = dataDirectory;
    }

    public GrainHost Host { get; }

    public IGrainFactory Grains => Host.GrainFactory;

    public LedgerDirectory Ledgers { get; }

    public GovernanceLog GovernanceLog { get; }

    public string DataDirectory { get; }

    public IReadOnlyCollection<string> FederationIds => _federations.Ids;

    /// <param name="baseDirectory">What relative key file paths of the <c>Federations</c> section are relative to (the settings file's directory).</param>
    /// <param name="dataDirectory">Overrides <c>Federation:DataDirectory</c> and <c>Hosting:DataDirectory</c>.</param>
    public static async Task<CoordinatorHost> StartAsync(IConfiguration configuration, string baseDirectory, string? dataDirectory = null, CoordinatorRole role = CoordinatorRole.Coordinator, CancellationToken ct = default)
    {
        var data = dataDirectory ?? configuration[DataDirectorySetting] ?? GrainStorageOptions.DefaultDataDirectory;
        var effective = new ConfigurationBuilder()
            .AddConfiguration(configuration)
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"{GrainStorageOptions.SectionName}:DataDirectory"] = data })
            .Build();

        var keyPath = configuration[SigningKeySetting] ?? Path.Combine(data, "keys", "scroll.key");
        if (!File.Exists(keyPath))
        {
            throw new FileNotFoundException($"no scroll signing key at {keyPath}: set {SigningKeySetting} or create one with `fed keys generate --out {keyPath}`", keyPath);
        }

        var federations = FederationsConfiguration.Load(effective, baseDirectory);
        ValidatorDirectory? validators = null;
        EpochOptions epochs;
        Ed25519PrivateKey scrollKey;
        try
        {
            (validators, epochs) = role == CoordinatorRole.Coordinator
                ? ValidatorsConfiguration.Load(effective, baseDirectory, federations)
                : (new ValidatorDirectory(), new EpochOptions());
            scrollKey = KeyFiles.ReadPrivateKey(keyPath);
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
        });
        var ledgerOptions = new ScrollLedgerOptions { OriginPrefix = configuration["Federation:Scrolls:OriginPrefix"] ?? ScrollLedgerOptions.DefaultOriginPrefix }.Validate();
        var ledgers = new LedgerDirectory(store, scrollKey, ledgerOptions, TimeProvider.System);
        var governanceLog = new GovernanceLog(Path.Combine(data, GovernanceLog.FileName));
        var builder = new GrainHostBuilder(effective).AddFederationGrains(federations, ledgers, validators, governanceLog, epochs);
        if (role == CoordinatorRole.Command)
        {
            builder.UseReminderTable(new MemoryReminderTable());
        }

        var host = builder.Build();
        try
        {
            await host.StartAsync(ct);
        }
        catch
        {
            await host.DisposeAsync();
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
        await Host.DisposeAsync();
        await Ledgers.DisposeAsync();
        _federations.Dispose();
        _validators.Dispose();
    }
}

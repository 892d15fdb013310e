using Federation.Hosting.Configuration;
using Federation.Hosting.Persistence;
using Federation.Hosting.Reminders;
using Federation.Hosting.Runtime;
using Federation.Hosting.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Federation.Hosting;

/// <summary>
/// Builds a <see cref="GrainHost"/> (Orleans' silo builder): grain classes, scheduler, storage and reminder
/// providers, options bound from configuration (<c>Hosting</c> and <c>Telemetry</c> sections of
/// appsettings.json) and validated when the host starts.
/// </summary>
public sealed class GrainHostBuilder
{
    private readonly List<GrainRegistration> _grains = [];

    public GrainHostBuilder(IConfiguration? configuration = null)
    {
        Configuration = configuration ?? new ConfigurationBuilder().Build();
        Services.AddLogging();
        Bind<GrainStorageOptions>(GrainStorageOptions.SectionName, o => o.Validate());
        Bind<GrainCollectionOptions>(GrainCollectionOptions.SectionName, o => o.Validate());
        Bind<GrainMessagingOptions>(GrainMessagingOptions.SectionName, o => o.Validate());
        Bind<ReminderOptions>(ReminderOptions.SectionName, o => o.Validate());
        Bind<TelemetryOptions>(TelemetryOptions.SectionName, o => o.Validate());
    }

    public IServiceCollection Services { get; } = new ServiceCollection();

    public IConfiguration Configuration { get; }

    /// <summary>Registers a grain class for every grain interface it implements.</summary>
    public GrainHostBuilder AddGrain<TGrain>()
        where TGrain : Grain
    {
        var interfaces = typeof(TGrain).GetInterfaces()
            .Where(i => typeof(IGrainWithStringKey).IsAssignableFrom(i) && i != typeof(IGrainWithStringKey))
            .ToList();
        if (interfaces.Count == 0)
        {
            throw new ArgumentException($"{typeof(TGrain).Name} implements no grain interface (an interface deriving from IGrainWithStringKey)");
        }

        _grains.Add(new GrainRegistration(typeof(TGrain), interfaces));
        return this;
    }

    /// <summary>Changes options in code, after configuration binding (tests, the test cluster, benchmarks).</summary>
    public GrainHostBuilder Configure<TOptions>(Action<TOptions> configure)
        where TOptions : class
    {
        Services.Configure(configure);
        return this;
    }

    /// <summary>Runs turns on the deterministic simulation scheduler (one thread, seeded order, virtual time).</summary>
    public GrainHostBuilder UseSimulation(SimulationScheduler scheduler)
    {
        Services.Replace(ServiceDescriptor.Singleton<IGrainScheduler>(scheduler));
        return this;
    }

    /// <summary>Runs turns on the thread pool (the default) with the given clock.</summary>
    public GrainHostBuilder UseThreadPool(TimeProvider? timeProvider = null)
    {
        Services.Replace(ServiceDescriptor.Singleton<IGrainScheduler>(new ThreadPoolGrainScheduler(timeProvider ?? TimeProvider.System)));
        return this;
    }

    /// <summary>Adds (or replaces) the grain storage named <paramref name="name"/>.</summary>
    public GrainHostBuilder AddGrainStorage(string name, IGrainStorage storage)
    {
        Services.AddKeyedSingleton(name, storage);
        return this;
    }

    /// <summary>Uses <paramref name="table"/> for reminders instead of the configured provider.</summary>
    public GrainHostBuilder UseReminderTable(IReminderTable table)
    {
        Services.Replace(ServiceDescriptor.Singleton(table));
        return this;
    }

    public GrainHost Build()
    {
        var services = new ServiceCollection { Services };
        services.TryAddSingleton<IGrainScheduler>(_ => new ThreadPoolGrainScheduler(TimeProvider.System));
        services.TryAddKeyedSingleton<IGrainStorage>(GrainStorageOptions.DefaultStorageName, (provider, _) =>
            CreateStorage(provider.GetRequiredService<IOptions<GrainStorageOptions>>().Value, GrainStorageOptions.DefaultStorageName));
        services.TryAddSingleton<IReminderTable>(provider => CreateReminderTable(provider.GetRequiredService<IOptions<GrainStorageOptions>>().Value));
        services.AddSingleton(new GrainRegistrations(_grains.ToList()));
        return new GrainHost(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }));
    }

    private static IGrainStorage CreateStorage(GrainStorageOptions options, string name) => options.StorageProvider switch
    {
        GrainStorageOptions.FileProvider => new FileGrainStorage(Path.Combine(options.DataDirectory, "grains", name)),
        GrainStorageOptions.PostgresProvider => new PostgresGrainStorage(options.PostgresConnectionString!, name),
        _ => new MemoryGrainStorage(),
    };

    private static IReminderTable CreateReminderTable(GrainStorageOptions options) => options.ReminderProvider switch
    {
        GrainStorageOptions.FileProvider => new FileReminderTable(Path.Combine(options.DataDirectory, "reminders")),
        GrainStorageOptions.PostgresProvider => new PostgresReminderTable(options.PostgresConnectionString!),
        _ => new MemoryReminderTable(),
    };

    private void Bind<TOptions>(string section, Func<TOptions, IEnumerable<string>> validate)
        where TOptions : class
    {
        Services.AddOptions<TOptions>().Bind(Configuration.GetSection(section));
        Services.AddSingleton<IValidateOptions<TOptions>>(new OptionsValidator<TOptions>(validate));
    }

    private sealed class OptionsValidator<TOptions>(Func<TOptions, IEnumerable<string>> validate) : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? name, TOptions options)
        {
            var failures = validate(options).ToList();
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}

internal sealed record GrainRegistrations(IReadOnlyList<GrainRegistration> Grains);

using Federation.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Runtime;
using Orleans.Storage;

namespace Federation.Storage.Orleans;

/// <summary>
/// Wiring of Orleans' ADO.NET providers on the project's PostgreSQL schema (docs/formats/grain-state.md): the
/// schema is created or upgraded when the silo starts, before any provider reads it; clustering, grain storage
/// (with <see cref="ProtocolJsonGrainStorageSerializer"/>, never Newtonsoft <c>$type</c>) and reminders use the
/// invariant <see cref="OrleansPostgresSchema.Invariant"/>.
/// </summary>
public static class PostgresSiloBuilderExtensions
{
    /// <summary>Clustering, the default grain storage and reminders in the database <paramref name="connectionString"/> names.</summary>
    public static ISiloBuilder UseFederationPostgres(this ISiloBuilder builder, string connectionString) =>
        builder.UseFederationPostgres(o => o.ConnectionString = connectionString);

    /// <summary>What <paramref name="configureOptions"/> selects of clustering, grain storages and reminders, in one database.</summary>
    public static ISiloBuilder UseFederationPostgres(this ISiloBuilder builder, Action<PostgresProvidersOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(configureOptions);
        var options = new PostgresProvidersOptions();
        configureOptions(options);
        PostgresProvidersOptionsValidator.Validate(options);

        builder.AddFederationPostgresSchema(options.ConnectionString, options.MigrationStage);
        if (options.Clustering)
        {
            builder.UseFederationPostgresClustering(options.ConnectionString);
        }

        foreach (var name in options.GrainStorageNames)
        {
            builder.AddFederationPostgresGrainStorage(name, options.ConnectionString);
        }

        if (options.Reminders)
        {
            builder.UseFederationPostgresReminders(options.ConnectionString);
        }

        return builder;
    }

    /// <summary>
    /// Migrates <see cref="OrleansPostgresSchema"/> in the database at <paramref name="stage"/> of the silo's start
    /// (every other extension here calls it; a database named twice is migrated once, at the earliest stage asked for).
    /// </summary>
    public static ISiloBuilder AddFederationPostgresSchema(this ISiloBuilder builder, string connectionString, int stage = PostgresProvidersOptions.DefaultMigrationStage)
    {
        PostgresProvidersOptionsValidator.Validate(new PostgresProvidersOptions { ConnectionString = connectionString, MigrationStage = stage });
        builder.Services.Configure<PostgresSchemaMigrationOptions>(o =>
        {
            o.ConnectionStrings.Add(connectionString);
            o.Stage = Math.Min(o.Stage, stage);
        });
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, PostgresSchemaMigration>());
        return builder;
    }

    /// <summary>Orleans' cluster membership in the database (<c>UseAdoNetClustering</c>), with its schema.</summary>
    public static ISiloBuilder UseFederationPostgresClustering(this ISiloBuilder builder, string connectionString) =>
        builder.AddFederationPostgresSchema(connectionString)
            .UseAdoNetClustering(o =>
            {
                o.Invariant = OrleansPostgresSchema.Invariant;
                o.ConnectionString = connectionString;
            });

    /// <summary>Orleans' reminder service over the database (<c>UseAdoNetReminderService</c>), with its schema.</summary>
    public static ISiloBuilder UseFederationPostgresReminders(this ISiloBuilder builder, string connectionString) =>
        builder.AddFederationPostgresSchema(connectionString)
            .UseAdoNetReminderService(o =>
            {
                o.Invariant = OrleansPostgresSchema.Invariant;
                o.ConnectionString = connectionString;
            });

    /// <summary>
    /// ADO.NET grain storage named <paramref name="name"/> (the <c>storageName</c> of <c>[PersistentState]</c>) with the
    /// protocol JSON serializer, as a <see cref="PostgresGrainStorage"/>, with its schema.
    /// </summary>
    public static ISiloBuilder AddFederationPostgresGrainStorage(this ISiloBuilder builder, string name, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.AddFederationPostgresSchema(connectionString);
        builder.Services.AddAdoNetGrainStorage(name, ob => ob.Configure(o =>
        {
            o.Invariant = OrleansPostgresSchema.Invariant;
            o.ConnectionString = connectionString;
            o.GrainStorageSerializer = ProtocolJsonGrainStorageSerializer.Instance;
        }));

        // Orleans registered the AdoNetGrainStorage under the name; the same storage, wrapped, takes its place. The
        // lifecycle participant and the default-storage alias Orleans registered resolve the keyed service, so
        // they reach the wrapper, which passes Participate on.
        var registered = builder.Services.Last(d => d.IsKeyedService && d.ServiceType == typeof(IGrainStorage) && Equals(d.ServiceKey, name));
        builder.Services.Remove(registered);
        builder.Services.AddKeyedSingleton<IGrainStorage>(name, (sp, _) => new PostgresGrainStorage(name, AdoNetGrainStorageFactory.Create(sp, name)));
        return builder;
    }

    /// <summary>The PostgreSQL grain storage as the default storage (<see cref="ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME"/>, "Default").</summary>
    public static ISiloBuilder AddFederationPostgresGrainStorageAsDefault(this ISiloBuilder builder, string connectionString) =>
        builder.AddFederationPostgresGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, connectionString);

    /// <summary>
    /// A client that finds gateways in the database's membership table (<c>UseAdoNetClustering</c>). Clients do not
    /// migrate: a silo must have created the schema.
    /// </summary>
    public static IClientBuilder UseFederationPostgresClustering(this IClientBuilder builder, string connectionString)
    {
        var problem = PostgresProvidersOptionsValidator.ConnectionStringProblem(connectionString);
        if (problem is not null)
        {
            throw new OrleansConfigurationException($"Invalid PostgreSQL clustering for the client: {problem}.");
        }

        return builder.UseAdoNetClustering(o =>
        {
            o.Invariant = OrleansPostgresSchema.Invariant;
            o.ConnectionString = connectionString;
        });
    }
}

using Federation.Storage.Postgres;
using Npgsql;
using Orleans.Providers;
using Orleans.Runtime;

namespace Federation.Storage.Orleans;

/// <summary>
/// What <see cref="PostgresSiloBuilderExtensions.UseFederationPostgres(global::Orleans.Hosting.ISiloBuilder, Action{PostgresProvidersOptions})"/>
/// wires: Orleans' ADO.NET clustering, grain storage and reminders on one PostgreSQL database, whose schema
/// (<see cref="OrleansPostgresSchema"/>) the silo creates or upgrades when it starts.
/// </summary>
public sealed class PostgresProvidersOptions
{
    /// <summary>
    /// Before the runtime initializes: membership reads its table at <see cref="ServiceLifecycleStage.RuntimeGrainServices"/>,
    /// grain storage at <see cref="ServiceLifecycleStage.ApplicationServices"/>; the reminder service after both.
    /// </summary>
    public const int DefaultMigrationStage = ServiceLifecycleStage.RuntimeInitialize;

    /// <summary>The Npgsql connection string (required); the role needs CREATE on the database for the first start.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>Orleans' cluster membership in the database (<c>UseAdoNetClustering</c>).</summary>
    public bool Clustering { get; set; } = true;

    /// <summary>Orleans' reminder service over the database (<c>UseAdoNetReminderService</c>).</summary>
    public bool Reminders { get; set; } = true;

    /// <summary>
    /// The grain storages to register (the <c>storageName</c> of <c>[PersistentState]</c>), each with the protocol
    /// JSON serializer; <see cref="ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME"/> ("Default") is also the silo's
    /// default storage. Empty: no grain storage.
    /// </summary>
    public IList<string> GrainStorageNames { get; } = [ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME];

    /// <summary>The silo lifecycle stage at which the schema is migrated; before <see cref="ServiceLifecycleStage.RuntimeGrainServices"/>.</summary>
    public int MigrationStage { get; set; } = DefaultMigrationStage;
}

/// <summary>Rejects unusable <see cref="PostgresProvidersOptions"/> when the silo is configured, saying which setting and why.</summary>
public static class PostgresProvidersOptionsValidator
{
    public static PostgresProvidersOptions Validate(PostgresProvidersOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problem = ConnectionStringProblem(options.ConnectionString);
        if (problem is null && options.GrainStorageNames.Any(string.IsNullOrWhiteSpace))
        {
            problem = $"{nameof(PostgresProvidersOptions.GrainStorageNames)} has an empty name";
        }
        else if (problem is null && options.GrainStorageNames.Distinct(StringComparer.Ordinal).Count() != options.GrainStorageNames.Count)
        {
            problem = $"{nameof(PostgresProvidersOptions.GrainStorageNames)} names a storage twice ({string.Join(", ", options.GrainStorageNames)})";
        }
        else if (problem is null && options.MigrationStage >= ServiceLifecycleStage.RuntimeGrainServices)
        {
            problem = $"{nameof(PostgresProvidersOptions.MigrationStage)} {options.MigrationStage} is not before membership reads its table ({ServiceLifecycleStage.RuntimeGrainServices})";
        }

        if (problem is not null)
        {
            throw new OrleansConfigurationException($"Invalid {nameof(PostgresProvidersOptions)}: {problem}.");
        }

        return options;
    }

    /// <summary>Null if <paramref name="connectionString"/> is a usable Npgsql connection string, else why not.</summary>
    internal static string? ConnectionStringProblem(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return $"{nameof(PostgresProvidersOptions.ConnectionString)} is required (an Npgsql connection string)";
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
            return null;
        }
        catch (ArgumentException ex)
        {
            return $"{nameof(PostgresProvidersOptions.ConnectionString)} is not an Npgsql connection string ({ex.Message})";
        }
    }
}

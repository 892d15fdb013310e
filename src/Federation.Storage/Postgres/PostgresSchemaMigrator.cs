using Npgsql;

namespace Federation.Storage.Postgres;

/// <summary>
/// One part of the database's schema with a version of its own (scrolls, Orleans' tables, the old grain host's
/// tables): its row in <c>fed_schema_version</c> and the steps that build it. Step <c>i</c> (from 0) brings the
/// component from version <c>i</c> to <c>i + 1</c>, so <see cref="CurrentVersion"/> is the number of steps.
/// </summary>
public sealed class PostgresSchemaComponent
{
    public PostgresSchemaComponent(string name, IReadOnlyList<string> steps)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Count == 0 || steps.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException($"schema component \"{name}\" needs at least one step and no empty step", nameof(steps));
        }

        Name = name;
        Steps = steps;
    }

    /// <summary>The row of <c>fed_schema_version</c> this component owns.</summary>
    public string Name { get; }

    public IReadOnlyList<string> Steps { get; }

    /// <summary>The version this build creates and understands.</summary>
    public int CurrentVersion => Steps.Count;
}

/// <summary>What a migration found and left: equal versions when nothing had to run.</summary>
public readonly record struct PostgresMigrationResult(string Component, int FromVersion, int ToVersion)
{
    public bool Changed => FromVersion != ToVersion;
}

/// <summary>
/// The database holds a component at a version newer than this build knows: a newer build migrated it. This
/// build must not read or write tables whose meaning it does not know, so it stops.
/// </summary>
public sealed class PostgresSchemaTooNewException(string component, int databaseVersion, int knownVersion)
    : InvalidOperationException(
        $"the database's \"{component}\" schema is version {databaseVersion}, newer than this build knows (version {knownVersion}); " +
        "upgrade the software before using this database")
{
    public string Component { get; } = component;

    public int DatabaseVersion { get; } = databaseVersion;

    public int KnownVersion { get; } = knownVersion;
}

/// <summary>
/// The one way the product creates and upgrades its PostgreSQL tables (docs/formats/scroll-storage.md,
/// docs/formats/grain-state.md): in one transaction, under a transaction-scoped advisory lock that every
/// component shares, the component's version is read from <c>fed_schema_version</c> and the steps after it run,
/// each recording the version it reached. Processes starting together queue on the lock; the second finds the
/// work done. A failed step rolls everything back, so a database is always at one whole version.
/// </summary>
public static class PostgresSchemaMigrator
{
    /// <summary>pg_advisory_xact_lock key shared by every Federation migration: ASCII "fedmigr0".</summary>
    public const long MigrationLockKey = 0x6665646d69677230;

    public const string VersionTableDdl = """
        CREATE TABLE IF NOT EXISTS fed_schema_version (
            component  text PRIMARY KEY,
            version    integer NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        """;

    /// <summary>Creates or upgrades <paramref name="component"/>; idempotent; refuses a database newer than this build.</summary>
    /// <exception cref="PostgresSchemaTooNewException">The database's version of the component is above <see cref="PostgresSchemaComponent.CurrentVersion"/>.</exception>
    public static async Task<PostgresMigrationResult> MigrateAsync(NpgsqlDataSource dataSource, PostgresSchemaComponent component, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(component);
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using (var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
        {
            command.Parameters.AddWithValue("key", MigrationLockKey);
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await using (var command = new NpgsqlCommand(VersionTableDdl, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        int found;
        await using (var command = new NpgsqlCommand("SELECT version FROM fed_schema_version WHERE component = @component", connection, transaction))
        {
            command.Parameters.AddWithValue("component", component.Name);
            found = await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is int version ? version : 0;
        }

        if (found > component.CurrentVersion)
        {
            throw new PostgresSchemaTooNewException(component.Name, found, component.CurrentVersion);
        }

        for (var version = found + 1; version <= component.CurrentVersion; version++)
        {
            await using (var step = new NpgsqlCommand(component.Steps[version - 1], connection, transaction))
            {
                await step.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            await using var record = new NpgsqlCommand(
                """
                INSERT INTO fed_schema_version (component, version) VALUES (@component, @version)
                ON CONFLICT (component) DO UPDATE SET version = excluded.version, applied_at = now()
                """,
                connection, transaction);
            record.Parameters.AddWithValue("component", component.Name);
            record.Parameters.AddWithValue("version", version);
            await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return new PostgresMigrationResult(component.Name, found, component.CurrentVersion);
    }
}

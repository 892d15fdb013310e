using Npgsql;

namespace Federation.Hosting.Persistence;

/// <summary>
/// The grain host's PostgreSQL schema (docs/formats/grain-state.md), created and migrated by the host itself:
/// each component records its version in <c>fed_schema_version</c> and runs the steps it has not run yet.
/// </summary>
public static class PostgresSchema
{
    public const int GrainStateVersion = 1;
    public const int RemindersVersion = 1;

    private const string VersionTable = """
        CREATE TABLE IF NOT EXISTS fed_schema_version (
            component text PRIMARY KEY,
            version integer NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now());
        """;

    /// <summary>Version 1 of grain state: one row per (storage, grain type, key, state), versioned like Orleans' ADO.NET scripts.</summary>
    private const string GrainStateV1 = """
        CREATE TABLE IF NOT EXISTS grain_state (
            storage_name text NOT NULL,
            grain_type text NOT NULL,
            grain_key text NOT NULL,
            state_name text NOT NULL,
            version bigint NOT NULL,
            payload jsonb NULL,
            modified_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (storage_name, grain_type, grain_key, state_name));
        """;

    private const string RemindersV1 = """
        CREATE TABLE IF NOT EXISTS grain_reminders (
            grain_type text NOT NULL,
            grain_key text NOT NULL,
            reminder_name text NOT NULL,
            start_at timestamptz NOT NULL,
            period_ms bigint NOT NULL,
            next_due timestamptz NOT NULL,
            version bigint NOT NULL,
            PRIMARY KEY (grain_type, grain_key, reminder_name));
        """;

    public static Task EnsureGrainStateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        EnsureAsync(dataSource, "grain_state", [GrainStateV1], cancellationToken);

    public static Task EnsureRemindersAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        EnsureAsync(dataSource, "grain_reminders", [RemindersV1], cancellationToken);

    private static async Task EnsureAsync(NpgsqlDataSource dataSource, string component, IReadOnlyList<string> steps, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // One migrator at a time per database, whatever the number of hosts starting together; the key is the
        // scroll store's too, so grain and scroll migrations never race on fed_schema_version.
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({Federation.Storage.Scrolls.PostgresScrollSchema.MigrationLockKey})", connection, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var create = new NpgsqlCommand(VersionTable, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        int current;
        await using (var read = new NpgsqlCommand("SELECT version FROM fed_schema_version WHERE component = @c", connection, transaction))
        {
            read.Parameters.AddWithValue("c", component);
            current = await read.ExecuteScalarAsync(cancellationToken) is int v ? v : 0;
        }

        if (current > steps.Count)
        {
            throw new InvalidOperationException($"database schema of {component} is version {current}; this build knows versions up to {steps.Count}: upgrade the product");
        }

        for (var version = current + 1; version <= steps.Count; version++)
        {
            await using var step = new NpgsqlCommand(steps[version - 1], connection, transaction);
            await step.ExecuteNonQueryAsync(cancellationToken);
            await using var record = new NpgsqlCommand(
                "INSERT INTO fed_schema_version (component, version) VALUES (@c, @v) ON CONFLICT (component) DO UPDATE SET version = excluded.version, applied_at = now()",
                connection, transaction);
            record.Parameters.AddWithValue("c", component);
            record.Parameters.AddWithValue("v", version);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}

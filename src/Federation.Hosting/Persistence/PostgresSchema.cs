using Federation.Storage.Postgres;
using Npgsql;

namespace Federation.Hosting.Persistence;

/// <summary>
/// The grain host's PostgreSQL schema (docs/formats/grain-state.md), created and migrated by the host itself through
/// <see cref="PostgresSchemaMigrator"/>: each component records its version in <c>fed_schema_version</c> and runs
/// the steps it has not run yet.
/// </summary>
public static class PostgresSchema
{
    public const int GrainStateVersion = 1;
    public const int RemindersVersion = 1;

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
        PostgresSchemaMigrator.MigrateAsync(dataSource, new PostgresSchemaComponent("grain_state", [GrainStateV1]), cancellationToken);

    public static Task EnsureRemindersAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        PostgresSchemaMigrator.MigrateAsync(dataSource, new PostgresSchemaComponent("grain_reminders", [RemindersV1]), cancellationToken);
}

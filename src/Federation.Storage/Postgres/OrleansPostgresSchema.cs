using System.Reflection;
using Npgsql;

namespace Federation.Storage.Postgres;

/// <summary>
/// The project's PostgreSQL schema for Orleans' ADO.NET clustering, grain storage and reminders (Microsoft.Orleans
/// .Clustering.AdoNet, .Persistence.AdoNet and .Reminders.AdoNet, invariant "Npgsql"; docs/formats/grain-state.md).
/// Orleans ships no schema: its providers read their statements from the <c>OrleansQuery</c> table by key. The
/// tables, functions and statements here are the project's own (written against Orleans' contract, not copied
/// from its scripts), kept as SQL files embedded in this assembly (Postgres/Sql) and applied as the "orleans"
/// component of <c>fed_schema_version</c> by <see cref="PostgresSchemaMigrator"/>.
/// </summary>
public static class OrleansPostgresSchema
{
    /// <summary>The row of <c>fed_schema_version</c> this schema owns.</summary>
    public const string Component = "orleans";

    /// <summary>The ADO.NET invariant name the providers are configured with.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>The files of each version, in the order they run (the statement table first).</summary>
    private static readonly string[][] VersionFiles =
    [
        ["orleans-v1-queries.sql", "orleans-v1-clustering.sql", "orleans-v1-persistence.sql", "orleans-v1-reminders.sql"],
    ];

    /// <summary>The schema as a versioned component; step <c>i</c> is version <c>i + 1</c>'s files, concatenated.</summary>
    public static PostgresSchemaComponent Schema { get; } = new(Component, VersionFiles.Select(files => string.Join("\n", files.Select(ReadSql))).ToArray());

    /// <summary>The version this build creates and understands.</summary>
    public static int CurrentVersion => Schema.CurrentVersion;

    /// <summary>Creates or upgrades the schema; idempotent; safe when several silos start together.</summary>
    /// <exception cref="PostgresSchemaTooNewException">A newer build migrated the database.</exception>
    public static Task<PostgresMigrationResult> MigrateAsync(NpgsqlDataSource dataSource, CancellationToken ct) =>
        PostgresSchemaMigrator.MigrateAsync(dataSource, Schema, ct);

    /// <summary>Creates or upgrades the schema of the database <paramref name="connectionString"/> names.</summary>
    public static async Task<PostgresMigrationResult> MigrateAsync(string connectionString, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        return await MigrateAsync(dataSource, ct).ConfigureAwait(false);
    }

    /// <summary>One embedded SQL file's text.</summary>
    internal static string ReadSql(string file)
    {
        var name = $"{typeof(OrleansPostgresSchema).Namespace}.Sql.{file}";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"the embedded SQL file {name} is missing from {Assembly.GetExecutingAssembly().GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

using Federation.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans;
using Orleans.Runtime;

namespace Federation.Storage.Orleans;

/// <summary>The databases whose Orleans schema the silo migrates when it starts, and when.</summary>
public sealed class PostgresSchemaMigrationOptions
{
    /// <summary>Connection strings, one per database (a repeated one is migrated once).</summary>
    public IList<string> ConnectionStrings { get; } = [];

    public int Stage { get; set; } = PostgresProvidersOptions.DefaultMigrationStage;
}

/// <summary>
/// Creates or upgrades <see cref="OrleansPostgresSchema"/> in each configured database at an early silo lifecycle
/// stage, before Orleans' ADO.NET providers read their statements; a database a newer build migrated stops the
/// silo (<see cref="PostgresSchemaTooNewException"/>, naming both versions).
/// </summary>
internal sealed partial class PostgresSchemaMigration(IOptions<PostgresSchemaMigrationOptions> options, ILogger<PostgresSchemaMigration> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaMigration), options.Value.Stage, MigrateAsync);

    private async Task MigrateAsync(CancellationToken ct)
    {
        foreach (var connectionString in options.Value.ConnectionStrings.Distinct(StringComparer.Ordinal))
        {
            var database = new NpgsqlConnectionStringBuilder(connectionString) { Password = null }.ToString();
            var result = await OrleansPostgresSchema.MigrateAsync(connectionString, ct).ConfigureAwait(false);
            if (result.Changed)
            {
                LogMigrated(database, result.Component, result.FromVersion, result.ToVersion);
            }
            else
            {
                LogCurrent(database, result.Component, result.ToVersion);
            }
        }
    }

    [LoggerMessage(4120, LogLevel.Information, "PostgreSQL {Database}: migrated the {Component} schema from version {From} to {To}")]
    private partial void LogMigrated(string database, string component, int from, int to);

    [LoggerMessage(4121, LogLevel.Information, "PostgreSQL {Database}: the {Component} schema is at version {Version}")]
    private partial void LogCurrent(string database, string component, int version);
}

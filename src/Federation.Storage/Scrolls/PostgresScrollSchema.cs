using Npgsql;

namespace Federation.Storage.Scrolls;

/// <summary>
/// The scroll tables (docs/formats/scroll-storage.md), created and migrated by the project. Migration runs in one
/// transaction under an advisory lock, so processes starting together neither race nor fail.
/// </summary>
public static class PostgresScrollSchema
{
    /// <summary>The row of <c>fed_schema_version</c> this store owns; other stores own their own components.</summary>
    public const string Component = "scrolls";

    public const int CurrentVersion = 1;

    /// <summary>pg_advisory_xact_lock key shared by every Federation migration: ASCII "fedmigr0".</summary>
    public const long MigrationLockKey = 0x6665646d69677230;

    public const string VersionTableDdl = """
        CREATE TABLE IF NOT EXISTS fed_schema_version (
            component  text PRIMARY KEY,
            version    integer NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        """;

    /// <summary>Version 1. scroll_lines has no foreign key: it would cost a check per inserted line.</summary>
    public const string Version1Ddl = """
        CREATE TABLE IF NOT EXISTS scroll_heads (
            scroll     text COLLATE "C" PRIMARY KEY,
            size       bigint NOT NULL CHECK (size >= 0),
            generation bigint NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS scroll_lines (
            scroll text COLLATE "C" NOT NULL,
            seq    bigint NOT NULL CHECK (seq >= 0),
            line   bytea NOT NULL CHECK (length(line) > 0),
            PRIMARY KEY (scroll, seq)
        );
        CREATE TABLE IF NOT EXISTS scroll_checkpoints (
            id          bigserial PRIMARY KEY,
            scroll      text COLLATE "C" NOT NULL REFERENCES scroll_heads (scroll),
            size        bigint NOT NULL CHECK (size >= 0),
            note        text NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS scroll_checkpoints_by_scroll ON scroll_checkpoints (scroll, id);
        CREATE TABLE IF NOT EXISTS scroll_truncations (
            id           bigserial PRIMARY KEY,
            scroll       text COLLATE "C" NOT NULL REFERENCES scroll_heads (scroll),
            old_size     bigint NOT NULL,
            new_size     bigint NOT NULL,
            truncated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS scroll_quarantine (
            truncation_id bigint NOT NULL REFERENCES scroll_truncations (id),
            scroll        text COLLATE "C" NOT NULL,
            seq           bigint NOT NULL,
            line          bytea NOT NULL,
            PRIMARY KEY (truncation_id, seq)
        );
        """;

    /// <summary>Creates or upgrades the tables; idempotent; refuses a database newer than this build.</summary>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
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

        int? version;
        await using (var command = new NpgsqlCommand("SELECT version FROM fed_schema_version WHERE component = @component", connection, transaction))
        {
            command.Parameters.AddWithValue("component", Component);
            version = (int?)await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
        }

        if (version > CurrentVersion)
        {
            throw new InvalidOperationException($"the database's {Component} schema is version {version}, newer than this build understands ({CurrentVersion}); upgrade the software");
        }

        if (version is null)
        {
            await using (var command = new NpgsqlCommand(Version1Ddl, connection, transaction))
            {
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            await using var record = new NpgsqlCommand("INSERT INTO fed_schema_version (component, version) VALUES (@component, @version)", connection, transaction);
            record.Parameters.AddWithValue("component", Component);
            record.Parameters.AddWithValue("version", CurrentVersion);
            await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }
}
